"""`dp-gcond`: graph condensation by gradient matching, where every real gradient is node-level DP.

Released: ``nodes_per_class`` synthetic nodes per class (labels fixed by the config, so no class count is read),
features X' and (non-private ``adjacency: mlp``) GCond's generated edges. Each outer step draws a fresh matching
model (SGC linear layer or MLP) and runs ``matching_steps`` updates of X' against the real per-class gradients
(asked once per outer step when the model is not trained in between, ``model_steps: 0``).

Private mode (privacy unit: node). The real side is
:class:`~dpgraph.condensation.private_oracle.NoisyClassGradients` on the labelled training nodes alone, features
scaled to unit L2 norm per node, no edge read (one-node units, the ``hops: 0`` sampler): each query is a Poisson-
subsampled Gaussian step with rate ``sample_rate``, clip ``clip_norm`` and add/remove sensitivity ``clip_norm``.
``sigma`` is calibrated over the exact number of queries (:attr:`DPGCondParams.queries`), and the composed event is
recorded (stage ``match``). X' starts from public Gaussian noise; the synthetic adjacency is the identity (a learnt
adjacency would need real structure, which no query reveals). Every update of X' is post-processing of the noisy
answers.

Non-private mode (``epsilon: null``): the GCond reference, with exact per-class gradients on ``Â^k X`` over the real
graph, and optionally X' initialised from real training nodes and a generated adjacency.
"""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from pydantic import Field
from torch_geometric.data import Data

from dpgraph.condensation import (
    CondenseSettings,
    ExactClassGradients,
    SyntheticGraph,
    condense,
    propagate,
    random_features,
    real_sample_features,
)
from dpgraph.condensation.private_oracle import NoisyClassGradients, OncePerModel, query_event
from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.errors import DPGraphError
from dpgraph.evaluation.features import unit_rows
from dpgraph.mechanisms.base import Mechanism, ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS


class DPGCondParams(StrictModel):
    """Synthetic graph size and form, matching schedule, and DP-SGD settings (all public)."""

    nodes_per_class: int = Field(default=10, ge=1)
    adjacency: Literal["identity", "mlp"] = "identity"
    init: Literal["random", "real-sample"] = "random"
    model: Literal["sgc", "mlp"] = "sgc"
    hidden: int = Field(default=256, ge=1)
    k: int = Field(default=2, ge=1, le=4)
    outer_steps: int = Field(default=100, ge=1)
    matching_steps: int = Field(default=10, ge=1)
    model_steps: int = Field(default=0, ge=0)
    lr_features: float = Field(default=0.01, gt=0)
    lr_adjacency: float = Field(default=0.01, gt=0)
    lr_model: float = Field(default=0.01, gt=0)
    clip_norm: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    sample_rate: float = Field(default=0.5, gt=0, le=1)

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
    units = ("node",)
    private = None
    stages = ("match",)
    default_split = {"match": 1.0}

    def check(self, privacy, graph: GraphDataset, params: DPGCondParams) -> None:  # type: ignore[override]
        super().check(privacy, graph, params)
        if privacy.private and params.init != "random":
            raise DPGraphError("method.init: real-sample copies real features into the release; private runs need "
                               "init: random")
        if privacy.private and params.adjacency != "identity":
            raise DPGraphError("method.adjacency: mlp needs the real graph's structure, which the node-level DP "
                               "oracle does not read; private runs need adjacency: identity")

    def release(self, graph: GraphDataset, params: DPGCondParams, context: ReleaseContext) -> Data:
        d, gen = graph.data, context.generator
        counts = [params.nodes_per_class] * graph.num_classes
        labelled = d.train_mask & (d.y >= 0)
        if context.ledger is None:
            init = real_sample_features(d.x, d.y, labelled, counts, gen) if params.init == "real-sample" \
                else random_features(counts, graph.num_features, gen)
            real_x = propagate(F.normalize(d.x.float(), p=1.0, dim=1), d.edge_index, graph.num_nodes, params.k)
            oracle = ExactClassGradients(real_x, d.y, labelled)
        else:
            init = random_features(counts, graph.num_features, gen)
            sigma = context.calibrate("match", lambda s: query_event(s, params.sample_rate, params.queries))
            oracle = OncePerModel(NoisyClassGradients(
                unit_rows(d.x[labelled].float()), d.y[labelled], graph.num_classes, params.clip_norm, sigma,
                params.sample_rate, params.queries, gen))
        synthetic = SyntheticGraph(init, counts, gen, adjacency=params.adjacency)
        condense(oracle, synthetic, params.settings(), gen, progress=context.progress)
        if context.ledger is not None:
            assert oracle.queries == params.queries, "the oracle answered a different number of queries"
            context.ledger.record("match", oracle.event())
        return synthetic.to_data()
