"""`edge-privgraph`: PrivGraph (Yuan, Zhang, Du, Chen, Cheng, Sun, USENIX Security 2023, "PrivGraph: Differentially
Private Graph Data Publication by Exploiting Community Information") under edge-level DP, written from the paper's
method: communities, then each community's degree sequence and the edge counts between communities, then a graph
rebuilt from them on the real node ids.

Privacy unit: edge (add/remove one undirected edge {a, b}, a != b; node features, labels, the split and the node ids
are public). All statistics read the simple undirected graph. Every release is pure (Laplace, exponential
mechanism), as in the paper; Laplace rather than Gaussian because each sensitivity is an L1 bound spread over at
most two coordinates, where Lap(Delta_1 / eps) is far less noise than a Gaussian at delta = 1e-5.

**Communities** (``communities``):

* ``private`` (the paper, the default): stages ``supernodes`` (noisy super-node pair counts, Louvain) and
  ``adjust`` (exponential-mechanism moves, two per edge), sensitivities and composition proved in
  :mod:`dpgraph.mechanisms.privgraph_communities`;
* ``public-classes``: the training labels, and the class a logistic regression on the public features predicts
  elsewhere (:func:`~dpgraph.mechanisms.edge_bter.predicted_groups`): public data only, no budget; the unspent
  shares of ``supernodes`` and ``adjust`` pass to ``statistics`` (its cumulative target is the whole epsilon).

Either way the communities c (K of them) are public or released before the next stage, so fixed there.

**Stage ``statistics``** (one Laplace release, ``PureDPEvent(eps_3)``): the vector
``[d_in, 2 e]``: d_in(u) = #{w adjacent to u: c_w = c_u} for every node (each community's degree sequence), and e_ij
= #{edges between communities i < j} (strict upper triangle, row-major), the latter doubled, + Lap(2 / eps_3) on
every entry (so e gets Lap(1 / eps_3)). **Sensitivity:** with c fixed, {a, b} either lies inside one community,
changing d_in(a) and d_in(b) by 1 each and no count (L1 change 2), or between communities c_a != c_b, changing
e_{c_a c_b} by 1, i.e. one doubled entry by 2, and no degree (L1 change 2): Delta_1 = 2. One edge never touches
both halves, which is why the paper can give both its eps_3 (its degree noise 2 / eps_3, count noise 1 / eps_3): the
doubled vector makes that parallel composition one Laplace release of one event.

**Reconstruction** (post-processing, public randomness): each community's noisy degrees are made consistent by
:func:`~dpgraph.mechanisms.privgraph_communities.norm_sub` (non-negative, same sum), rounded, clamped to
[0, |community| - 1] and made even (:func:`~dpgraph.mechanisms.edge_dp1k.graphical_degrees`), then wired inside
their community by a configuration model (:func:`~dpgraph.mechanisms.dcsbm_sampling.sample_dcsbm` with a diagonal
block matrix: every stub stays in its community; the paper's Chung-Lu draw has the same expected degrees). The
noisy counts e are made consistent the same way, rounded and capped at |i| |j|; each community's inter-community
stubs sum_j e_ij are spread over its members uniformly (a multinomial, the law of the paper's uniform endpoints)
and wired by :func:`~dpgraph.mechanisms.dcsbm_sampling.sample_dcsbm` with block matrix e (zero diagonal), so the
e_ij edges join community i to community j, for EVERY pair: the public implementation draws one endpoint of every
inter-community edge in the last community (a stale loop variable), which this does not copy. The release keeps the
real features, training labels and masks (`edge_release`). ``epsilon: null`` runs the same steps on the exact
statistics (and the exact community steps): the method's ceiling.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.graphops import simple_pairs, simple_undirected
from dpgraph.mechanisms.base import Mechanism, ReleaseContext, numpy_generator
from dpgraph.mechanisms.dcsbm_sampling import sample_dcsbm
from dpgraph.mechanisms.edge_bter import group_pair_edges, predicted_groups
from dpgraph.mechanisms.edge_dp1k import graphical_degrees
from dpgraph.mechanisms.edge_release import synthetic_edges_release
from dpgraph.mechanisms.privgraph_communities import norm_sub, num_supernodes, private_communities
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.privacy.laplace import laplace_event, laplace_release
from dpgraph.releases import GraphRelease

STATISTICS_SENSITIVITY = 2.0  # L1 of [intra-community degrees, 2 x inter-community counts] per edge
BYTES_PER_PAIR_COUNT = 24  # the bincount, its view and the triangle indices of group_pair_edges, per group pair


def intra_degrees(edge_index: Tensor, communities: Tensor) -> Tensor:
    """float64 [n]: each node's number of neighbours in its own community (simple graph)."""
    n = communities.numel()
    first, second = simple_pairs(edge_index, n)
    inside = communities[first] == communities[second]
    return torch.bincount(torch.cat([first[inside], second[inside]]), minlength=n).double()


def inter_community_edges(edge_index: Tensor, communities: Tensor, num_communities: int) -> Tensor:
    """float64 [K(K-1)/2]: edges between communities i < j, strict upper triangle in row-major order."""
    rows, cols = torch.triu_indices(num_communities, num_communities)
    return group_pair_edges(edge_index, communities, num_communities)[rows != cols]


