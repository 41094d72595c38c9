"""The Gaussian noise of DP-SGD, drawn from the run's secret randomness."""

from __future__ import annotations

from torch import Tensor

from dpgraph.privacy.randomness import SecretRandomness


def add_gaussian_noise(summed: dict[str, Tensor], std: float, randomness: SecretRandomness) -> dict[str, Tensor]:
    """``{name: t + N(0, std^2 I)}``, the noise drawn from ``randomness`` (in ``t``'s dtype, on ``t``'s device)."""
    return {name: t + randomness.normal(t.shape, std, device=t.device, dtype=t.dtype) for name, t in summed.items()}
