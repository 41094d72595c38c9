"""GCond's PGE: a synthetic adjacency generated from the synthetic features by an MLP on node pairs."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dpgraph.condensation.seeded import reset_linear


class PairwiseAdjacency(nn.Module):
    """A'_ij = sigmoid((m(x_i, x_j) + m(x_j, x_i)) / 2) for i != j, A'_ii = 0.

    m = Linear(2F, h) -> BatchNorm -> ReLU -> Linear(h, h) -> BatchNorm -> ReLU -> Linear(h, 1) on the
    concatenated pair [x_i, x_j]. BatchNorm always normalises over all n^2 pairs (no running statistics), so the
    map X' -> A' is the same in training and at release.
    """

    def __init__(self, num_features: int, hidden: int, generator: torch.Generator):
        super().__init__()
        self.num_features = num_features
        self.pair = nn.Linear(2 * num_features, hidden)
        self.hidden = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden, track_running_stats=False) for _ in range(2))
        for layer in (self.pair, self.hidden, self.out):
            reset_linear(layer, generator)

    def _pair_embedding(self, x: Tensor) -> Tensor:
        """Linear(2F, h) on every pair [x_i, x_j] as x_i W_left + x_j W_right + b, shape [n * n, h]."""
        w_left, w_right = self.pair.weight.split(self.num_features, dim=1)
        h = (x @ w_left.T).unsqueeze(1) + (x @ w_right.T).unsqueeze(0) + self.pair.bias
        return h.reshape(-1, h.size(-1))

    def forward(self, x: Tensor) -> Tensor:
        n = x.size(0)
        h = torch.relu(self.norms[0](self._pair_embedding(x)))
        h = torch.relu(self.norms[1](self.hidden(h)))
        logits = self.out(h).reshape(n, n)
        adj = torch.sigmoid((logits + logits.T) / 2)
        return adj * (1 - torch.eye(n, dtype=adj.dtype, device=adj.device))
