"""GCN-normalised propagation Â^k X, sparse for the real graph and dense for the synthetic one."""

from __future__ import annotations

import torch
from torch import Tensor

from dpgraph.dpsgd.full_graph import normalized_sparse_adjacency


def propagate(x: Tensor, edge_index: Tensor, num_nodes: int, k: int) -> Tensor:
    """Â^k x with Â = D^-1/2 (A + I) D^-1/2 on the simple undirected graph of `edge_index` (as GCNConv/SGConv
    see it; see `normalized_sparse_adjacency`)."""
    adj = normalized_sparse_adjacency(edge_index, num_nodes)
    out = x.float()
    for _ in range(k):
        out = torch.sparse.mm(adj, out)
    return out


def normalized_dense(adj: Tensor) -> Tensor:
    """D^-1/2 (A + I) D^-1/2 for a dense non-negative weighted `adj` [n, n], D = row sums of A + I."""
    adj = adj + torch.eye(adj.size(0), dtype=adj.dtype, device=adj.device)
    inv_sqrt = adj.sum(dim=1).rsqrt()
    return inv_sqrt.unsqueeze(1) * adj * inv_sqrt.unsqueeze(0)


def propagate_roots(x: Tensor, adj: Tensor, root: Tensor, k: int) -> Tensor:
    """Row ``root[b]`` of Â_b^k X_b for each subgraph b: x [B, S, F], adj [B, S, S] (already normalised, e.g. a
    `DenseSubgraphBatch`), root [B] -> [B, F]. Each output row depends on its own subgraph only."""
    out = x.float()
    for _ in range(k):
        out = torch.bmm(adj.to(out.dtype), out)
    return out[torch.arange(out.size(0), device=out.device), root]
