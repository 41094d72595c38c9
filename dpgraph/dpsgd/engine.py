"""``DPSGDEngine``: DP-SGD, i.e. an optimiser step on the mean of a :class:`PrivateGradientSum`.

Each step writes ``noisy sum / divisor`` to ``.grad`` and calls ``optimizer.step()``: the divisor is the expected
batch size (``B``, or ``q N``) unless a public one is given, which a mechanism must do when N itself is private (one
unit per edge: N is the edge count); dividing by a public number is post-processing. An empty Poisson selection
still takes a step on the noise alone (the accountant assumes every step releases a noisy sum, so skipping it would
change the mechanism). The run's event is the gradient sum's.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dpgraph.dpsgd.gradient_sum import PrivateGradientSum
from dpgraph.privacy import PrivacyEvent


class DPSGDEngine:
    """Trains ``model`` with ``optimizer`` on the noisy gradients of ``gradient_sum``."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, gradient_sum: PrivateGradientSum,
                 divisor: float | None = None) -> None:
        self.model, self.optimizer, self.gradient_sum = model, optimizer, gradient_sum
        self.divisor = gradient_sum.sampling.expected_batch_size if divisor is None else divisor

    @property
    def steps(self) -> int:
        return self.gradient_sum.calls

    def step(self, units: tuple[Tensor, ...]) -> dict[str, float]:
        """One DP-SGD step over all ``N`` units (each tensor's leading dim); returns the selection's statistics."""
        summed, stats = self.gradient_sum(self.model, units)
        for name, p in self.model.named_parameters():
            if p.requires_grad:
                p.grad = (summed[name] / self.divisor).to(p.dtype)
        self.optimizer.step()
        return stats

    def event(self) -> PrivacyEvent:
        """The run's event so far: ``sampling.event(sigma, steps)``."""
        return self.gradient_sum.event()
