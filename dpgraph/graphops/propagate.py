"""Propagation ``Â^k X`` with a normalised adjacency (sparse, dense or a batch of dense ones)."""

from __future__ import annotations

import torch
from torch import Tensor


def propagate(x: Tensor, adj: Tensor, k: int) -> Tensor:
    """``adj^k x`` in float32 or wider: ``adj`` [n, n] sparse or dense, or [B, S, S] with ``x`` [B, S, F]."""
    out = x.float() if x.dtype not in (torch.float32, torch.float64) else x
    for _ in range(k):
        out = adj.to(out.dtype) @ out
    return out


def propagate_roots(x: Tensor, adj: Tensor, root: Tensor, k: int) -> Tensor:
    """Row ``root[b]`` of ``adj_b^k x_b`` for each padded subgraph b: x [B, S, F], adj [B, S, S], root [B] -> [B, F].
    Each output row depends on its own subgraph only."""
    out = propagate(x, adj, k)
    return out[torch.arange(out.size(0), device=out.device), root]
