"""`edge-link-generator`: a link scorer trained with DP-SGD on the edges, then a synthetic edge set drawn from it, on
the real node ids.

Privacy unit: edge (add/remove one undirected edge {u, w}; node features, labels, the split and node ids public).
The scorer, its public inputs, loss and generation are :mod:`dpgraph.mechanisms.link_scorer`. Stages:

* ``count`` (only with ``degrees: none`` when ``num_edges`` is not configured): the number m of simple edges + Lap(b)
  (:mod:`dpgraph.privacy.laplace`, ``PureDPEvent``). One edge changes m by exactly 1: Delta_1 = 1. The rounded
  count m~ (clamped to [1, n(n-1)/2]) is the number of edges generated and the DP-SGD divisor.
* ``degrees`` (only with ``degrees: noisy``): the degree vector ``d`` of the simple graph, one entry per public node
  id, + N(0, (sigma Delta_2)^2) (``GaussianEvent(sigma)``, :func:`~dpgraph.mechanisms.edge_dp1k.degree_vector`).
  One edge {u, w} changes exactly d_u and d_w, each by 1: Delta_2 = sqrt(2) (``DEGREE_SENSITIVITY``). The targets
  are :func:`~dpgraph.mechanisms.edge_dp1k.graphical_degrees` of the release (post-processing); half their sum is
  m~, the DP-SGD divisor and the edge count, so no ``count`` stage runs (its budget share passes to ``degrees``:
  the budget's targets are cumulative).
* ``train``: DP-SGD (:class:`~dpgraph.dpsgd.PrivateGradientSum`: Poisson selection and Gaussian noise from the
  secret randomness, per-unit clipping to C), ``steps`` noisy sums; each step's mean is ``sum / (q D)`` with the
  public divisor D = m~ (``examples: edges``) or N = n R (``walks``), never the private number of units.

  ``examples: edges`` (default): one unit per simple edge, its loss the positive pair in both directions plus
  negatives from a public table (link_scorer's docstring: a unit's loss reads its own endpoints, the table and the
  parameters only). Adding or removing one edge adds or removes exactly one unit and changes no other unit's
  clipped gradient, so the clipped sum moves by at most C: add/remove DP-SGD with Poisson sampling, event
  ``SelfComposed(PoissonSampled(q, Gaussian(sigma)), steps)`` (``UnitSampling(m, q)``, occurrences None).
  ``examples: walks``: R walks of length L from every node of the mutual top-f view
  (:mod:`dpgraph.sampling.edge_walks`, walks and view key from the secret randomness), one unit per walk whose
  positive pairs are all pairs of its positions at most L apart. One edge modifies at most
  K = R min(n, 4 ball(f, L - 1)) of the N = n R walks (proof there), so a step is the K-occurrence step of
  :mod:`dpgraph.privacy.k_occurrence` (each changed unit moves the sum by <= 2C), composed over the steps.

  Why edges are the default: one unit per edge gets the tight sampled-Gaussian accounting with sensitivity C,
  while even the smallest walk bound (L = 1, R = 1: K = 4) goes through the first-order K-occurrence RDP bound,
  which needs a far larger noise multiplier at the same epsilon (the pipeline file's header has the measurement).
  :class:`~dpgraph.dpsgd.DPSGDEngine` is given that public divisor: its default ``q N`` would be the private edge
  count for edge units.

Generation is post-processing with the public generator: ``degrees: none``, the Gumbel top-m~ pairs of the trained
scores; ``degrees: noisy``, a degree-constrained draw keeping every target degree up to a few dropped stubs while
preferring high-score partners (:mod:`dpgraph.mechanisms.scored_stub_matching`). ``epsilon: null`` trains the same
way on the exact count (exact degrees) without clipping or noise (the method's ceiling).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import Field
from tqdm.auto import tqdm

from dpgraph.condensation.seeded import reset_linear
from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.dpsgd.engine import DPSGDEngine
from dpgraph.dpsgd.gradient_sum import PrivateGradientSum
from dpgraph.dpsgd.unit_sampling import UnitSampling
from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_pairs, simple_undirected
from dpgraph.mechanisms.base import Mechanism, ReleaseContext
from dpgraph.mechanisms.edge_dp1k import DEGREE_SENSITIVITY, degree_vector, graphical_degrees
from dpgraph.mechanisms.edge_release import synthetic_edges_release
from dpgraph.mechanisms.link_scorer import (
    LinkScorer,
    generation_bytes,
    link_unit_loss,
    link_units,
    negative_table,
    public_node_inputs,
    sample_scored_edges,
)
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.mechanisms.scored_stub_matching import scored_stub_matching
from dpgraph.privacy.laplace import laplace_event, laplace_release
from dpgraph.releases import GraphRelease
from dpgraph.sampling.edge_walks import view_walks, walk_occurrence_bound

#: L1 sensitivity of the simple edge count under the edge unit (module docstring)
COUNT_SENSITIVITY = 1.0


class EdgeLinkGeneratorParams(StrictModel):
    """examples: DP-SGD units (module docstring); degrees: none (Gumbel top-m~ pairs) or noisy (a Gaussian degree
    release, then a degree-constrained draw listing ``candidates`` partners per free stub); num_edges: edges to
    generate with degrees none (public configuration; null: a noisy count); the scorer: groups (whether its inputs
    hold the public predicted group), svd_rank, hidden, embedding; negatives per anchor; DP-SGD: clip_norm,
    sample_rate, steps, lr; generation temperature; walks only: view_degree f, walks_per_node R, walk_length L."""

    examples: Literal["edges", "walks"] = "edges"
    degrees: Literal["none", "noisy"] = "none"
    candidates: float = Field(default=2.0, ge=1, allow_inf_nan=False)
    num_edges: int | None = Field(default=None, ge=1)
    groups: Literal["predicted", "none"] = "predicted"
    svd_rank: int = Field(default=64, ge=1)
    hidden: int = Field(default=64, ge=1)
    embedding: int = Field(default=16, ge=1)
    negatives: int = Field(default=4, ge=1)
    clip_norm: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    sample_rate: float = Field(default=0.05, gt=0, le=1)
    steps: int = Field(default=300, ge=1)
    lr: float = Field(default=0.01, gt=0)
    temperature: float = Field(default=0.75, gt=0, allow_inf_nan=False)
    view_degree: int = Field(default=8, ge=1)
    walks_per_node: int = Field(default=1, ge=1)
    walk_length: int = Field(default=1, ge=1)


def walk_pairs(walks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(anchors, partners)`` [N, P]: every pair of positions i < j of each walk (P = L(L+1)/2)."""
    first, second = torch.triu_indices(walks.size(1), walks.size(1), offset=1)
    return walks[:, first], walks[:, second]


