"""Random-walk-with-restart sampler with a hard occurrence cap ``K``. NOT node-stable: never use it with the
K-occurrence accountant under the node unit; under the attributes unit (public edges) it is sound (below).

Sampling. Every root sends ``walks_per_root`` walkers, all advanced together for ``walk_length`` steps; at each
step a walker jumps back to its root with probability ``restart_prob``, otherwise it moves to a uniform
neighbour (a walker on a node without neighbours goes back to its root). Edges are taken as undirected and
simple. A subgraph's candidates are the distinct nodes its walks visited, ordered by first visit (time step,
then walker index; the root first, at time 0).

Occurrence cap (a data-independent rule). The roots get a uniformly random priority order. Each node ranks its
candidate appearances: as the root of its own subgraph first, then by root priority, and an appearance is kept
iff its rank is < K. Each subgraph then keeps its first ``max_size`` kept candidates. So every node is in at most
K rows, and every root heads its own row.

Why ``node_stable=False``. Couple the randomness of G and G' = G - v (same generator state). Removing ``v``
re-routes the walks that went through ``v`` or its neighbours (their neighbour draws change). The re-routed
walks visit other nodes and take up those nodes' K slots, so the cap can drop such a node from a lower-priority
subgraph that never contained ``v`` and whose own walks did not change; the nodes it loses or gains change other
rows in turn (a cascade). Hence "only the rows containing ``v`` differ" fails, and the privacy accounting of
:mod:`dpgraph.privacy.k_occurrence` (which needs node-stability plus K) does not apply: the DP mechanisms use a
node-stable sampler (:mod:`dpgraph.sampling.ego`).

Why it is sound under the attributes unit. There the edges are public and identical in neighbouring datasets, and
the walks and the cap read only the edges and the sampler's own randomness: both datasets get the same rows.
Replacing one node's attributes therefore modifies exactly the rows that contain it, at most K of them, which is
the precondition of :mod:`dpgraph.privacy.k_occurrence`.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.index import index2ptr

from dpgraph.graphops import simple_undirected
from dpgraph.sampling.registry import SAMPLERS, SamplerSpec
from dpgraph.sampling.rows import dedupe_rows, pack_rows
from dpgraph.sampling.subgraphs import PAD, SubgraphSet


def undirected_csr(edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    """``(rowptr [n+1], col [E])``: the symmetrised, coalesced graph without self-loops, in CSR form."""
    edges = simple_undirected(edge_index, num_nodes)
    return index2ptr(edges[0], num_nodes), edges[1]


def random_walks(rowptr: Tensor, col: Tensor, start: Tensor, walk_length: int, restart_prob: float,
                 generator: torch.Generator) -> Tensor:
    """[M, walk_length + 1] positions of ``M = len(start)`` walkers, column 0 = ``start``.

    Per step each walker draws ``u, w ~ U[0, 1)``: if ``u < restart_prob`` or its node has degree 0 it returns to
    its start, else it moves to neighbour ``floor(w * deg)`` of its CSR row. Hand-written because torch-cluster /
    pyg-lib (compiled, optional) are not installed, and torch-cluster's walk has no restart."""
    deg = rowptr[1:] - rowptr[:-1]
    visits = start.new_empty(start.numel(), walk_length + 1)
    visits[:, 0] = start
    cur, last_edge = start, max(col.numel() - 1, 0)
    for step in range(1, walk_length + 1):
        u = torch.rand(2, start.numel(), generator=generator, device=start.device, dtype=torch.float64)
        d = deg[cur]
        offset = torch.minimum((u[1] * d).long(), (d - 1).clamp_min(0))
        nxt = col[(rowptr[cur] + offset).clamp_max(last_edge)] if col.numel() else start
        cur = torch.where((u[0] < restart_prob) | (d == 0), start, nxt)
        visits[:, step] = cur
    return visits


def _rank_in_groups(sorted_groups: Tensor) -> Tensor:
    """Position of each entry within its run of equal values (``sorted_groups`` sorted ascending)."""
    first = torch.searchsorted(sorted_groups, sorted_groups)
    return torch.arange(sorted_groups.numel(), device=sorted_groups.device) - first


