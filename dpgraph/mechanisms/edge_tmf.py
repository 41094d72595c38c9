"""`edge-tmf`: Top-m-Filter (Nguyen, Imine, Rusinowitch 2015, "Differentially private publication of social graphs
at linear cost"), written from the method: a noisy edge count, then the thresholded Laplace-noised adjacency matrix.

Privacy unit: edge (add/remove one undirected edge; node features, labels, the split and the node ids are public).
Two Laplace releases, each recorded as ``PureDPEvent(eps_stage)`` (:mod:`dpgraph.privacy.laplace`):

* ``count``: the edge count ``m`` + Lap(1 / eps_1). **Sensitivity:** one edge changes ``m`` by exactly 1: Delta_1 = 1.
* ``matrix``: every one of the ``N = n(n-1)/2`` upper-triangle entries ``A_uw`` of the adjacency matrix + Lap(b),
  ``b = 1 / eps_2``, i.i.d. **Sensitivity:** one edge is one entry, changed by 1, so the whole matrix has
  Delta_1 = 1 (checked by deleting every edge of graphs with hubs).

The output keeps the pairs whose noisy entry exceeds ``theta`` (:func:`tmf_threshold`), a function of the released
count alone: a post-processing of the noisy matrix, so the run is eps_1-DP then eps_2-DP, composed in the ledger.

**Linear cost** (:func:`thresholded_adjacency`): the m existing edges are tested one by one (each kept iff
``1 + Lap(b) > theta``); the N - m non-edges pass independently with the same probability ``p_0 = P[Lap(b) > theta]``,
so the set of passing non-edges has exactly the law of a ``Binomial(N - m, p_0)`` count of them drawn uniformly
without replacement (exchangeability); the count is drawn by the binomial inverse CDF and the positions by rejection
(:func:`uniform_non_edges`). These draws stand in for the noise on the non-edge entries, so they come from the
run's SECRET randomness, as the noise does. The n x n matrix is never built: memory and time are O(m + K log K),
K the number of non-edges drawn (refused before drawing when it would not fit in memory).

Budget split ``count 0.1 / matrix 0.9``: a fixed design choice (the count only sets theta; the matrix carries the
structure), not tuned on any data.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.stats import binom, laplace
from torch import Tensor

from dpgraph.config.sections import PrivacySection
from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.data.sbm import BYTES_PER_EDGE
from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_pairs, simple_undirected
from dpgraph.mechanisms.base import Mechanism, ReleaseContext
from dpgraph.mechanisms.edge_release import synthetic_edges_release
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.privacy.laplace import laplace_event, laplace_release
from dpgraph.privacy.randomness import SecretRandomness
from dpgraph.privacy.spend import Spend
from dpgraph.releases import GraphRelease
from dpgraph.resources import check_memory

MAX_NODES = 3_037_000_499  # n^2 < 2^63: a pair (u, w) is keyed by the int64 u * n + w


def num_pairs(num_nodes: int) -> int:
    """``N = n(n-1)/2``, the number of upper-triangle entries of the adjacency matrix."""
    return num_nodes * (num_nodes - 1) // 2


def tmf_threshold(scale: float, noisy_edges: float, total: int) -> float:
    """The threshold theta at which the expected number of passing entries of ``A + Lap(scale)`` equals the noisy
    edge count ``m~`` (0 < m~ < N = ``total``), with m~ ones among the N entries:
    ``(N - m~) P[Lap > theta] + m~ P[1 + Lap > theta] = m~``, solved here piecewise in closed form (with
    ``b = scale = 1 / eps_2``):

    * ``theta = 1/2 + (b/2) log(N / m~ - 1)`` when that lies in [0, 1] (passing zeros = failing ones);
    * ``theta = b log(N / (2 m~) + (e^(1/b) - 1) / 2)`` when ``b log(N / m~ - 1) > 1`` (theta > 1);
    * ``theta = 1 - theta(N - m~)`` for dense graphs (m~ > N/2: the same count for the complement), which covers
      theta < 0."""
    if not 0 < noisy_edges < total:
        raise DPGraphError(f"the noisy edge count must lie strictly between 0 and the {total} node pairs; clamp it")
    if noisy_edges > total / 2:
        return 1.0 - tmf_threshold(scale, total - noisy_edges, total)
    log_odds = math.log((total - noisy_edges) / noisy_edges)
    if scale * log_odds <= 1:
        return 0.5 + scale * log_odds / 2
    return scale * (float(np.logaddexp(math.log(total - noisy_edges), math.log(noisy_edges) + 1 / scale))
                    - math.log(2 * noisy_edges))


def uniform_non_edges(pairs: Tensor, num_nodes: int, count: int, randomness: SecretRandomness) -> Tensor:
    """[2, count] distinct pairs (u, w), u < w, none in ``pairs`` ([2, m], u < w): a uniformly random ``count``-subset
    of the non-edges. Rejection: ordered pairs of nodes ``floor(U n)`` from ``randomness``'s uniforms are drawn in
    batches, self-pairs, edges and repeats dropped; the distinct survivors, in draw order, are a sequential uniform
    sample without replacement, so the first ``count`` are a uniform subset (the 2^-53 grid of U biases a node by at
    most n 2^-53). Each draw is kept with probability at least ``(1 - 1/n)(N_0 - count) / N`` (N_0 the non-edges):
    about 1/4 or more when ``count <= N_0 / 2`` and ``m <= N / 2``, as for TmF whenever m~ <= N/2 (then
    theta >= 1/2 and at most half the non-edges pass in expectation)."""
    if not 2 <= num_nodes <= MAX_NODES:
        raise DPGraphError(f"uniform non-edges need 2 to {MAX_NODES} nodes (pairs are int64 keys u * n + w)")
    free = num_pairs(num_nodes) - pairs.size(1)
    if not 0 <= count <= free:
        raise DPGraphError(f"cannot draw {count} distinct non-edges from {free}: ask for at most {free}")
    check_memory(BYTES_PER_EDGE * count, f"drawing {count} random non-edges",
                 "raise privacy.epsilon or the count stage's share")
    taken = pairs[0] * num_nodes + pairs[1]
    chosen = torch.zeros(0, dtype=torch.long)
    while chosen.numel() < count:
        need = count - chosen.numel()
        ends = (randomness.uniform((2, need + need // 2 + 16)) * num_nodes).long().clamp_(max=num_nodes - 1)
        ends = ends[:, ends[0] != ends[1]]
        keys = ends.min(0).values * num_nodes + ends.max(0).values
        keys = torch.cat([chosen, keys[~torch.isin(keys, taken)]]).numpy()
        first = np.sort(np.unique(keys, return_index=True)[1])  # first occurrences, in draw order
        chosen = torch.from_numpy(keys[first[:count]])
    return torch.stack([chosen // num_nodes, chosen % num_nodes])


def thresholded_adjacency(pairs: Tensor, num_nodes: int, theta: float, spend: Spend,
                          randomness: SecretRandomness) -> Tensor:
    """[2, k] pairs u < w whose entry of ``A + Lap(b)`` exceeds ``theta`` (``A`` the adjacency of the simple graph
    whose edges are ``pairs``, [2, m], u < w; ``b`` = the noise multiplier of ``spend``, Delta_1 = 1), at linear cost
    (module docstring): the existing edges through :func:`~dpgraph.privacy.laplace.laplace_release` (which records
    ``PureDPEvent(1 / b)``), then a ``Binomial(N - m, P[Lap(b) > theta])`` count of non-edges by its inverse CDF
    and their positions by :func:`uniform_non_edges`, all from ``randomness``."""
    noisy = laplace_release(torch.ones(pairs.size(1), dtype=torch.float64), 1.0, spend, randomness)
    kept = pairs[:, noisy > theta]
    free = num_pairs(num_nodes) - pairs.size(1)
    passing = laplace.sf(theta, scale=spend.noise_multiplier)
    u = float(randomness.uniform((1,)))
    count = max(int(binom.ppf(u, free, passing)), 0) if free else 0  # ppf(0) is -1 by scipy's convention
    return torch.cat([kept, uniform_non_edges(pairs, num_nodes, count, randomness)], 1)


class TmFParams(StrictModel):
    """`edge-tmf` takes no parameters; its budget split is ``privacy.split`` (default count 0.1 / matrix 0.9)."""


@MECHANISMS.register("edge-tmf")
class EdgeTmF(Mechanism):
    """Top-m-Filter under edge-level DP (module docstring): Laplace edge count, thresholded Laplace adjacency."""

    name = "edge-tmf"
    Params = TmFParams
    units = ("edge",)
    releases = GraphRelease
    stages = ("count", "matrix")
    default_split = {"count": 0.1, "matrix": 0.9}

    def memory_estimate(self, graph: GraphDataset, params: TmFParams) -> tuple[float, str]:
        """Negligible: the matrix is never built; the drawn non-edges are checked before they are drawn."""
        return 0.0, ""

    def check(self, privacy: PrivacySection, graph: GraphDataset, params: TmFParams) -> None:
        """:meth:`Mechanism.check`, and at least 3 nodes (the public n), so that 0 < m~ < N can hold."""
        super().check(privacy, graph, params)
        if graph.num_nodes < 3:
            raise DPGraphError(f"edge-tmf needs a graph of at least 3 nodes, got {graph.num_nodes}")

    def release(self, graph: GraphDataset, params: TmFParams, context: ReleaseContext) -> GraphRelease:
        n = graph.num_nodes
        pairs = simple_pairs(graph.data.edge_index, n)
        total = num_pairs(n)
        spend = context.spend("count", laplace_event)
        noisy_count = float(laplace_release(torch.tensor([float(pairs.size(1))]), 1.0, spend, context.secret))
        noisy_edges = min(max(round(noisy_count), 1), total - 1)  # post-processing: an integer in (0, N)
        spend = context.spend("matrix", laplace_event)
        theta = tmf_threshold(spend.noise_multiplier, noisy_edges, total)
        released = thresholded_adjacency(pairs, n, theta, spend, context.secret)
        return synthetic_edges_release(graph, simple_undirected(released, n))
