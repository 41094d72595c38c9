"""PrivGraph's community stage (Yuan et al., USENIX Security 2023, sections 4.1-4.2) under edge-level DP, written
from the paper's method: super-nodes, noisy super-node edge counts, Louvain, then an exponential-mechanism
adjustment of every node's community.

Privacy unit: edge (add/remove one undirected edge {a, b}, a != b, of the simple graph; node ids public). Two pure
releases, each one stage of the ledger:

* ``supernodes``: the nodes are split into ``ceil(n / N)`` super-nodes of N nodes by a uniformly random permutation
  (public randomness: the partition reads no edge, and the guarantee below holds for every fixed partition). Released:
  the super-node pair counts s_ij = #{edges {u, w}: {g_u, g_w} = {i, j}}, i <= j (i = j: the edges inside super-node
  i, counted once), + Lap(1 / eps_1) each, by :func:`~dpgraph.privacy.laplace.laplace_release`, event
  ``PureDPEvent(eps_1)``. **Sensitivity:** the partition is fixed, so {a, b} lies in exactly one pair
  (min(g_a, g_b), max(g_a, g_b)) and changes its count by 1: Delta_1 = 1 (the paper counts the edges inside a
  super-node twice, with twice the noise: the same release, scaled).
* ``adjust``: one pass over the nodes in a public random order; node v (the i-th) draws its community among the K
  Louvain communities (a public list: a post-processing of the first release) by the exponential mechanism
  (:func:`~dpgraph.privacy.exponential.exponential_mechanism`) at eps_v = eps_node on the scores
  u_c(v) = #{w adjacent to v: current(w) = c}, current(w) the community w drew earlier in the pass, else its initial
  one. **Sensitivity of a score vector:** given the earlier draws, removing {a, b} changes u(a) only in entry
  current(b), by 1, u(b) only in entry current(a), by 1, and no other node's scores: Delta = 1 per score.
  **Composition (not parallel).** One edge enters the scores of TWO nodes, so the pass is not eps_node-DP by
  parallel composition. Proof of what holds: for neighbours G, G' differing in {a, b} and every output sequence
  c = (c_1, ..., c_n), P_G(c) / P_G'(c) = prod_i P_G(c_i | c_<i) / P_G'(c_i | c_<i); given c_<i both graphs give
  node v_i the same scores unless v_i is a or b, so all factors but two are 1, and those two are at most
  e^eps_node (the exponential mechanism's bound): the pass is 2 eps_node-DP. Sharper, as f-DP: on the pair (G, G')
  the pass is an adaptive composition of mechanisms that are perfectly private except two eps_node-DP ones; the
  composition theorem (Dong, Roth, Su 2022, Thm 4; its proof reads one neighbouring pair at a time) makes it
  T(RR_eps_node) x T(RR_eps_node)-DP for every pair, so the stage records
  ``SelfComposedEvent(PureDPEvent(eps_node), 2)``, which the ledger accounts as two randomized responses (at most
  2 eps_node, delta = 0). The paper uses the same score (its modularity gain with resolution 1, up to a shift common
  to all candidates) and the same halving of eps_2 per node.

Consistency (post-processing): the noisy counts are made non-negative by :func:`norm_sub`, which keeps their sum.
``epsilon: null`` (the ceiling) uses the exact counts and each node's best score (first best on ties) instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import networkx as nx
import numpy as np
import torch
from torch import Tensor

from dpgraph.graphops import simple_undirected
from dpgraph.mechanisms.base import ReleaseContext, numpy_generator
from dpgraph.mechanisms.edge_bter import group_pair_edges
from dpgraph.privacy.events import SelfComposedEvent
from dpgraph.privacy.exponential import exponential_mechanism
from dpgraph.privacy.laplace import laplace_event, laplace_release
from dpgraph.privacy.pure import PureDPEvent
from dpgraph.privacy.validation import check_positive

SUPERNODE_PAIR_SENSITIVITY = 1.0  # L1 of the super-node pair counts per edge
SCORE_SENSITIVITY = 1.0  # each node's score of each candidate community, per edge
NODES_PER_EDGE = 2  # one edge enters the scores of two nodes


def adjustment_event(noise_multiplier: float) -> SelfComposedEvent:
    """The event of the adjustment pass at calibrated noise multiplier s: two eps_node = 1 / s exponential
    mechanisms (module docstring)."""
    return SelfComposedEvent(PureDPEvent(1.0 / check_positive(noise_multiplier, "noise_multiplier")), NODES_PER_EDGE)


def num_supernodes(num_nodes: int, size: int) -> int:
    """``ceil(n / N)``: the super-nodes of at most N nodes each."""
    return math.ceil(num_nodes / size)


def supernode_groups(num_nodes: int, size: int, rng: np.random.Generator) -> Tensor:
    """int64 [n]: super-node of each node, a uniformly random partition into super-nodes of ``size`` nodes (the last
    one smaller when ``size`` does not divide n). Reads no edge."""
    return torch.from_numpy(rng.permutation(np.arange(num_nodes) // size))


def norm_sub(values: np.ndarray) -> np.ndarray:
    """Norm-Sub consistency (Wang et al., NDSS 2020): ``max(x - delta, 0)`` with the shift delta >= 0 at which the
    total stays ``max(sum x, 0)``; this is the Euclidean projection onto {y >= 0, sum y = max(sum x, 0)}, found by
    sorting (Held, Wolfe, Crowder 1974; hand-written: numpy and scipy offer no simplex projection)."""
    x = np.asarray(values, dtype=np.float64)
    total = x.sum()
    if x.size == 0 or total <= 0:
        return np.zeros_like(x)
    ordered = np.sort(x)[::-1]
    shifts = (np.cumsum(ordered) - total) / np.arange(1, x.size + 1)
    shift = shifts[np.flatnonzero(ordered > shifts)[-1]]
    return np.maximum(x - max(shift, 0.0), 0.0)


def louvain_labels(pair_weights: np.ndarray, num_groups: int, resolution: float,
                   rng: np.random.Generator) -> np.ndarray:
    """int64 [S]: community of each super-node by networkx's Louvain (modularity at ``resolution``) on the weighted
    graph whose pair (i, j), i <= j, has weight ``pair_weights`` (upper triangle, row-major; i = j a self-loop, so
    a super-node's weighted degree is 2 s_ii + sum_j s_ij, its nodes' total degree). Public seed."""
    rows, cols = np.triu_indices(num_groups)
    keep = pair_weights > 0
    graph = nx.Graph()
    graph.add_nodes_from(range(num_groups))
    graph.add_weighted_edges_from(zip(rows[keep].tolist(), cols[keep].tolist(), pair_weights[keep].tolist(),
                                      strict=True))
    labels = np.zeros(num_groups, dtype=np.int64)
    communities = nx.community.louvain_communities(graph, resolution=resolution, seed=int(rng.integers(2**31)))
    for label, members in enumerate(sorted(communities, key=min)):
        labels[list(members)] = label
    return labels


def adjust_communities(edge_index: Tensor, initial: np.ndarray, num_communities: int, order: np.ndarray,
                       choose: Callable[[Tensor], int]) -> np.ndarray:
    """int64 [n]: one pass over the nodes in ``order``; node v takes ``choose(u(v))``, u_c(v) the number of v's
    neighbours (simple graph) whose current community is c, the earlier choices of the pass already in force."""
    n = initial.size
    src, dst = simple_undirected(edge_index, n).numpy()
    starts = np.searchsorted(src, np.arange(n + 1))  # coalesced: sorted by source
    current = initial.copy()
    for v in order:
        neighbours = dst[starts[v]:starts[v + 1]]
        scores = np.bincount(current[neighbours], minlength=num_communities)
        current[v] = choose(torch.from_numpy(scores).double())
    return current


def compact(labels: np.ndarray) -> Tensor:
    """int64 [n]: ``labels`` renumbered 0..K'-1 in increasing order, empty communities dropped."""
    return torch.from_numpy(np.unique(labels, return_inverse=True)[1].astype(np.int64))