def cap_occurrences(sub: Tensor, node: Tensor, roots: Tensor, bound: int, generator: torch.Generator) -> Tensor:
    """Keep-mask of candidate pairs ``(sub, node)``: node's rank < ``bound``, its own root row first, then
    subgraphs by a random priority order of the roots drawn from ``generator``."""
    num_roots = roots.numel()
    priority = torch.randperm(num_roots, generator=generator, device=roots.device)
    rank_key = torch.where(node == roots[sub], 0, 1 + priority[sub])
    order = torch.argsort(node * (num_roots + 1) + rank_key)
    keep = torch.empty_like(node, dtype=torch.bool)
    keep[order] = _rank_in_groups(node[order]) < bound
    return keep


def _check_args(roots: Tensor, num_nodes: int, max_size: int, walk_length: int, restart_prob: float,
                walks_per_root: int, occurrence_bound: int) -> None:
    if roots.dim() != 1 or roots.unique().numel() != roots.numel():
        raise ValueError("roots must be a 1-D tensor of distinct node ids")
    if roots.numel() and bool(((roots < 0) | (roots >= num_nodes)).any()):
        raise ValueError(f"roots must be node ids in [0, {num_nodes})")
    if max_size < 1 or occurrence_bound < 1 or walks_per_root < 1 or walk_length < 0:
        raise ValueError(f"need max_size >= 1, occurrence_bound >= 1, walks_per_root >= 1, walk_length >= 0; got "
                         f"{max_size}, {occurrence_bound}, {walks_per_root}, {walk_length}")
    if not 0.0 <= restart_prob < 1.0:
        raise ValueError(f"restart_prob must lie in [0, 1), got {restart_prob}")


def random_walk_subgraphs(edge_index: Tensor, num_nodes: int, roots: Tensor, max_size: int, walk_length: int,
                          restart_prob: float, walks_per_root: int, occurrence_bound: int,
                          generator: torch.Generator) -> SubgraphSet:
    """Capped random-walk subgraphs of ``roots`` (see the module docstring): ``nodes`` [len(roots), max_size],
    row i headed by ``roots[i]``, every node in at most ``occurrence_bound`` rows; ``node_stable=False``.

    Deterministic given ``generator`` (on the device of ``edge_index`` and ``roots``). Raises ValueError on
    repeated or out-of-range roots or out-of-range parameters."""
    roots = roots.to(edge_index.device, torch.long)
    _check_args(roots, num_nodes, max_size, walk_length, restart_prob, walks_per_root, occurrence_bound)
    rowptr, col = undirected_csr(edge_index, num_nodes)
    visits = random_walks(rowptr, col, roots.repeat_interleave(walks_per_root), walk_length, restart_prob,
                          generator)
    # column t * walks_per_root + w = walker w at step t, so left-to-right is first-visit order
    by_time = visits.view(roots.numel(), walks_per_root, walk_length + 1).transpose(1, 2).flatten(1)
    candidates = dedupe_rows(by_time)
    valid = candidates != PAD
    sub = torch.arange(roots.numel(), device=roots.device).unsqueeze(1).expand_as(candidates)[valid]
    node = candidates[valid]
    keep = cap_occurrences(sub, node, roots, occurrence_bound, generator)
    rows = pack_rows(sub[keep], node[keep], roots.numel())[:, :max_size]
    nodes = torch.cat([rows, rows.new_full((rows.size(0), max_size - rows.size(1)), PAD)], dim=1)
    result = SubgraphSet(nodes, occurrence_bound=occurrence_bound, node_stable=False, sampler="random-walk")
    result.check_bound(num_nodes)
    return result


SAMPLERS.register("random-walk")(SamplerSpec(
    build=lambda p, edges, n, roots, randomness: random_walk_subgraphs(
        edges, n, roots, p.max_size, p.walk_length, p.restart_prob, p.walks_per_root, p.occurrence_bound,
        randomness.generator(edges.device)),
    max_size=lambda p: p.max_size,
    node_stable=False,
))
