"""Node-stable ego-net sampler: the ``hops``-hop neighbourhood of each root along fan-out-capped edges.

Each node ``u`` keeps the ``fanout`` of its neighbours with the smallest edge priorities (``keep(u)``); the priority
of edge ``u -> w`` is a keyed hash of ``(u, w, key)`` with a key drawn from the run's secret randomness, so it does
not depend on any other edge; the subgraph of root ``r`` is every node reachable from ``r`` by at most ``hops``
steps ``u -> keep(u)``. For ``hops = 0`` the subgraphs are the roots alone.

Node-stability (the precondition of :mod:`dpgraph.privacy.k_occurrence`). The priorities of G and of G' = G - v
agree on every edge they share (the hash couples them). ``keep(u)`` differs between them only if ``v`` is in
``keep_G(u)`` (then ``v`` leaves and the next neighbour enters; otherwise nothing moves). The walk tree of a root
``r`` in G therefore changes only if it reaches, at depth < hops, a node ``u`` with ``v in keep(u)`` (then it
reaches ``v`` too) or reaches ``v`` itself; and root ``v``'s own row becomes empty. So only rows that contain ``v``
differ.

Occurrence bound. ``v`` is in the row of ``r`` only if a chain ``r -> u_1 -> ... -> v`` of length <= hops exists,
each step along an edge of G. On a graph of maximum degree ``D`` at most ``sum_{i<=hops} D^i`` roots reach ``v``, so
``K = min(N, sum_{i=0}^{hops} D^i)``. ``D`` must be PUBLIC: the caller promises it, and
:func:`check_degree_promise` refuses a graph that breaks the promise (naming the promise, never the graph's degrees),
before any private computation. The guarantee is node-level DP among graphs that keep the promise: the refusal
itself reveals that one bit. ``hops = 0`` needs no promise (``K = 1``). Without a promise (``max_degree=None``),
K is the set's observed maximum occurrence: a bound only where neighbours share the structure (the attributes unit,
or a non-private run); :meth:`~dpgraph.sampling.params.SamplerParams.check_private` refuses it under the node
unit. The fan-out only bounds the size of a row, ``S = sum_{i<=hops} fanout^i``; it does not lower ``K``, since a
node with many neighbours can be kept by all of them. (A cap on how often a node is kept would make removing one
node free slots elsewhere and break node-stability; see :mod:`dpgraph.sampling.random_walk`.)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.utils import degree

from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_undirected
from dpgraph.privacy.randomness import SecretRandomness
from dpgraph.sampling.registry import SAMPLERS, SamplerSpec
from dpgraph.sampling.rows import dedupe_rows, pack_rows
from dpgraph.sampling.subgraphs import PAD, SubgraphSet


def ego_occurrence_bound(hops: int, max_degree: int, num_roots: int) -> int:
    """``min(N, sum_{i=0}^{hops} D^i)``: roots that can reach one node in a graph of maximum degree ``D``."""
    return min(num_roots, sum(max_degree**i for i in range(hops + 1)))


def edge_priorities(src: Tensor, dst: Tensor, seed: int) -> Tensor:
    """Priorities in [0, 1) that depend only on ``(src, dst, seed)``: the splitmix64 finaliser on a key (int64
    arithmetic wraps). Hand-written because torch has no keyed per-element hash; pseudo-random, not secret."""
    z = src * 0x9E3779B1 + dst * 0x7FEB352D + seed
    z = (z ^ (z >> 30)) * -4658895280553007687  # 0xBF58476D1CE4E5B9 as a signed int64
    z = (z ^ (z >> 27)) * -7723592293110705685  # 0x94D049BB133111EB
    z = z ^ (z >> 31)
    return (z & ((1 << 53) - 1)).double() / float(1 << 53)


def grouped_by_priority(src: Tensor, priority: Tensor) -> Tensor:
    """The order of the directed edges grouped by source node, lowest ``priority`` first within each group."""
    order = torch.argsort(priority)
    return order[torch.argsort(src[order], stable=True)]


def fanout_table(edge_index: Tensor, num_nodes: int, fanout: int, seed: int) -> Tensor:
    """[num_nodes, fanout] neighbours kept by each node (smallest :func:`edge_priorities` first; ``PAD`` fills)."""
    src, dst = simple_undirected(edge_index, num_nodes)
    order = grouped_by_priority(src, edge_priorities(src, dst, seed))
    owner, neighbour = src[order], dst[order]
    table = pack_rows(owner, neighbour, num_nodes)
    if table.size(1) < fanout:
        table = torch.cat([table, table.new_full((num_nodes, fanout - table.size(1)), PAD)], dim=1)
    return table[:, :fanout]


def check_degree_promise(edge_index: Tensor, num_nodes: int, max_degree: int) -> None:
    """Raise DPGraphError if some node has more than ``max_degree`` neighbours; the message names only the promise."""
    simple = simple_undirected(edge_index, num_nodes)
    top = int(degree(simple[0], num_nodes).max()) if simple.numel() else 0
    if top > max_degree:
        raise DPGraphError(f"the graph breaks the degree promise sampler.max_degree={max_degree} (some node has more "
                           "neighbours), so the node-level occurrence bound would not hold; raise the promise or use "
                           "hops: 0")


def ego_subgraphs(edge_index: Tensor, num_nodes: int, roots: Tensor, hops: int, fanout: int,
                  randomness: SecretRandomness, max_degree: int | None = None) -> SubgraphSet:
    """The ego-net :class:`SubgraphSet` of ``roots`` (distinct node ids); see the module docstring.

    With ``hops >= 1``, ``max_degree`` (the public degree promise) is checked by :func:`check_degree_promise` and
    gives K; without it K is the observed maximum occurrence (module docstring)."""
    roots = torch.as_tensor(roots, dtype=torch.long, device=edge_index.device).flatten()
    if roots.numel() == 0 or roots.unique().numel() != roots.numel():
        raise ValueError("roots must be a non-empty list of distinct node ids")
    if hops < 0 or fanout < 1:
        raise ValueError(f"need hops >= 0 and fanout >= 1, got hops={hops}, fanout={fanout}")
    if hops == 0:
        return SubgraphSet(roots.unsqueeze(1), occurrence_bound=1, node_stable=True, sampler="ego")
    if max_degree is not None:
        check_degree_promise(edge_index, num_nodes, max_degree)
    table = fanout_table(edge_index, num_nodes, fanout, randomness.integer(40))
    levels, frontier = [roots.unsqueeze(1)], roots.unsqueeze(1)
    for _ in range(hops):
        nxt = table[frontier.clamp_min(0)]  # [N, w, fanout]
        nxt[frontier == PAD] = PAD
        frontier = nxt.flatten(1)
        levels.append(frontier)
    nodes = dedupe_rows(torch.cat(levels, dim=1))
    if max_degree is None:
        return SubgraphSet(nodes, occurrence_bound=1, node_stable=True, sampler="ego").with_observed_bound(num_nodes)
    bound = ego_occurrence_bound(hops, max_degree, roots.numel())
    result = SubgraphSet(nodes, occurrence_bound=bound, node_stable=True, sampler="ego")
    result.check_bound(num_nodes)
    return result


def _check_promise(params: Any, edge_index: Tensor, num_nodes: int) -> None:
    if params.hops >= 1 and params.max_degree is not None:
        check_degree_promise(edge_index, num_nodes, params.max_degree)


SAMPLERS.register("ego")(SamplerSpec(
    build=lambda p, edges, n, roots, randomness: ego_subgraphs(edges, n, roots, p.hops, p.fanout, randomness,
                                                               p.max_degree),
    max_size=lambda p: sum(p.fanout**i for i in range(p.hops + 1)),
    node_stable=True,
    check_promise=_check_promise,
))
