"""Per-subgraph clipping to total L2 norm ``C`` and summation over the batch."""

from __future__ import annotations

import torch
from torch import Tensor


def clip_factors(grads: dict[str, Tensor], clip_norm: float) -> tuple[Tensor, Tensor]:
    """``(min(1, C / ||g_b||), ||g_b||)`` per sample ``b``, the norm taken over ALL parameters; ``grads``:
    ``{name: [B, ...]}``."""
    norms = torch.stack([g.flatten(1).pow(2).sum(1) for g in grads.values()]).sum(0).sqrt()
    return (clip_norm / norms.clamp_min(1e-12)).clamp(max=1.0), norms


def clip_and_sum(grads: dict[str, Tensor], clip_norm: float) -> tuple[dict[str, Tensor], Tensor]:
    """``sum_b g_b * min(1, C / ||g_b||)`` (see :func:`clip_factors`).

    ``grads``: ``{name: [B, ...]}``. Returns ``(summed {name: [...]}, norms [B])`` (norms before clipping).
    """
    scale, norms = clip_factors(grads, clip_norm)
    summed = {name: torch.tensordot(scale.to(g.dtype), g, dims=1) for name, g in grads.items()}
    return summed, norms
