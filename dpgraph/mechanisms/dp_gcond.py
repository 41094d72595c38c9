"""`dp-gcond`: graph condensation by gradient matching, where every read of the private graph is node-level DP.

Released: ``nodes_per_class`` synthetic nodes per class, or ``ratio`` times the number of training nodes shared
equally among the classes (labels fixed by the config and the public split size, so no class count is read),
features X' and (non-private ``adjacency: mlp``) GCond's generated edges. Each outer step draws a fresh matching
model (SGC linear layer or MLP) and runs ``matching_steps`` updates of X' against the real per-class gradients
(asked once per outer step when the model is not trained in between, ``model_steps: 0``).

Private mode, privacy unit ``node`` (only the labelled training nodes are read, each alone, no edge is read) or
``attributes`` (one node's features and label replaced; the edges are public, so subgraph units may be built from
them with any sampler):

- stage ``init`` (``init: class-means``): the per-class sums of unit-L2 features, S_c = sum_{u in c} x_u/||x_u||,
  L2 sensitivity 1 under add/remove (node) and 2 under replace-one (attributes: one unit vector leaves its class,
  another enters; :func:`~dpgraph.privacy.units.sum_sensitivity`), one Gaussian release (``GaussianEvent``); X'
  starts as jittered copies of max(S_c + noise, 0) (:func:`~dpgraph.condensation.init.jittered_copies`; the jitter
  is public noise). ``init: unit-means``: the per-class sums of the oracle's unit rows instead (below: with subgraph
  units, the roots' propagated features), L2 sensitivity 1 for add/remove one-node units and 2K when a neighbour
  modifies at most K units (:func:`~dpgraph.privacy.units.rows_sum_sensitivity`). With ``init: random`` X' is
  public Gaussian noise and this stage records nothing.
- stage ``match``: :class:`~dpgraph.condensation.private_oracle.NoisyClassGradients` over the units of
  ``sampler``. ``hops: 0`` (default): one unit per labelled training node, its unit-L2 features, no edge read; each
  query is a Poisson-subsampled Gaussian step with rate ``sample_rate`` and clip ``clip_norm``: add/remove with
  sensitivity ``clip_norm`` (node), or the K-occurrence step with K = 1 (attributes: the replaced node's row is
  modified, by up to ``2 clip_norm``). Subgraph units (node unit: ``ego`` with ``hops >= 1`` and a public
  ``max_degree`` promise; attributes unit: also ``ego`` without a promise, or ``random-walk``): one unit per rooted
  subgraph, its row the root's ``k``-step propagated unit-L2 features within the subgraph (rescaled to unit norm),
  and the K-occurrence event with K from the sampler. ``sigma`` is calibrated over the exact number of queries
  (:attr:`DPGCondParams.queries`), on top of the ``init`` event, and the composed event is recorded.

The synthetic adjacency is the identity (a learnt adjacency would need real structure, which no query reveals).
Every update of X' is post-processing of the noisy answers.

Non-private mode (``epsilon: null``): the GCond reference, with exact per-class gradients on ``Â^k X`` over the real
graph; X' from random noise, real training nodes (``real-sample``) or the exact class sums; optionally GCond's
generated adjacency.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from torch import Tensor

from dpgraph.condensation import (
    CondenseSettings,
    ExactClassGradients,
    SyntheticGraph,
    condense,
    jittered_copies,
    random_features,
    real_sample_features,
)
from dpgraph.condensation.private_oracle import NoisyClassGradients, OncePerModel
from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.dpsgd.gradient_sum import PrivateGradientSum
from dpgraph.dpsgd.losses import row_cross_entropy
from dpgraph.dpsgd.unit_sampling import UnitSampling
from dpgraph.errors import DPGraphError
from dpgraph.graphops import (
    class_sums,
    normalized_class_sums,
    normalized_sparse_adjacency,
    prepare_features,
    propagate,
    propagate_roots,
    unit_rows,
)
from dpgraph.mechanisms.base import Mechanism, ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.privacy.randomness import SecretRandomness
from dpgraph.privacy.units import rows_sum_sensitivity, sum_sensitivity
from dpgraph.releases import GraphRelease
from dpgraph.sampling.params import SamplerParams, training_roots


class DPGCondParams(StrictModel):
    """Synthetic graph size and form, initialisation, matching schedule, and DP-SGD settings (all public).

    Defaults: the private flagship's settings (pipelines/cora.yaml), chosen on a public proxy (CiteSeer's validation
    nodes, both splits, epsilon 4): of lr_features in {1e-5, 1e-4, 1e-3} and budget splits init/match in {0.8/0.2,
    0.95/0.05}, 1e-5 and 0.95/0.05 scored best. The non-private GCond reference (pipelines/cora-gcond.yaml) sets
    its own."""

    nodes_per_class: int = Field(default=10, ge=1)
    ratio: float | None = Field(default=None, gt=0, le=1, allow_inf_nan=False)
    adjacency: Literal["identity", "mlp"] = "identity"
    init: Literal["class-means", "unit-means", "random", "real-sample"] = "class-means"
    init_jitter: float = Field(default=0.1, ge=0, allow_inf_nan=False)
    model: Literal["sgc", "mlp"] = "sgc"
    hidden: int = Field(default=256, ge=1)
    k: int = Field(default=2, ge=1, le=4)
    outer_steps: int = Field(default=5, ge=1)
    matching_steps: int = Field(default=10, ge=1)
    model_steps: int = Field(default=0, ge=0)
    lr_features: float = Field(default=1e-5, gt=0)
    lr_adjacency: float = Field(default=0.01, gt=0)
    lr_model: float = Field(default=0.1, gt=0)
    clip_norm: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    sample_rate: float = Field(default=1.0, gt=0, le=1)
    sampler: SamplerParams = SamplerParams()

    @model_validator(mode="after")
    def _one_size(self) -> DPGCondParams:
        if self.ratio is not None and "nodes_per_class" in self.model_fields_set:
            raise ValueError("give nodes_per_class or ratio, not both")
        return self

    def counts(self, graph: GraphDataset) -> list[int]:
        """Synthetic nodes per class: ``nodes_per_class``, or max(1, round(ratio * |train| / C)) with |train| the
        public number of training nodes (GCond's reduction ratio, e.g. 0.25 -> 35 nodes on Cora's public split)."""
        if self.ratio is None:
            return [self.nodes_per_class] * graph.num_classes
        per_class = max(1, round(self.ratio * int(graph.data.train_mask.sum()) / graph.num_classes))
        return [per_class] * graph.num_classes

    def settings(self) -> CondenseSettings:
        return CondenseSettings(outer_steps=self.outer_steps, matching_steps=self.matching_steps,
                                model_steps=self.model_steps, lr_features=self.lr_features,
                                lr_adjacency=self.lr_adjacency, lr_model=self.lr_model, model=self.model,
                                hidden=self.hidden, k=self.k)

    @property
    def queries(self) -> int:
        """Real queries: one per outer step when the model stays at its initialisation (the answer is reused for
        every matching step), else one per matching step."""
        return self.outer_steps * (self.matching_steps if self.model_steps else 1)


@MECHANISMS.register("dp-gcond")
class DPGCond(Mechanism):
    name = "dp-gcond"
    Params = DPGCondParams
    units = ("node", "attributes")
    private = None
    releases = GraphRelease
    stages = ("init", "match")
    default_split = {"init": 0.95, "match": 0.05}

    def memory_estimate(self, graph: GraphDataset, params: DPGCondParams) -> tuple[float, str]:
        """Float32 bytes of X' and its optimiser state, the generated adjacency's pair activations (``mlp``), the
        oracle's units (dense subgraph batch) and one query's per-unit gradients (about q N, model-sized)."""
        synthetic, f, c = sum(params.counts(graph)), graph.num_features, graph.num_classes
        units = int(training_roots(graph.data).numel())
        weights = f * c if params.model == "sgc" else f * params.hidden + params.hidden * c
        nbytes = 4.0 * (8 * synthetic * f + params.sample_rate * units * weights)
        nbytes += params.sampler.dense_batch_bytes(units, f)
        if params.adjacency == "mlp":
            nbytes += 4.0 * 6 * synthetic**2 * params.hidden
        return nbytes, "lower method.nodes_per_class (or ratio), method.hidden or method.sample_rate"

    def check(self, privacy, graph: GraphDataset, params: DPGCondParams) -> None:  # type: ignore[override]
        super().check(privacy, graph, params)
        if not privacy.private:
            return
        params.sampler.check_private(graph.data.edge_index, graph.num_nodes, privacy.unit)
        if params.init == "real-sample":
            raise DPGraphError("method.init: real-sample copies real features into the release; private runs need "
                               "init: class-means (DP class sums) or init: random")
        if params.adjacency != "identity":
            raise DPGraphError("method.adjacency: mlp learns edges from exact gradients over the real graph, which "
                               "the DP oracle does not give; private runs need adjacency: identity")

    def release(self, graph: GraphDataset, params: DPGCondParams, context: ReleaseContext) -> GraphRelease:
        d, gen, device = graph.data, context.public, context.device
        labelled = d.train_mask & (d.y >= 0)
        units = None
        if context.private or params.init == "unit-means":
            units = self._private_units(graph, params, context.secret, context.privacy.unit)
        synthetic = SyntheticGraph(self._initial_features(graph, labelled, params, context, units),
                                   params.counts(graph), gen, adjacency=params.adjacency).to(device)
        spend = None
        if not context.private:
            adj = normalized_sparse_adjacency(d.edge_index, graph.num_nodes)
            real_x = propagate(prepare_features(d.x, True), adj, params.k)
            oracle = ExactClassGradients(real_x.to(device), d.y.to(device), labelled.to(device))
        else:
            rows, unit_y, occurrences = units
            sampling = UnitSampling(rows.size(0), sample_rate=params.sample_rate, occurrences=occurrences)
            spend = context.spend("match", lambda sigma: sampling.event(sigma, params.queries))
            gradient_sum = PrivateGradientSum(row_cross_entropy, sampling, params.clip_norm, spend.noise_multiplier,
                                              context.secret, max_calls=params.queries)
            noisy = NoisyClassGradients(rows.to(device), unit_y.to(device), graph.num_classes, gradient_sum)
            oracle = noisy if params.model_steps else OncePerModel(noisy)
        condense(oracle, synthetic, params.settings(), gen, progress=context.progress)
        if spend is not None:
            spend.record(oracle.event())
        return GraphRelease(synthetic.to_data().cpu())

    @staticmethod
    def _private_units(graph: GraphDataset, params: DPGCondParams, randomness: SecretRandomness,
                       unit: str) -> tuple[Tensor, Tensor, int | None]:
        """The oracle's unit rows, their root labels, and how a query over them is accounted
        (:meth:`SubgraphSet.accounting_occurrences`: None for add/remove one-node units, else K)."""
        d = graph.data
        subgraphs = params.sampler.build(d.edge_index, graph.num_nodes, training_roots(d), randomness, unit)
        occurrences = subgraphs.accounting_occurrences(unit)
        if subgraphs.singleton:
            roots = subgraphs.nodes[:, 0]
            return unit_rows(d.x[roots].float()), d.y[roots], occurrences
        batch = subgraphs.dense_batch(unit_rows(d.x.float()), d.edge_index, d.y)
        rows = unit_rows(propagate_roots(batch.x, batch.adj, batch.root, params.k))
        return rows, batch.y, occurrences

    @staticmethod
    def _initial_features(graph: GraphDataset, labelled: Tensor, params: DPGCondParams, context: ReleaseContext,
                          units: tuple[Tensor, Tensor, int | None] | None) -> Tensor:
        """X' before matching: public noise, real rows (non-private only), or jittered copies of the class sums of
        the unit-L2 features or of the oracle's ``units`` (Gaussian release, stage ``init``, in private runs; exact
        otherwise)."""
        d, gen = graph.data, context.public
        counts = params.counts(graph)
        if params.init == "random":
            return random_features(counts, graph.num_features, gen)
        if params.init == "real-sample":
            return real_sample_features(d.x, d.y, labelled, counts, gen)
        if params.init == "unit-means":
            rows, unit_y, occurrences = units
            sums = class_sums(rows.double(), unit_y, graph.num_classes)
            sensitivity = rows_sum_sensitivity(occurrences)
        else:
            sums = normalized_class_sums(d.x[labelled], d.y[labelled], graph.num_classes)
            sensitivity = sum_sensitivity(context.privacy.unit, 1.0)
        if context.private:
            sums = context.gaussian("init", sums, sensitivity)
        return jittered_copies(sums, counts, params.init_jitter, gen)