@MECHANISMS.register("edge-link-generator")
class EdgeLinkGenerator(Mechanism):
    name = "edge-link-generator"
    Params = EdgeLinkGeneratorParams
    units = ("edge",)
    private = None
    releases = GraphRelease
    stages = ("count", "degrees", "train")
    default_split = {"count": 0.05, "degrees": 0.55, "train": 0.4}

    def memory_estimate(self, graph: GraphDataset, params: EdgeLinkGeneratorParams) -> tuple[float, str]:
        """Scoring all node pairs dominates (link_scorer.generation_bytes)."""
        return generation_bytes(graph.num_nodes), "use a smaller graph"

    def target_degrees(self, edge_index: torch.Tensor, num_nodes: int, context: ReleaseContext) -> np.ndarray:
        """int64 [n]: graphical targets from the Gaussian degree vector (exact when non-private)."""
        degrees = degree_vector(edge_index, num_nodes)
        return graphical_degrees(context.gaussian_or_exact("degrees", degrees, DEGREE_SENSITIVITY), context.public)

    def edge_count(self, pairs: torch.Tensor, num_nodes: int, params: EdgeLinkGeneratorParams,
                   context: ReleaseContext) -> int:
        """m~: ``num_edges`` when configured, else the Laplace count (exact when non-private), clamped."""
        if params.num_edges is not None:
            count = float(params.num_edges)
        elif context.private:
            spend = context.spend("count", laplace_event)
            count = float(laplace_release(torch.tensor([float(pairs.size(1))]), COUNT_SENSITIVITY, spend,
                                          context.secret))
        else:
            count = float(pairs.size(1))
        return min(max(round(count), 1), num_nodes * (num_nodes - 1) // 2)

    def release(self, graph: GraphDataset, params: EdgeLinkGeneratorParams, context: ReleaseContext) -> GraphRelease:
        d, n, private = graph.data, graph.num_nodes, context.private
        pairs = simple_pairs(d.edge_index, n)
        if params.degrees == "noisy" and params.num_edges is not None:
            raise DPGraphError("num_edges applies to degrees: none; with degrees: noisy the released degrees give the "
                               "edge count: set num_edges: null")
        targets = self.target_degrees(d.edge_index, n, context) if params.degrees == "noisy" else None
        num_edges = max(int(targets.sum()) // 2, 1) if targets is not None else self.edge_count(pairs, n, params,
                                                                                                  context)
        inputs = public_node_inputs(d.x, d.y, d.train_mask, graph.num_classes, params.svd_rank,
                                    params.groups == "predicted", context.public)
        if params.examples == "edges":
            anchors, partners = pairs.t(), pairs.flip(0).t()
            sampling = UnitSampling(pairs.size(1), sample_rate=params.sample_rate)
            divisor = params.sample_rate * num_edges
        else:
            walks = view_walks(d.edge_index, n, params.view_degree, context.secret.integer(31),
                               params.walks_per_node, params.walk_length, context.secret.generator())
            anchors, partners = walk_pairs(walks)
            bound = walk_occurrence_bound(n, params.view_degree, params.walks_per_node, params.walk_length)
            sampling = UnitSampling(walks.size(0), sample_rate=params.sample_rate, occurrences=bound)
            divisor = sampling.expected_batch_size  # q n R: public
        spend = context.spend("train", lambda sigma: sampling.event(sigma, params.steps)) if private else None
        model = LinkScorer(inputs.size(1), params.hidden, params.embedding)
        for layer in (model.hidden, model.out):
            reset_linear(layer, context.public)
        gradient_sum = PrivateGradientSum(link_unit_loss(inputs), sampling,
                                          params.clip_norm if private else float("inf"),
                                          spend.noise_multiplier if spend is not None else 0.0, context.secret,
                                          private=private)
        engine = DPSGDEngine(model, torch.optim.Adam(model.parameters(), lr=params.lr), gradient_sum, divisor)
        for _ in tqdm(range(params.steps), desc=self.name, unit="step", disable=not context.progress):
            engine.step(link_units(anchors, partners, negative_table(n, params.negatives, context.public)))
        if spend is not None:
            spend.record(engine.event())
        model.eval()
        if targets is not None:
            with torch.no_grad():
                h, b = model(inputs)
            return synthetic_edges_release(graph, scored_stub_matching(h, b, targets, params.temperature,
                                                                       params.candidates, context.public))
        edges = sample_scored_edges(model, inputs, num_edges, params.temperature, context.public)
        return synthetic_edges_release(graph, simple_undirected(edges, n))

