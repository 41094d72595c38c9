"""The simple undirected graph as a list of node pairs, one per edge."""

from __future__ import annotations

from torch import Tensor

from dpgraph.graphops.simple import simple_undirected


def simple_pairs(edge_index: Tensor, num_nodes: int) -> Tensor:
    """[2, m] pairs (u, w) with u < w, sorted and unique: the edges of :func:`simple_undirected` taken once each;
    m is the number of edges of the simple graph."""
    edges = simple_undirected(edge_index, num_nodes)
    return edges[:, edges[0] < edges[1]]
