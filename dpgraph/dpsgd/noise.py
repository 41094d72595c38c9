"""The Gaussian noise of DP-SGD, drawn from an explicit generator (or a secure one)."""

from __future__ import annotations

import torch
from opacus.optimizers.optimizer import _generate_noise
from torch import Tensor

from dpgraph.errors import DPGraphError


def secure_noise_generator() -> torch.Generator:
    """A cryptographically secure generator from ``torchcsprng`` (opacus' secure RNG), reading /dev/urandom."""
    try:
        import torchcsprng  # type: ignore[import-not-found]
    except ImportError:
        raise DPGraphError("secure noise needs the torchcsprng package (opacus' secure RNG): pip install "
                           "torchcsprng, or set secure_rng: false") from None
    return torchcsprng.create_random_device_generator("/dev/urandom")


def add_gaussian_noise(summed: dict[str, Tensor], std: float, generator: torch.Generator,
                       secure: bool = False) -> dict[str, Tensor]:
    """``{name: t + N(0, std^2 I)}``; noise drawn on ``generator.device`` (then moved to ``t``'s device).

    ``secure=True`` uses opacus' ``secure_mode`` sampler (four Gaussians of std ``std/2`` summed), which resists
    floating-point attacks on the noise; pair it with :func:`secure_noise_generator`."""
    out = {}
    for name, t in summed.items():
        reference = torch.empty(t.shape, device=generator.device, dtype=t.dtype)
        if secure:
            noise = _generate_noise(std, reference, generator=generator, secure_mode=True)
        else:
            noise = std * torch.randn(t.shape, generator=generator, device=generator.device, dtype=t.dtype)
        out[name] = t + noise.to(t.device)
    return out
