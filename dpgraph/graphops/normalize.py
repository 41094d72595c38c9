"""GCN normalisation Â = D^-1/2 (A + I) D^-1/2, sparse (a whole graph) and dense (padded or synthetic graphs)."""

from __future__ import annotations

import torch
from torch import Tensor

from dpgraph.graphops.adjacency import sparse_adjacency
from dpgraph.graphops.conv_operators import gcn_operator
from dpgraph.graphops.simple import simple_undirected


def normalized_sparse_adjacency(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Sparse CSR ``Â`` [n, n] of the simple undirected graph of ``edge_index`` (as GCNConv sees it)."""
    return gcn_operator(sparse_adjacency(simple_undirected(edge_index, num_nodes), num_nodes))


def identity_adjacency(num_nodes: int, device: torch.device | str = "cpu") -> Tensor:
    """Sparse identity: inference that ignores every edge (each node on its own)."""
    index = torch.arange(num_nodes, device=device).repeat(2, 1)
    with torch.sparse.check_sparse_tensor_invariants():
        return torch.sparse_coo_tensor(index, torch.ones(num_nodes, device=device), (num_nodes, num_nodes)).coalesce()


def normalized_dense(adj: Tensor, mask: Tensor | None = None) -> Tensor:
    """``Â`` for a dense non-negative weighted ``adj`` [..., S, S] without self-loops, restricted to the valid nodes
    ``mask`` [..., S] (all valid if None): rows and columns of invalid nodes are 0, D = row sums of A + I."""
    valid = torch.ones(adj.shape[:-1], dtype=adj.dtype, device=adj.device) if mask is None else mask.to(adj.dtype)
    a_hat = (adj + torch.diag_embed(valid)) * valid.unsqueeze(-1) * valid.unsqueeze(-2)
    deg = a_hat.sum(-1)
    inv_sqrt = torch.where(deg > 0, deg.clamp_min(1e-12).rsqrt(), torch.zeros_like(deg))
    return inv_sqrt.unsqueeze(-1) * a_hat * inv_sqrt.unsqueeze(-2)
