"""The random split rule every modality shares: a uniform permutation of the n records, cut by fractions."""

from __future__ import annotations

import torch
from torch import Tensor


def random_parts(n: int, fractions: tuple[float, float, float], seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """Train, validation and test positions: ``torch.randperm(n)`` seeded by the public ``seed`` (it ignores the
    data, so the split is public), cut after ``round(f_train n)`` and ``round(f_val n)`` more."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_train, n_val = round(fractions[0] * n), round(fractions[1] * n)
    return perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]
