"""Per-unit clipping to total L2 norm ``C`` and (optionally grouped) summation over the batch."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def clip_scale(norms: Tensor, clip_norm: float) -> Tensor:
    """``min(1, C / ||g_b||)`` per unit; 1 for a zero gradient and for ``C = inf``."""
    return (clip_norm / norms.clamp_min(1e-12)).clamp(max=1.0)


def clip_factors(grads: dict[str, Tensor], clip_norm: float) -> tuple[Tensor, Tensor]:
    """``(min(1, C / ||g_b||), ||g_b||)`` per sample ``b``, the norm taken over ALL parameters; ``grads``:
    ``{name: [B, ...]}``."""
    norms = torch.stack([g.flatten(1).pow(2).sum(1) for g in grads.values()]).sum(0).sqrt()
    return clip_scale(norms, clip_norm), norms


def check_groups(groups: Tensor | None, num_groups: int | None, units: int) -> None:
    """ValueError unless both are None, or ``groups`` is a long tensor [units] with values in ``0..num_groups-1``."""
    if groups is None and num_groups is None:
        return
    if groups is None or num_groups is None:
        raise ValueError("groups and num_groups must be given together")
    if num_groups < 1:
        raise ValueError(f"num_groups must be >= 1, got {num_groups}")
    if groups.dtype != torch.long or groups.shape != (units,):
        raise ValueError(f"groups must be a long tensor of shape [{units}], got {groups.dtype} {tuple(groups.shape)}")
    if units and not (0 <= int(groups.min()) and int(groups.max()) < num_groups):
        raise ValueError(f"groups must lie in 0..{num_groups - 1}")


def weighted_sum(
    grads: dict[str, Tensor], weights: Tensor, groups: Tensor | None = None, num_groups: int | None = None
) -> dict[str, Tensor]:
    """``{name: sum_b w_b g_b}`` for ``grads`` ``{name: [B, ...]}`` and ``weights`` [B]; with ``groups`` [B]
    (ids in ``0..num_groups-1``): ``{name: [num_groups, ...]}``, unit ``b`` added to block ``groups[b]`` only."""
    mix = weights[None] if groups is None else F.one_hot(groups, num_groups).T * weights  # [K, B]
    summed = {name: (mix.to(g.dtype) @ g.flatten(1)).view(-1, *g.shape[1:]) for name, g in grads.items()}
    return {name: s[0] for name, s in summed.items()} if groups is None else summed


def clip_and_sum(grads: dict[str, Tensor], clip_norm: float, groups: Tensor | None = None,
                 num_groups: int | None = None) -> tuple[dict[str, Tensor], Tensor]:
    """``sum_b g_b * min(1, C / ||g_b||)`` of materialised per-unit gradients ``{name: [B, ...]}`` (per group with
    ``groups``, see :func:`weighted_sum`); returns ``(summed, norms [B])``, the norms before clipping."""
    scale, norms = clip_factors(grads, clip_norm)
    return weighted_sum(grads, scale, groups, num_groups), norms
