"""Public train/val/test splits."""

from __future__ import annotations

import torch
from torch_geometric.data import Data

from dpgraph.data.permutation import random_parts
from dpgraph.errors import DPGraphError

MASKS = ("train_mask", "val_mask", "test_mask")


def random_split(data: Data, fractions: tuple[float, float, float], seed: int) -> Data:
    """Uniform random permutation cut by fractions; it ignores labels, so it is data-independent (public)."""
    n = int(data.num_nodes)
    out = data.clone()
    for name, part in zip(MASKS, random_parts(n, fractions, seed), strict=True):
        mask = torch.zeros(n, dtype=torch.bool)
        mask[part] = True
        out[name] = mask
    return out


def require_public_split(data: Data, dataset: str) -> Data:
    """Keep the split the data ships with; fail clearly if it ships none."""
    if any(getattr(data, m, None) is None for m in MASKS):
        raise DPGraphError(f"dataset '{dataset}' ships no public split: set dataset.split: random "
                           f"(and optionally dataset.split_fractions, dataset.split_seed)")
    return data
