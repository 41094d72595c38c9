"""Stratified hold-out of the released graph's labelled nodes, for epoch selection."""

from __future__ import annotations

import torch
from torch import Tensor


def stratified_holdout(y: Tensor, fraction: float, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Split the nodes with `y >= 0` into boolean (train, val) masks, holding out `fraction` of each class.

    Per class, round(fraction * class size) nodes go to val, but at least one node of the class stays in
    train. Nodes with `y == -1` are in neither mask. The same generator state gives the same split.
    """
    train = torch.zeros_like(y, dtype=torch.bool)
    val = torch.zeros_like(y, dtype=torch.bool)
    for label in torch.unique(y[y >= 0]):
        members = torch.nonzero(y == label).flatten()
        members = members[torch.randperm(members.numel(), generator=generator)]
        n_val = min(round(fraction * members.numel()), members.numel() - 1)
        val[members[:n_val]] = True
        train[members[n_val:]] = True
    return train, val
