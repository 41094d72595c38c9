"""Edge-stable bounded-degree view of a graph: keep edge {u, v} when each endpoint ranks the other among its ``f``
neighbours of lowest keyed-hash priority.

The priority of {u, v} is :func:`~dpgraph.sampling.ego.edge_priorities` of ``(min(u, v), max(u, v), key)``: it
depends on that edge and the key only, so G and G' = G - e give every shared edge the same priority. Every node of
the view has degree at most ``f``.

Stability under removing one edge e = {u, v} (the precondition of an edge-level occurrence bound). A node's top-f
list changes only if e was in it: if v was in top_f(u), v leaves and u's (f+1)-th neighbour w (if any) enters;
otherwise top_f(u) is unchanged. The same holds at v, and no other node's list changes. An edge {a, b} is in the view
iff b in top_f(a) and a in top_f(b), so the view can change only at e itself and at edges that enter u's or v's list:
at most e leaves, {u, w} enters and {v, w'} enters: three edges. If e was in neither list, nothing changes.
"""

from __future__ import annotations

import torch
from torch import Tensor

from dpgraph.graphops import simple_undirected
from dpgraph.sampling.ego import edge_priorities, grouped_by_priority


def mutual_top_view(edge_index: Tensor, num_nodes: int, f: int, seed: int) -> Tensor:
    """The view's edges, both directions [2, 2 E'] (``edge_index`` is read as a simple undirected graph)."""
    if f < 1:
        raise ValueError(f"f must be a positive degree bound, got {f}")
    src, dst = simple_undirected(edge_index, num_nodes)
    priority = edge_priorities(torch.minimum(src, dst), torch.maximum(src, dst), seed)
    order = grouped_by_priority(src, priority)
    degrees = torch.bincount(src, minlength=num_nodes)
    first = torch.cumsum(degrees, 0) - degrees  # position of each node's first edge in ``order``
    rank = torch.empty_like(src)
    rank[order] = torch.arange(src.numel()) - first[src[order]]
    in_top = rank < f
    # the reverse of directed edge i: same pair, the other direction; match by a sort on (src, dst) keys
    key, reverse_key = src * num_nodes + dst, dst * num_nodes + src
    sorted_keys, position = torch.sort(key)
    reverse = position[torch.searchsorted(sorted_keys, reverse_key)]
    keep = in_top & in_top[reverse]
    return torch.stack([src[keep], dst[keep]])
