"""How a DP-SGD step selects its units, and the privacy event that selection implies.

``N`` units (one node each, or one rooted subgraph each). ``poisson``: each unit enters with probability ``q``;
``fixed``: a uniform ``B``-subset. ``occurrences=None``: removing a private node removes at most its own unit and
touches no other, so a step is plain add/remove DP-SGD, ``PoissonSampledEvent(q, GaussianEvent(sigma))`` (Poisson
only). ``occurrences=K``: a node occurs in at most K units (a node-stable sampler), the K-occurrence step of
:mod:`dpgraph.privacy.k_occurrence`, Poisson or fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from dpgraph.errors import DPGraphError
from dpgraph.privacy import PrivacyEvent, SubgraphSampledGaussianEvent, dpsgd_event_factory
from dpgraph.privacy.randomness import SecretRandomness


@dataclass(frozen=True)
class UnitSampling:
    """``num_units`` N, ``sample_rate`` q (Poisson) or ``batch_size`` B (fixed), and the occurrence bound K."""

    num_units: int
    sample_rate: float | None = None
    batch_size: int | None = None
    occurrences: int | None = None

    def __post_init__(self) -> None:
        if self.occurrences is None and self.batch_size is not None:
            raise DPGraphError("one-node units (occurrences=None) are accounted with Poisson selection only: use a "
                               "sample rate instead of a batch size")
        if (self.sample_rate is None) == (self.batch_size is None):
            raise DPGraphError("give a sample rate (Poisson selection) or a batch size (fixed), not both")
        # validates N, K, B / q with the accounting core's own messages
        SubgraphSampledGaussianEvent(1.0, self.occurrences or 1, self.num_units, self.sampler, self.batch_size,
                                     self.sample_rate)

    @property
    def sampler(self) -> str:
        return "fixed" if self.batch_size is not None else "poisson"

    @property
    def expected_batch_size(self) -> float:
        """``B`` (fixed) or ``q N`` (Poisson): the divisor that turns a noisy sum into a mean (post-processing)."""
        return float(self.batch_size) if self.batch_size is not None else self.sample_rate * self.num_units

    def select(self, randomness: SecretRandomness, device: torch.device) -> Tensor:
        """Positions of one step's units, drawn from ``randomness``: Bernoulli(q) per unit, or the first B of a
        uniform permutation."""
        if self.batch_size is not None:
            return randomness.permutation(self.num_units, device)[: self.batch_size]
        return randomness.bernoulli(self.num_units, self.sample_rate, device).nonzero().flatten()

    def event(self, noise_multiplier: float, steps: int) -> PrivacyEvent:
        """``steps`` steps with noise multiplier ``noise_multiplier``, composed."""
        if self.occurrences is None:
            return dpsgd_event_factory(steps, self.sample_rate)(noise_multiplier)
        return dpsgd_event_factory(steps, self.sample_rate, self.occurrences, self.num_units,
                                   self.batch_size)(noise_multiplier)
