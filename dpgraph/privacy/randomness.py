"""The randomness a DP guarantee relies on: Gaussian noise, batch selection, sampler keys.

Three sources, chosen by ``privacy.randomness``:

* ``secret`` (default of private runs): a torch generator seeded with 64 bits of fresh operating-system entropy per
  run, written nowhere; nothing in the run directory regenerates the noise.
* ``secure``: every draw comes from the OS CSPRNG (``os.urandom``), and each Gaussian is the scaled sum of four
  Box-Muller Gaussians, the guard of Holohan & Braghin (arXiv 2107.10138, Sec. 5.1) that opacus' ``secure_mode`` also
  uses against floating-point attacks on the sampler. Slower; CPU draws, moved to the requested device.
* ``reproducible``: a generator seeded from the run's ``seed``. Anyone who knows the seed regenerates the noise, so
  such a run is an experiment, never a release (default of non-private runs, which have nothing to protect).

Randomness that no guarantee relies on (model initialisations, public jitter, post-processing) stays on the run's
seeded public generator instead, so a seed still reproduces everything that is not noise.
"""

from __future__ import annotations

import math
import os
import secrets
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

MODES = ("secret", "secure", "reproducible")
_CPU = torch.device("cpu")


class SecretRandomness(ABC):
    """Source of the random choices a privacy guarantee relies on."""

    mode: str

    @property
    def is_release(self) -> bool:
        """False when the draws can be regenerated from published information (the run's seed)."""
        return self.mode != "reproducible"

    @abstractmethod
    def uniform(self, shape: Sequence[int], device: torch.device = _CPU) -> Tensor:
        """I.i.d. U[0, 1) float64 draws."""

    @abstractmethod
    def normal(self, shape: Sequence[int], std: float, device: torch.device = _CPU,
               dtype: torch.dtype = torch.float64) -> Tensor:
        """I.i.d. N(0, std^2) draws."""

    def bernoulli(self, n: int, probability: float, device: torch.device = _CPU) -> Tensor:
        """A boolean mask [n], each entry True with ``probability`` independently (Poisson sampling)."""
        return self.uniform((n,), device) < probability

    def permutation(self, n: int, device: torch.device = _CPU) -> Tensor:
        """A uniform random permutation of 0..n-1 (ties of the sort keys have probability ~n^2 2^-53)."""
        return torch.argsort(self.uniform((n,), device))

    @abstractmethod
    def integer(self, bits: int) -> int:
        """A uniform integer in [0, 2^bits), e.g. the key of a sampler's hash priorities."""

    def generator(self, device: torch.device = _CPU) -> torch.Generator:
        """A torch generator keyed by 62 fresh bits of this source, for code that takes a generator."""
        return torch.Generator(device=device).manual_seed(self.integer(62))


class GeneratorRandomness(SecretRandomness):
    """Draws from a torch generator: ``secret`` when seeded from OS entropy, ``reproducible`` when seeded by a user."""

    def __init__(self, generator: torch.Generator, mode: str = "reproducible") -> None:
        if mode not in ("secret", "reproducible"):
            raise ValueError(f"a torch generator serves the secret or reproducible mode, not {mode!r}")
        self._generator = generator
        self.mode = mode

    @classmethod
    def fresh(cls, device: torch.device = _CPU) -> GeneratorRandomness:
        """Seeded with 64 bits from the OS CSPRNG; the seed is kept nowhere."""
        return cls(torch.Generator(device=device).manual_seed(secrets.randbits(64)), mode="secret")

    @classmethod
    def seeded(cls, seed: int, device: torch.device = _CPU) -> GeneratorRandomness:
        """Reproducible from ``seed``: an experiment, not a release."""
        stream = int(np.random.SeedSequence([seed, 0x6E6F697365]).generate_state(1, np.uint64)[0])
        return cls(torch.Generator(device=device).manual_seed(stream), mode="reproducible")

    def _draw_device(self) -> torch.device:
        return self._generator.device

    def uniform(self, shape: Sequence[int], device: torch.device = _CPU) -> Tensor:
        out = torch.rand(tuple(shape), generator=self._generator, device=self._draw_device(), dtype=torch.float64)
        return out.to(device)

    def normal(self, shape: Sequence[int], std: float, device: torch.device = _CPU,
               dtype: torch.dtype = torch.float64) -> Tensor:
        out = torch.randn(tuple(shape), generator=self._generator, device=self._draw_device(), dtype=dtype)
        return out.mul_(std).to(device)

    def integer(self, bits: int) -> int:
        if not 1 <= bits <= 62:
            raise ValueError(f"a torch generator draws integers of 1 to 62 bits, not {bits}")
        return int(torch.randint(2**bits, (1,), generator=self._generator, device=self._draw_device()))


class SecureRandomness(SecretRandomness):
    """Every draw from ``os.urandom``; Gaussians guarded against floating-point attacks (module docstring)."""

    mode = "secure"

    @staticmethod
    def _unit_interval(count: int) -> np.ndarray:
        """``count`` uniforms on the 2^53-point grid of [0, 1), from 64-bit OS-random words."""
        words = np.frombuffer(os.urandom(8 * count), dtype=np.uint64)
        return (words >> np.uint64(11)).astype(np.float64) * 2.0**-53

    def uniform(self, shape: Sequence[int], device: torch.device = _CPU) -> Tensor:
        count = math.prod(shape)
        return torch.from_numpy(self._unit_interval(count).reshape(tuple(shape))).to(device)

    def _box_muller(self, count: int) -> np.ndarray:
        """``count`` standard Gaussians: sqrt(-2 log(1 - u)) cos(2 pi v), u, v uniform on [0, 1)."""
        u, v = self._unit_interval(count), self._unit_interval(count)
        return np.sqrt(-2.0 * np.log1p(-u)) * np.cos(2.0 * np.pi * v)

    def normal(self, shape: Sequence[int], std: float, device: torch.device = _CPU,
               dtype: torch.dtype = torch.float64) -> Tensor:
        count = math.prod(shape)
        guarded = sum(self._box_muller(count) for _ in range(4)) / 2.0  # four N(0, 1) summed: std 2, halved
        return torch.from_numpy(guarded.reshape(tuple(shape)) * std).to(device=device, dtype=dtype)

    def integer(self, bits: int) -> int:
        return secrets.randbits(bits)


def randomness_for(mode: str, seed: int, device: torch.device = _CPU) -> SecretRandomness:
    """The source of ``privacy.randomness``: ``secret``, ``secure`` or ``reproducible`` (from ``seed``)."""
    if mode == "secret":
        return GeneratorRandomness.fresh(device)
    if mode == "secure":
        return SecureRandomness()
    if mode == "reproducible":
        return GeneratorRandomness.seeded(seed, device)
    raise ValueError(f"randomness must be one of {', '.join(MODES)}, got {mode!r}")
