"""Random walks as DP-SGD units under edge-level DP: ``R`` walks of length ``L`` from every node of the edge-stable
bounded-degree view (:func:`~dpgraph.sampling.mutual_top.mutual_top_view`, max degree ``f``), and the number ``K``
of walks that one edge can change.

Walks. Walker ``i`` (``N = n R`` of them, walker ``i`` starts at node ``i // R``: ``N`` is public) draws one uniform
``U_{i,t}`` per step ``t`` (:func:`~dpgraph.sampling.random_walk.random_walks`, no restart; a draw of fixed shape,
whatever the graph) and moves from ``x`` to the neighbour of CSR position ``floor(U_{i,t} deg(x))`` in ``x``'s sorted
neighbour list of the view (a node without neighbours keeps the walker in place). The next position is therefore a
function of (current node, that node's neighbour SET in the view, ``U_{i,t}``).

**Occurrence bound** (:func:`walk_occurrence_bound`). Neighbours G and G' = G - e, e = {u, v}; couple them by the
same view key and the same uniforms U. (1) The views differ by at most three edges, {u, v} leaving and {u, w},
{v, w'} entering (mutual_top's docstring), so the set A of nodes whose neighbour set differs has |A| <= 4 (u, v, w,
w'). (2) A walk whose positions at steps 0..L-1 avoid A is identical in G and G': by induction on t, equal
positions up to step t and an equal neighbour set at the step-t node (not in A) give the same step t + 1 under the
shared U_{i,t}. So a changed walk visits some x in A at a step t <= L - 1 (its last position never draws a move),
and until its first visit of A it follows view edges of nodes outside A, present in both views. (3) Its start then
lies within distance t <= L - 1 of x in the view of G, whose degrees are <= f: at most
``ball(f, L-1) = 1 + f sum_{i<L-1} (f-1)^i`` starts per x, each starting R walks. Hence at most
``K = R min(n, 4 ball(f, L-1))`` of the N walks differ; ``L = 1`` gives ``K = 4 R``. The walk list keeps its length
N in both graphs: one edge modifies <= K of N units, the relation of :mod:`dpgraph.privacy.k_occurrence`. Adding an
edge is the same pair read the other way. For each fixed key and U the K-occurrence DP-SGD run composes over its
steps; its RDP bound holds for every such coupling, so (joint convexity) it holds for the mixture over the walk
randomness too.
"""

from __future__ import annotations

import torch
from torch import Tensor

from dpgraph.sampling.mutual_top import mutual_top_view
from dpgraph.sampling.random_walk import random_walks, undirected_csr

#: nodes whose neighbour set in the mutual top-f view can change when one edge is added or removed
CHANGED_NODES = 4


def ball_size(max_degree: int, radius: int) -> int:
    """Most nodes within ``radius`` hops of a node in a graph of max degree ``f``: ``1 + f sum_{i<r} (f-1)^i``."""
    return 1 + sum(max_degree * (max_degree - 1) ** i for i in range(radius))


def walk_occurrence_bound(num_nodes: int, max_degree: int, walks_per_node: int, walk_length: int) -> int:
    """``K = R min(n, 4 ball(f, L - 1))``: the most walks one edge changes (module docstring)."""
    if walk_length < 1 or walks_per_node < 1 or max_degree < 1:
        raise ValueError(f"need walk_length, walks_per_node and max_degree >= 1, got {walk_length}, "
                         f"{walks_per_node}, {max_degree}")
    return walks_per_node * min(num_nodes, CHANGED_NODES * ball_size(max_degree, walk_length - 1))


def view_walks(edge_index: Tensor, num_nodes: int, max_degree: int, key: int, walks_per_node: int,
               walk_length: int, generator: torch.Generator) -> Tensor:
    """[n R, L + 1] node ids: walker ``i`` starts at node ``i // R`` and walks ``L`` steps on the mutual top-f view
    of ``edge_index`` keyed by ``key`` (module docstring), its uniforms drawn from ``generator``."""
    view = mutual_top_view(edge_index, num_nodes, max_degree, key)
    rowptr, col = undirected_csr(view, num_nodes)
    starts = torch.arange(num_nodes).repeat_interleave(walks_per_node)
    return random_walks(rowptr, col, starts, walk_length, 0.0, generator)
