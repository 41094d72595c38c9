"""The one noisy-sum primitive: a sum of bounded contributions plus Gaussian noise from the run's secret randomness.

Every DP release of dpgraph adds its noise here: statistical releases (:func:`gaussian_release`), DP-SGD and the
condensation oracle (through :mod:`dpgraph.dpsgd.gradient_sum`).
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from dpgraph.privacy.events import GaussianEvent
from dpgraph.privacy.randomness import SecretRandomness
from dpgraph.privacy.spend import Spend


def add_gaussian_noise(summed: Mapping[str, Tensor], std: float, randomness: SecretRandomness) -> dict[str, Tensor]:
    """``{name: t + N(0, std^2 I)}``, drawn from ``randomness`` in ``summed``'s order, in each ``t``'s dtype and on
    its device."""
    return {name: randomness.normal(t.shape, std, device=t.device, dtype=t.dtype).add_(t) for name, t in summed.items()}


def gaussian_release(value: Tensor, sensitivity: float, spend: Spend, randomness: SecretRandomness) -> Tensor:
    """``value + N(0, (sigma * sensitivity)^2 I)`` in float64, sigma the noise multiplier ``spend`` was calibrated to;
    records ``GaussianEvent(sigma)`` through ``spend``. ``sensitivity``: the L2 sensitivity of ``value`` under the
    ledger's neighbouring relation (add/remove one unit)."""
    if not sensitivity > 0:
        raise ValueError(f"sensitivity must be positive, got {sensitivity!r}")
    sigma = spend.noise_multiplier
    noisy = add_gaussian_noise({"value": value.double()}, sigma * sensitivity, randomness)["value"]
    spend.record(GaussianEvent(noise_multiplier=sigma))
    return noisy
