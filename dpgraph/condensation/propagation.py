"""GCN-normalised propagation Â^k X, sparse for the real graph and dense for the synthetic one."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import coalesce, remove_self_loops


def propagate(x: Tensor, edge_index: Tensor, num_nodes: int, k: int) -> Tensor:
    """Â^k x with Â = D^-1/2 (A + I) D^-1/2 on the simple graph of `edge_index` (as GCNConv/SGConv see it).

    Duplicate edges and self-loops are dropped first, as the evaluation's `sparse_adjacency` does.
    """
    edge_index, _ = remove_self_loops(coalesce(edge_index, num_nodes=num_nodes))
    edge_index, weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=True)
    adj = torch.sparse_coo_tensor(edge_index.flip(0), weight, (num_nodes, num_nodes),
                                  check_invariants=True).coalesce()
    out = x.float()
    for _ in range(k):
        out = torch.sparse.mm(adj, out)
    return out


def normalized_dense(adj: Tensor) -> Tensor:
    """D^-1/2 (A + I) D^-1/2 for a dense non-negative weighted `adj` [n, n], D = row sums of A + I."""
    adj = adj + torch.eye(adj.size(0), dtype=adj.dtype, device=adj.device)
    inv_sqrt = adj.sum(dim=1).rsqrt()
    return inv_sqrt.unsqueeze(1) * adj * inv_sqrt.unsqueeze(0)
