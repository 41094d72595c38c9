"""The Gaussian mechanism: the one primitive through which statistical releases read private data."""

from __future__ import annotations

from torch import Tensor

from dpgraph.privacy import GaussianEvent, PrivacyLedger
from dpgraph.privacy.randomness import SecretRandomness


def gaussian_release(value: Tensor, sensitivity: float, noise_multiplier: float, *, ledger: PrivacyLedger,
                     stage: str, randomness: SecretRandomness) -> Tensor:
    """Return value + N(0, (noise_multiplier * sensitivity)^2 I) and record GaussianEvent(noise_multiplier).

    `sensitivity` is the L2 sensitivity of `value` under the ledger's neighbouring relation (add/remove)."""
    if sensitivity <= 0 or noise_multiplier <= 0:
        raise ValueError("sensitivity and noise_multiplier must be positive")
    noise = randomness.normal(value.shape, noise_multiplier * sensitivity, device=value.device)
    ledger.record(stage, GaussianEvent(noise_multiplier=noise_multiplier))
    return value.double() + noise
