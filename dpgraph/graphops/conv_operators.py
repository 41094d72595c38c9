"""The sparse operators GCNConv and SAGEConv apply to an ``adj_t`` from `sparse_adjacency`, built once as CSR."""

from __future__ import annotations

import torch
from torch import Tensor


def gcn_operator(adj_t: Tensor) -> Tensor:
    """CSR Â with Â[i, j] = d_i^-1/2 d_j^-1/2 for j = i or ``adj_t[i, j] != 0``, d_i = 1 + (entries of row i):
    GCNConv's ``gcn_norm(adj_t, add_self_loops=True)``, same values, built in O(nnz) without re-sorting.
    ``adj_t`` must store no diagonal entry (`sparse_adjacency` drops self-loops)."""
    n, crow, col = adj_t.size(0), adj_t.crow_indices(), adj_t.col_indices()
    counts = crow.diff()
    row = torch.repeat_interleave(torch.arange(n, device=col.device), counts)
    above = col > row
    shift = torch.arange(n + 1, device=col.device)
    crow_loops = crow + shift  # one extra entry (the diagonal) in every earlier row
    new_col = torch.empty(col.numel() + n, dtype=col.dtype, device=col.device)
    new_col[torch.arange(col.numel(), device=col.device) + row + above] = col
    below = counts - torch.bincount(row[above], minlength=n)
    new_col[crow[:-1] + shift[:-1] + below] = shift[:-1]
    inv_sqrt = (counts + 1).to(torch.float32).pow_(-0.5)
    new_row = torch.repeat_interleave(shift[:-1], counts + 1)
    return torch.sparse_csr_tensor(crow_loops, new_col, inv_sqrt[new_row] * inv_sqrt[new_col], adj_t.shape)


def mean_operator(adj_t: Tensor) -> Tensor:
    """CSR M with M[i, j] = 1 / (entries of row i) where ``adj_t[i, j] != 0``: SAGEConv's mean aggregation (a row
    without entries aggregates to 0)."""
    crow = adj_t.crow_indices()
    counts = crow.diff()
    inv = 1.0 / counts.clamp_min(1).to(torch.float32)
    return torch.sparse_csr_tensor(crow, adj_t.col_indices(), torch.repeat_interleave(inv, counts), adj_t.shape)
