"""Whole-graph inference for the dense subgraph models: the GCN-normalised sparse adjacency of a graph."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import coalesce, remove_self_loops, to_undirected


def normalized_sparse_adjacency(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Sparse ``D^-1/2 (A + I) D^-1/2`` [n, n] of the simple undirected graph ``edge_index`` (as in the batches)."""
    simple, _ = remove_self_loops(coalesce(to_undirected(edge_index, num_nodes=num_nodes), num_nodes=num_nodes))
    index, weight = gcn_norm(simple, None, num_nodes, add_self_loops=True)
    with torch.sparse.check_sparse_tensor_invariants():
        return torch.sparse_coo_tensor(index.flip(0), weight, (num_nodes, num_nodes)).coalesce()


def identity_adjacency(num_nodes: int, device: torch.device | str = "cpu") -> Tensor:
    """Sparse identity: whole-graph inference that ignores every edge (each node on its own)."""
    index = torch.arange(num_nodes, device=device).repeat(2, 1)
    with torch.sparse.check_sparse_tensor_invariants():
        return torch.sparse_coo_tensor(index, torch.ones(num_nodes, device=device), (num_nodes, num_nodes)).coalesce()
