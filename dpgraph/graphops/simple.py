"""The simple undirected view of a graph, which every graph component reads."""

from __future__ import annotations

from torch import Tensor
from torch_geometric.utils import remove_self_loops, to_undirected


def simple_undirected(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Both directions of every edge, self-loops dropped, duplicates merged, sorted (PyG's coalesced order)."""
    edges, _ = remove_self_loops(to_undirected(edge_index.long(), num_nodes=num_nodes))
    return edges
