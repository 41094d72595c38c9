"""The Gaussian noise of DP-SGD, drawn from an explicit generator."""

from __future__ import annotations

import torch
from torch import Tensor


def add_gaussian_noise(summed: dict[str, Tensor], std: float, generator: torch.Generator) -> dict[str, Tensor]:
    """``{name: t + N(0, std^2 I)}``; noise drawn on ``generator.device`` (then moved to ``t``'s device)."""
    return {
        name: t + std * torch.randn(t.shape, generator=generator, device=generator.device, dtype=t.dtype).to(t.device)
        for name, t in summed.items()
    }
