"""`edge-dp1k`: the dK-1 series under edge-level DP (Sala et al. 2011's DP-1K): a noisy degree sequence, then a
configuration-model graph on the real node ids.

Privacy unit: edge (add/remove one undirected edge; node features, labels, the split and the node ids are public).
One Gaussian release, recorded as ``GaussianEvent(sigma)``:

* ``degrees``: the degree vector ``d`` of the simple graph, one entry per node id. **Sensitivity:** one edge (u, w)
  changes exactly ``d_u`` and ``d_w``, each by 1, and nothing else: Delta_2 = sqrt(2) (Delta_1 = 2), checked by
  deleting every edge of graphs with hubs.

Node ids are public and kept, so the release is the degree of each node tied to its id, which is what DP-1K's degree
sequence is under edge DP (its histogram or sorted sequence are post-processings of it). Everything after is
post-processing with the public generator: round, clamp to [0, n - 1], make the sum even (+1 on one public random
node below n - 1) (``degree_estimate: rounded``), or the deconvolved empirical-Bayes estimate from the noisy vector
and its public noise std sigma * Delta_2 (``degree_estimate: deconvolved``,
:func:`~dpgraph.mechanisms.degree_denoising.deconvolved_degrees`); then wire a configuration model with every node in
one class (:func:`~dpgraph.mechanisms.dcsbm_sampling.sample_dcsbm`; it keeps each degree up to the few stubs it
drops).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
from torch_geometric.data import Data

from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.graphops import simple_degrees
from dpgraph.mechanisms.base import Mechanism, ReleaseContext, numpy_generator
from dpgraph.mechanisms.dcsbm_sampling import sample_dcsbm
from dpgraph.mechanisms.degree_denoising import deconvolved_degrees
from dpgraph.mechanisms.edge_release import synthetic_edges_release
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.releases import GraphRelease

DEGREE_SENSITIVITY = math.sqrt(2.0)  # L2: one edge moves two entries of the degree vector by 1


def degree_vector(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """float64 [n]: the degrees of the simple undirected graph (L2 sensitivity `DEGREE_SENSITIVITY` per edge)."""
    return torch.from_numpy(simple_degrees(Data(edge_index=edge_index, num_nodes=num_nodes))).double()


def graphical_degrees(noisy: torch.Tensor, generator: torch.Generator) -> np.ndarray:
    """int64 [n] target degrees from a noisy degree vector: rounded, clamped to [0, n - 1], and, if their sum is
    odd, +1 on one node (below n - 1) drawn with the public ``generator``, so the stubs pair up. Post-processing."""
    n = noisy.numel()
    degrees = noisy.double().round().clamp(0, max(n - 1, 0)).long()
    if int(degrees.sum()) % 2:
        room = torch.nonzero(degrees < n - 1).flatten()  # not empty: all at n - 1 would sum to n(n - 1), even
        degrees[room[torch.randint(room.numel(), (1,), generator=generator)]] += 1
    return degrees.numpy()


DegreeEstimate = Literal["rounded", "deconvolved"]


def noisy_degrees(context: ReleaseContext, degrees: torch.Tensor) -> tuple[torch.Tensor, float]:
    """The Gaussian release of the degree vector at stage ``degrees`` and its public noise std sigma *
    `DEGREE_SENSITIVITY` (what `context.gaussian` releases and records); ``(degrees, 0.0)`` in a non-private run."""
    if not context.private:
        return degrees, 0.0
    return context.gaussian_with_std("degrees", degrees, DEGREE_SENSITIVITY)


class DP1KParams(StrictModel):
    """degree_estimate: how the noisy degree vector becomes target degrees (module docstring). One stage,
    ``degrees``, spends the whole budget."""

    degree_estimate: DegreeEstimate = "rounded"


@MECHANISMS.register("edge-dp1k")
class EdgeDP1K(Mechanism):
    """DP-1K under edge-level DP (module docstring): Gaussian degree vector, configuration model on the real ids."""

    name = "edge-dp1k"
    Params = DP1KParams
    units = ("edge",)
    releases = GraphRelease
    stages = ("degrees",)
    default_split = {"degrees": 1.0}

    def release(self, graph: GraphDataset, params: DP1KParams, context: ReleaseContext) -> GraphRelease:
        noisy, noise_std = noisy_degrees(context, degree_vector(graph.data.edge_index, graph.num_nodes))
        if params.degree_estimate == "rounded":
            targets = graphical_degrees(noisy, context.public)
        else:
            targets = deconvolved_degrees(noisy, noise_std, context.public)
        rng = numpy_generator(context.public)
        one_class = torch.zeros(graph.num_nodes, dtype=torch.long)
        edges = sample_dcsbm(one_class, targets, np.array([[targets.sum() / 2]]), rng)
        return synthetic_edges_release(graph, edges)
