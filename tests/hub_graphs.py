"""Small graphs with hubs, the cases that break naive degree bounds: shared by the edge-unit sensitivity tests
(each deletes every edge of each graph and compares the change of a release with its bound)."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch_geometric.utils import erdos_renyi_graph, to_undirected

from dpgraph.graphops import simple_pairs


def star(n: int = 30) -> torch.Tensor:
    """Node 0 adjacent to every other node (one direction per edge)."""
    return torch.stack([torch.zeros(n - 1, dtype=torch.long), torch.arange(1, n)])


def two_joined_hubs(n: int = 30) -> torch.Tensor:
    """Hubs 0 and 1, joined, each adjacent to half of the others and both to node 2 (the edge 0-2 given twice)."""
    leaves = torch.arange(2, n)
    return torch.cat([torch.stack([torch.where(leaves < n // 2, 0, 1), leaves]), torch.tensor([[0, 1, 0], [1, 2, 2]])],
                     1)


def random_with_hubs(n: int = 40) -> torch.Tensor:
    """An Erdos-Renyi graph (p = 0.1, torch seed 0) plus two hubs adjacent to every other node."""
    torch.manual_seed(0)
    hubs = torch.stack([torch.tensor([0, 1]).repeat_interleave(n - 2), torch.arange(2, n).repeat(2)])
    return torch.cat([erdos_renyi_graph(n, 0.1), hubs], 1)


HUB_GRAPHS = (star, two_joined_hubs, random_with_hubs)

def messy(edge_index: torch.Tensor) -> torch.Tensor:
    """``edge_index`` as an input may come: both directions, every edge repeated, and a self-loop at node 3."""
    return torch.cat([to_undirected(edge_index), edge_index, torch.tensor([[3], [3]])], 1)


def edge_deletions(edge_index: torch.Tensor, num_nodes: int) -> Iterator[tuple[int, int, torch.Tensor]]:
    """``(u, w, edge_index without u-w)`` for every simple edge u < w, every copy of it in either direction removed."""
    pairs = simple_pairs(edge_index, num_nodes)
    for u, w in pairs.t().tolist():
        src, dst = edge_index
        yield u, w, edge_index[:, ~(((src == u) & (dst == w)) | ((src == w) & (dst == u)))]
