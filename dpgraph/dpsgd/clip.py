"""Per-subgraph clipping to total L2 norm ``C`` and summation over the batch."""

from __future__ import annotations

import torch
from torch import Tensor


def clip_and_sum(grads: dict[str, Tensor], clip_norm: float) -> tuple[dict[str, Tensor], Tensor]:
    """``sum_b g_b * min(1, C / ||g_b||)`` with ``||g_b||`` the L2 norm over ALL parameters of subgraph ``b``.

    ``grads``: ``{name: [B, ...]}``. Returns ``(summed {name: [...]}, norms [B])`` (norms before clipping).
    """
    norms = torch.stack([g.flatten(1).pow(2).sum(1) for g in grads.values()]).sum(0).sqrt()
    scale = (clip_norm / norms.clamp_min(1e-12)).clamp(max=1.0)
    summed = {name: torch.tensordot(scale.to(g.dtype), g, dims=1) for name, g in grads.items()}
    return summed, norms