def private_communities(edge_index: Tensor, num_nodes: int, supernode_size: int, resolution: float,
                        context: ReleaseContext) -> Tensor:
    """int64 [n]: PrivGraph's communities (module docstring), stages ``supernodes`` then ``adjust`` of ``context``
    in a private run, their exact counterparts in a non-private one."""
    rng = numpy_generator(context.public)
    groups = supernode_groups(num_nodes, supernode_size, rng)
    num_groups = num_supernodes(num_nodes, supernode_size)
    counts = group_pair_edges(edge_index, groups, num_groups)
    if context.private:
        counts = laplace_release(counts, SUPERNODE_PAIR_SENSITIVITY, context.spend("supernodes", laplace_event),
                                 context.secret)
    initial = louvain_labels(norm_sub(counts.numpy()), num_groups, resolution, rng)[groups.numpy()]
    num_communities = int(initial.max()) + 1
    order = rng.permutation(num_nodes)
    if not context.private:
        return compact(adjust_communities(edge_index, initial, num_communities, order, lambda s: int(s.argmax())))
    spend = context.spend("adjust", adjustment_event)
    eps_node = 1.0 / spend.noise_multiplier
    final = adjust_communities(edge_index, initial, num_communities, order,
                               lambda s: exponential_mechanism(s, SCORE_SENSITIVITY, eps_node, context.secret))
    spend.record(adjustment_event(spend.noise_multiplier))
    return compact(final)
