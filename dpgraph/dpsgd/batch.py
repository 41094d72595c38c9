"""Padded dense batches of rooted subgraphs, with the GCN-normalised adjacency of each subgraph."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class DenseSubgraphBatch:
    """``B`` subgraphs padded to ``S`` nodes.

    ``x`` [B, S, F] features (padding rows 0); ``adj`` [B, S, S] = D^-1/2 (A + I) D^-1/2 over the valid nodes
    (padding rows/cols 0); ``mask`` [B, S] valid nodes; ``root`` [B] position of the root; ``y`` [B] root labels.
    """

    x: Tensor
    adj: Tensor
    mask: Tensor
    root: Tensor
    y: Tensor

    def __len__(self) -> int:
        return self.y.size(0)

    def index(self, idx: Tensor) -> DenseSubgraphBatch:
        """The subgraphs at ``idx`` (a 1-D long tensor of positions), in that order."""
        idx = idx.to(self.y.device)
        return DenseSubgraphBatch(self.x[idx], self.adj[idx], self.mask[idx], self.root[idx], self.y[idx])

    def to(self, device: torch.device | str) -> DenseSubgraphBatch:
        """A copy on ``device``."""
        return DenseSubgraphBatch(*(t.to(device) for t in (self.x, self.adj, self.mask, self.root, self.y)))


def normalized_adjacency(adj: Tensor, mask: Tensor) -> Tensor:
    """D^-1/2 (A + I) D^-1/2 for a 0/1 adjacency [..., S, S] without self-loops, restricted to ``mask`` [..., S]."""
    valid = mask.to(adj.dtype)
    a_hat = (adj + torch.diag_embed(valid)) * valid.unsqueeze(-1) * valid.unsqueeze(-2)
    deg = a_hat.sum(-1)
    inv_sqrt = torch.where(deg > 0, deg.clamp_min(1e-12).rsqrt(), torch.zeros_like(deg))
    return inv_sqrt.unsqueeze(-1) * a_hat * inv_sqrt.unsqueeze(-2)
