"""The simple undirected graph as a list of node pairs, one per edge."""

from __future__ import annotations

import torch
from torch import Tensor


def simple_pairs(edge_index: Tensor, num_nodes: int) -> Tensor:
    """[2, m] pairs (u, w) with u < w, sorted and unique: the undirected edges of ``edge_index`` (either direction,
    repeats merged), self-loops dropped; m is the number of edges of the simple graph."""
    lo, hi = torch.minimum(edge_index[0], edge_index[1]).long(), torch.maximum(edge_index[0], edge_index[1]).long()
    key = (lo * num_nodes + hi)[lo != hi].sort().values
    if key.numel():
        key = key[torch.cat([key.new_ones(1, dtype=torch.bool), key[1:] != key[:-1]])]
    return torch.stack([key // num_nodes, key % num_nodes])
