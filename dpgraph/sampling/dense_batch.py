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

    def tensors(self) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """``(x, adj, mask, root, y)``: the units as the DP-SGD engine takes them (leading dim B)."""
        return self.x, self.adj, self.mask, self.root, self.y

    def to(self, device: torch.device | str) -> DenseSubgraphBatch:
        """A copy on ``device``."""
        return DenseSubgraphBatch(*(t.to(device) for t in (self.x, self.adj, self.mask, self.root, self.y)))
