"""Degree statistics released under node-level DP through the theta-projection by edge addition (Day, Li, Lyu, SIGMOD
2016; `dpgraph.graphops.theta_projection`), with their sensitivities under adding or removing one node.

Notation: G the whole graph's structure; the projection runs on all of G (every node is protected, so every node's
edges count). L the labelled training nodes (public membership), labels read only on L, C classes. d~(u) is u's
degree in the projection G_theta of G, d~'(u) in the projection of G - v; E_theta the projected edge set.

Lemma (node stability of the projection). For every node v of G:
    sum_{u != v} |d~(u) - d~'(u)| <= d~(v) <= theta  and  0 <= |E_theta(G)| - |E_theta(G - v)| <= d~(v).
Proof. The projection is the greedy b-matching of the edge stream with capacity theta at every node: edge (a, b) is
kept iff both residual capacities are positive, and then both drop by 1.
(i) Deleting v is lowering v's capacity to 0: an edge at a capacity-0 node is always rejected, rejected edges leave
    the state unchanged, and the stream order of the other edges is the same in G - v (the ranks are public).
(ii) Lowering v's capacity from theta to d~(v) changes nothing: until v holds its last kept edge its load is below
    d~(v) <= theta, so its capacity decides nothing in either run; afterwards v keeps nothing more in the original run
    and is full in the lowered one.
(iii) Lowering v's capacity by one (c to c - 1 >= 0): compare the two runs edge by edge. Invariant: the residuals
    differ at exactly one node z, by exactly 1 (initially z = v). An edge not touching z is decided alike. An edge
    (z, b) is decided differently only when z's residual is 1 in one run and 0 in the other while b's (common)
    residual is positive: then the run with residual 1 keeps it, z's residuals become equal and b's differ by 1,
    with the opposite sign, so z moves to b. The first move leaves v's residual 0 in both runs for good (the run
    with residual 1 keeps the edge, the other had 0), so z never returns to v. At the end: if z never left v, the
    runs are identical; otherwise v's degree differs by exactly 1 and among the other nodes only the final z
    differs, by 1. The residual differences sum to 1 - 2 m, m the larger-capacity run's kept edges minus the
    other's; the sum is +-1 at the end, so m is 0 or 1.
Chaining (ii), d~(v) unit steps (iii) and (i), the triangle inequality gives the lemma. Adding a node is the reverse
of deleting it, so the same bounds hold with d~(v) taken in the larger graph.

Released statistics (each bound holds for add and remove):
* `class_cumulative_histograms`: H[c, k] = #{u in L : y_u = c, d~(u) <= k}, k = 0..theta. Deleting v removes v
  (if v in L) from its own row at k >= d~(v): theta - d~(v) + 1 entries, each by 1. A unit change of another node's
  degree (d to d +- 1) flips [d~(u) <= k] at exactly one k, in u's row only, so by the lemma the other nodes change at
  most d~(v) entries by 1 in total. Hence ||Delta H||_1 <= theta + 1, and ||Delta H||_2 <= ||Delta H||_1 (entries
  are integers and several unit changes may hit one entry, as when a star's centre goes and every leaf drops to 0).
  The per-class split costs nothing: each node lies in one class, so every unit change touches one row.
* `projected_edge_count`: |E_theta|, sensitivity theta by the lemma.
* `theta_scores`: the utility of each theta in a public grid for the exponential mechanism,
    score(theta) = 2 |E_theta| - C (theta + 1)^2 sigma sqrt(2 / pi),
  with sigma the public noise multiplier of the histogram release. Both terms are in node-degree units: the L1
  distance of two cumulative histograms is n times the earth-mover distance of the degree distributions, and
  2 (|E| - |E_theta|) = sum_u (d(u) - d~(u)) bounds the projection's part of it (the paper's bias term); Gaussian
  noise of std sigma (theta + 1) on C (theta + 1) entries adds an expected L1 error of C (theta + 1)^2 sigma
  sqrt(2 / pi). The bias term itself cannot be scored: |E| has unbounded node sensitivity (a hub). But |E| is the
  same for every theta, so maximising 2 |E_theta| minus the noise error picks the same theta. The penalty is public
  and 2 |E_theta| moves by at most 2 theta, so every score moves by at most 2 max(grid).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from dpgraph.errors import DPGraphError
from dpgraph.graphops import theta_projection
from dpgraph.graphops.projection import check_theta


def class_cumulative_histograms(degrees: np.ndarray, y: Tensor, labelled: Tensor, num_classes: int,
                                theta: int) -> Tensor:
    """float64 [C, theta + 1]: entry (c, k) counts labelled nodes of class c with projected degree <= k.
    `degrees` are projected degrees (<= theta) of all nodes; `y` is read only where `labelled` is true."""
    check_theta(theta)
    degrees = torch.as_tensor(degrees).long()
    if degrees.numel() and int(degrees.max()) > theta:
        raise DPGraphError("degrees exceed theta: pass the degrees of theta_projection with the same theta")
    index = torch.nonzero(labelled).flatten()
    counts = torch.zeros(num_classes, theta + 1, dtype=torch.float64)
    counts.index_put_((y[index].long(), degrees[index]), torch.ones(index.numel(), dtype=torch.float64),
                      accumulate=True)
    return counts.cumsum(dim=1)


def cumulative_histogram_sensitivity(theta: int) -> float:
    """Delta_1 and Delta_2 of `class_cumulative_histograms` under node add/remove: theta + 1 (module docstring)."""
    check_theta(theta)
    return float(theta + 1)


def projected_edge_count(edge_index: Tensor, num_nodes: int, theta: int, rank: Tensor) -> float:
    """|E_theta|: the number of edges the theta-projection keeps."""
    return float(theta_projection(edge_index, num_nodes, theta, rank).size(1))


def projected_edge_count_sensitivity(theta: int) -> float:
    """Node-level sensitivity of `projected_edge_count`: theta (the lemma)."""
    check_theta(theta)
    return float(theta)


def theta_scores(edge_index: Tensor, num_nodes: int, rank: Tensor, grid: Sequence[int], num_classes: int,
                 noise_multiplier: float) -> Tensor:
    """float64 [len(grid)]: 2 |E_theta| - C (theta + 1)^2 noise_multiplier sqrt(2 / pi) for each theta in `grid`
    (higher is better; module docstring)."""
    _check_grid(grid)
    if not noise_multiplier >= 0:
        raise DPGraphError(f"noise_multiplier must be >= 0, got {noise_multiplier!r}: calibrate the histogram stage")
    thetas = torch.tensor(list(grid), dtype=torch.float64)
    kept = torch.tensor([projected_edge_count(edge_index, num_nodes, theta, rank) for theta in grid],
                        dtype=torch.float64)
    return 2 * kept - num_classes * (thetas + 1) ** 2 * noise_multiplier * math.sqrt(2 / math.pi)


def theta_score_sensitivity(grid: Sequence[int]) -> float:
    """Node-level sensitivity of every entry of `theta_scores`: 2 max(grid)."""
    _check_grid(grid)
    return float(2 * max(grid))


def _check_grid(grid: Sequence[int]) -> None:
    if len(grid) == 0:
        raise DPGraphError("the theta grid is empty: list at least one candidate theta")
    for theta in grid:
        check_theta(theta)
