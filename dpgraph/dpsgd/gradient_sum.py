"""``PrivateGradientSum``: the noisy sum of clipped per-unit gradients, the one DP primitive of gradient methods.

One call: select units (:class:`~dpgraph.dpsgd.unit_sampling.UnitSampling`, from the secret randomness), take the
gradient ``g_b`` of ``unit_loss`` for each selected unit, clip it to total L2 norm ``C``, sum (into the block of
the unit's group when ``groups`` is given: one unit then still moves one block by at most ``C``), and add
N(0, (sigma C)^2) to every coordinate (:func:`~dpgraph.privacy.noise.add_gaussian_noise`). Adding or removing one
unit moves the sum by at most ``C``; the calls so far compose to ``sampling.event(sigma, calls)``. DP-SGD
(:class:`~dpgraph.dpsgd.engine.DPSGDEngine`), the condensation oracle and any generator's or discriminator's loss
use it; GS-WGAN's sanitiser is the same primitive with a loss whose parameter is the generated sample.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from dpgraph.dpsgd.per_sample import UnitLoss, clipped_gradient_sum
from dpgraph.dpsgd.unit_sampling import UnitSampling
from dpgraph.errors import DPGraphError
from dpgraph.privacy import PrivacyEvent
from dpgraph.privacy.noise import add_gaussian_noise
from dpgraph.privacy.randomness import SecretRandomness


class PrivateGradientSum:
    """See the module docstring. ``private=False`` is a non-private debug mode: ``noise_multiplier`` may be 0 and
    ``clip_norm`` infinite, and :meth:`event` raises. ``max_calls`` (optional) refuses calls beyond the number the
    noise was calibrated for. ``method`` chooses how per-unit gradients are clipped
    (:func:`~dpgraph.dpsgd.per_sample.clipped_gradient_sum`)."""

    def __init__(self, unit_loss: UnitLoss, sampling: UnitSampling, clip_norm: float, noise_multiplier: float,
                 randomness: SecretRandomness, *, private: bool = True, max_calls: int | None = None,
                 method: str = "auto") -> None:
        if not isinstance(randomness, SecretRandomness):
            raise ValueError(f"randomness must be a SecretRandomness, got {type(randomness).__name__}")
        if private:
            if not (isinstance(clip_norm, int | float) and math.isfinite(clip_norm) and clip_norm > 0):
                raise DPGraphError(f"clip_norm must be a finite number > 0, got {clip_norm!r}")
            sampling.event(noise_multiplier, 1)  # validates sigma with the accounting core's message
        elif not (isinstance(noise_multiplier, int | float) and noise_multiplier >= 0 and clip_norm > 0):
            raise DPGraphError(f"need noise_multiplier >= 0 and clip_norm > 0 (inf allowed when private=False), got "
                               f"{noise_multiplier!r} and {clip_norm!r}")
        self.unit_loss, self.sampling, self.randomness = unit_loss, sampling, randomness
        self.clip_norm, self.noise_multiplier = float(clip_norm), float(noise_multiplier)
        self.private, self.max_calls, self.method = private, max_calls, method
        self.calls = 0

    def __call__(self, model: nn.Module, units: tuple[Tensor, ...], groups: Tensor | None = None,
                 num_groups: int | None = None) -> tuple[dict[str, Tensor], dict[str, float]]:
        """The noisy sum over one selection of ``units`` (tuple of tensors, leading dim N; ``groups``: long [N]) and
        the selection's statistics (pre-clip norms)."""
        if units[0].size(0) != self.sampling.num_units:
            raise ValueError(f"units hold {units[0].size(0)} entries; the sampling expects N={self.sampling.num_units}")
        if self.max_calls is not None and self.calls >= self.max_calls:
            raise DPGraphError(f"the noise was calibrated for {self.max_calls} noisy sums; no more are allowed")
        idx = self.sampling.select(self.randomness, units[0].device)
        chosen = tuple(t[idx] for t in units)
        summed, norms = clipped_gradient_sum(model, self.unit_loss, chosen, self.clip_norm,
                                             groups=None if groups is None else groups[idx], num_groups=num_groups,
                                             method=self.method)
        if self.noise_multiplier > 0:
            summed = add_gaussian_noise(summed, self.noise_multiplier * self.clip_norm, self.randomness)
        self.calls += 1
        return summed, {
            "batch_size": float(idx.numel()),
            "mean_norm": norms.mean().item() if norms.numel() else math.nan,
            "clipped_fraction": (norms > self.clip_norm).float().mean().item() if norms.numel() else math.nan,
        }

    def event(self) -> PrivacyEvent:
        """The noisy sums released so far, as one event."""
        if not self.private:
            raise DPGraphError("this gradient sum runs with private=False: it has no privacy event")
        if self.calls == 0:
            raise DPGraphError("no noisy sum released yet: nothing to account")
        return self.sampling.event(self.noise_multiplier, self.calls)
