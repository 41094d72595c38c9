"""Dense GNNs on padded subgraphs, evaluated at the root node.

Every forward accepts a batch (``x`` [B,S,F], ``adj`` [B,S,S], ``mask`` [B,S], ``root`` [B] -> [B, C]) or ONE
subgraph (``x`` [S,F], ``adj`` [S,S], ``mask`` [S], ``root`` [] -> [C]), so ``torch.func.vmap`` can map the
unbatched form. Layers propagate then transform (``Linear(adj @ H) = adj @ H @ W + b``), which keeps every
parameter inside an ``nn.Linear``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def root_row(adj: Tensor, root: Tensor) -> Tensor:
    """The root's row of ``adj`` as [..., 1, S] (a one-hot matmul, so it vmaps)."""
    positions = torch.arange(adj.size(-1), device=adj.device)
    return (positions == root.unsqueeze(-1)).to(adj.dtype).unsqueeze(-2) @ adj


class DenseGCN(nn.Module):
    """GCN: ``H' = relu(adj @ H @ W + b)`` masked to valid nodes; the last layer is taken at the root only."""

    def __init__(self, in_channels: int, hidden: int, num_classes: int, num_layers: int = 2, dropout: float = 0.0):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        sizes = [in_channels] + [hidden] * (num_layers - 1) + [num_classes]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.dropout = dropout

    def forward(self, x: Tensor, adj: Tensor, mask: Tensor, root: Tensor) -> Tensor:
        valid = mask.unsqueeze(-1).to(x.dtype)
        h = x
        for layer in self.layers[:-1]:
            h = F.dropout(h, self.dropout, self.training)
            h = torch.relu(layer(adj @ h)) * valid
        h = F.dropout(h, self.dropout, self.training)
        return self.layers[-1](root_row(adj, root) @ h).squeeze(-2)

    def forward_all(self, x: Tensor, adj: Tensor) -> Tensor:
        """Logits of every node of one whole graph (``adj`` [n, n], dense or sparse), same weights."""
        h = x
        for layer in self.layers[:-1]:
            h = torch.relu(layer(adj @ h))
        return self.layers[-1](adj @ h)


class DenseSGC(nn.Module):
    """SGC: ``logits = (adj^k x)[root] @ W + b``."""

    def __init__(self, in_channels: int, num_classes: int, k: int = 2):
        super().__init__()
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.linear = nn.Linear(in_channels, num_classes)
        self.k = k

    def forward(self, x: Tensor, adj: Tensor, mask: Tensor, root: Tensor) -> Tensor:
        row = root_row(adj, root)
        for _ in range(self.k - 1):
            row = row @ adj
        return self.linear(row @ x).squeeze(-2)

    def forward_all(self, x: Tensor, adj: Tensor) -> Tensor:
        """Logits of every node of one whole graph (``adj`` [n, n], dense or sparse), same weights."""
        h = x
        for _ in range(self.k):
            h = adj @ h
        return self.linear(h)
