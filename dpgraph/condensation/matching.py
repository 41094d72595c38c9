"""GCond's layer-wise gradient distance; invariant to a positive rescaling of either side, per class."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def _rows(grad: Tensor) -> Tensor:
    """A parameter gradient as [output rows, inputs]: a weight [out, in] as is, a bias [out] as one row."""
    return grad.reshape(1, -1) if grad.dim() == 1 else grad.reshape(grad.size(0), -1)


def layerwise_distance(real: Sequence[Tensor], synthetic: Sequence[Tensor]) -> Tensor:
    """sum over parameter tensors, sum over their output rows r of 1 - cos(real_r, synthetic_r).

    cos(a, b) = <a / |a|, b / |b|> with norms clamped at 1e-12: exactly invariant to positive rescaling of
    either side (unlike GCond's <a, b> / (|a| |b| + 1e-6)); a zero row on either side counts as distance 1.
    """
    total = torch.zeros((), dtype=synthetic[0].dtype, device=synthetic[0].device)
    for g_real, g_syn in zip(real, synthetic, strict=True):
        a, b = _rows(g_real.to(g_syn.dtype)), _rows(g_syn)
        cos = (F.normalize(a, dim=1, eps=1e-12) * F.normalize(b, dim=1, eps=1e-12)).sum(dim=1)
        total = total + (1.0 - cos).sum()
    return total


def matching_distance(real: Mapping[int, Sequence[Tensor]], synthetic: Mapping[int, Sequence[Tensor]]) -> Tensor:
    """Sum over the classes of `synthetic` of `layerwise_distance(real[c], synthetic[c])`."""
    return torch.stack([layerwise_distance(real[c], grads) for c, grads in synthetic.items()]).sum()