def community_statistics(edge_index: Tensor, communities: Tensor, num_communities: int) -> Tensor:
    """float64 [n + K(K-1)/2]: ``[d_in, 2 e]``, L1 sensitivity `STATISTICS_SENSITIVITY` (module docstring)."""
    return torch.cat([intra_degrees(edge_index, communities),
                      2 * inter_community_edges(edge_index, communities, num_communities)])


def intra_targets(noisy_degrees: Tensor, communities: Tensor, generator: torch.Generator) -> np.ndarray:
    """int64 [n]: each community's noisy degrees made consistent (norm_sub), rounded, clamped to
    [0, |community| - 1] and of even sum (graphical_degrees with the public ``generator``)."""
    targets = np.zeros(communities.numel(), dtype=np.int64)
    for community in torch.unique(communities):
        members = (communities == community).nonzero().flatten()
        consistent = torch.from_numpy(norm_sub(noisy_degrees[members].numpy()))
        targets[members.numpy()] = graphical_degrees(consistent, generator)
    return targets


def inter_targets(noisy_counts: Tensor, communities: Tensor, num_communities: int) -> np.ndarray:
    """Symmetric int64 [K, K], zero diagonal: the noisy inter-community counts made consistent (norm_sub), rounded
    and capped at |i| |j| (the node pairs there)."""
    sizes = np.bincount(communities.numpy(), minlength=num_communities)
    rows, cols = np.triu_indices(num_communities, 1)
    counts = np.minimum(np.round(norm_sub(noisy_counts.numpy())).astype(np.int64), sizes[rows] * sizes[cols])
    matrix = np.zeros((num_communities, num_communities), dtype=np.int64)
    matrix[rows, cols] = counts
    matrix[cols, rows] = counts
    return matrix


def uniform_stubs(communities: Tensor, totals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """int64 [n]: ``totals[i]`` stubs of each community i spread over its members uniformly (multinomial)."""
    labels = communities.numpy()
    stubs = np.zeros(labels.size, dtype=np.int64)
    for community in np.unique(labels):
        members = np.flatnonzero(labels == community)
        stubs[members] = rng.multinomial(totals[community], np.full(members.size, 1 / members.size))
    return stubs


def privgraph_edges(communities: Tensor, degrees: np.ndarray, between: np.ndarray,
                    rng: np.random.Generator) -> Tensor:
    """Edge index (both directions, simple): a configuration model inside each community on ``degrees``, and
    ``between[i, j]`` edges joining communities i and j (uniform endpoints; module docstring)."""
    num_communities = between.shape[0]
    inside_totals = np.bincount(communities.numpy(), weights=degrees, minlength=num_communities)
    inside = sample_dcsbm(communities, degrees, np.diag(inside_totals / 2), rng)
    across = sample_dcsbm(communities, uniform_stubs(communities, between.sum(1), rng), between.astype(np.float64),
                          rng)
    return simple_undirected(torch.cat([inside, across], 1), communities.numel())


class PrivGraphParams(StrictModel):
    """communities: private (PrivGraph's DP community stage) or public-classes (training labels and predicted
    classes, no budget); supernode_size: nodes per super-node (the paper's N); resolution: Louvain's resolution on
    the super-node graph (the paper's t)."""

    communities: Literal["private", "public-classes"] = "private"
    supernode_size: int = Field(default=20, ge=1)
    resolution: float = Field(default=1.0, gt=0)


@MECHANISMS.register("edge-privgraph")
class EdgePrivGraph(Mechanism):
    """PrivGraph under edge-level DP (module docstring): DP communities, Laplace community statistics, rebuild."""

    name = "edge-privgraph"
    Params = PrivGraphParams
    units = ("edge",)
    private = None
    releases = GraphRelease
    stages = ("supernodes", "adjust", "statistics")
    default_split = {"supernodes": 1 / 3, "adjust": 1 / 3, "statistics": 1 / 3}

    def memory_estimate(self, graph: GraphDataset, params: PrivGraphParams) -> tuple[float, str]:
        """The super-node pair counts dominate: about 24 bytes per pair of the ceil(n / N) super-nodes."""
        if params.communities != "private":
            return 0.0, ""
        groups = num_supernodes(graph.num_nodes, params.supernode_size)
        return float(BYTES_PER_PAIR_COUNT * groups * groups), "raise method.supernode_size"

    def release(self, graph: GraphDataset, params: PrivGraphParams, context: ReleaseContext) -> GraphRelease:
        d, n = graph.data, graph.num_nodes
        if params.communities == "private":
            communities = private_communities(d.edge_index, n, params.supernode_size, params.resolution, context)
        else:
            communities = predicted_groups(d.x, d.y, d.train_mask, graph.num_classes)
        num_communities = int(communities.max()) + 1
        statistics = community_statistics(d.edge_index, communities, num_communities)
        if context.private:
            statistics = laplace_release(statistics, STATISTICS_SENSITIVITY, context.spend("statistics", laplace_event),
                                         context.secret)
        degrees = intra_targets(statistics[:n], communities, context.public)
        between = inter_targets(statistics[n:] / 2, communities, num_communities)
        edges = privgraph_edges(communities, degrees, between, numpy_generator(context.public))
        return synthetic_edges_release(graph, edges)
