"""The pure-DP event: any epsilon-DP mechanism (delta = 0) under add/remove neighbours, e.g. the exponential
mechanism (:mod:`dpgraph.privacy.exponential`).

**Dominating pair.** Randomized response ``RR_eps`` releases a bit that equals the true one with probability
``p = e^eps / (1 + e^eps)``: the pair ``P = (p, q)``, ``Q = (q, p)``, ``q = 1 - p``. Every pair of output
distributions of an epsilon-DP mechanism on neighbouring inputs is a post-processing of ``(P, Q)`` (Kairouz, Oh,
Viswanath 2015; in f-DP terms, epsilon-DP is exactly ``T(P, Q)``-DP, Dong, Roth, Su 2022), so every
divergence that post-processing cannot increase (hockey-stick, Renyi) is at most ``RR_eps``'s. Its privacy loss is
``+eps`` with probability ``p`` and ``-eps`` with probability ``q``, the same in both directions of add/remove.
Adaptive composition of f-DP mechanisms is the tensor product of their trade-off functions (Dong, Roth, Su 2022),
so a composition of pure events and Gaussians is dominated by the product of their pairs, and its
privacy loss by the independent sum of theirs.

**Accounting.** ``analytic-gaussian`` is exact for pure events composed with plain Gaussians
(:mod:`dpgraph.privacy.analytic`: the expectation of the Gaussian's hockey-stick over the sum of the RR losses);
``rdp`` uses :func:`pure_rdp`, the Renyi divergence of ``RR_eps``; ``pld`` composes dp_accounting's pessimistic
PLD of an ``(eps, 0)`` mechanism (losses ``+-eps`` with the masses above) with the (Poisson-subsampled) Gaussians
(:mod:`dpgraph.privacy.pld`). ``prv`` refuses them, and so does every accountant for a pure event under sampling.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dpgraph.errors import DPGraphError
from dpgraph.privacy.events import PrivacyEvent
from dpgraph.privacy.gaussians import SampledGaussians, leaf_counts, sampled_gaussian
from dpgraph.privacy.validation import check_positive

PureEpsilons = Counter[float]  # {epsilon: count} of the pure events of a composition


@dataclass(frozen=True)
class PureDPEvent(PrivacyEvent):
    """An ``epsilon``-DP mechanism (delta = 0) under add/remove neighbours; accounted as randomized response
    ``RR_epsilon``, which dominates it (module docstring)."""

    epsilon: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "epsilon", check_positive(self.epsilon, "epsilon of a pure-DP event"))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "pure", "epsilon": self.epsilon}


def randomized_response_log_probabilities(epsilon: float) -> tuple[float, float]:
    """``(log p, log q)`` of ``RR_epsilon``: ``p = 1 / (1 + e^-eps)``, ``q = 1 / (1 + e^eps)``, exact in log space for
    every epsilon."""
    return -float(np.logaddexp(0.0, -epsilon)), -float(np.logaddexp(0.0, epsilon))


def pure_rdp(event: PureDPEvent, orders: Sequence[float]) -> np.ndarray:
    """Renyi divergence of ``RR_eps`` at each order ``a > 1``, the least RDP curve every epsilon-DP mechanism has:
    ``D_a = log(p^a q^(1-a) + q^a p^(1-a)) / (a - 1)``, summed over RR's two outcomes in log space."""
    a = np.asarray(orders, dtype=float)
    log_p, log_q = randomized_response_log_probabilities(event.epsilon)
    return np.logaddexp(a * log_p + (1 - a) * log_q, a * log_q + (1 - a) * log_p) / (a - 1)


def pure_and_gaussians(event: PrivacyEvent) -> tuple[PureEpsilons, SampledGaussians] | None:
    """``({epsilon: count}, {(noise_multiplier, sampling_probability): count})`` of the pure events and the
    (Poisson-subsampled) Gaussians that make up ``event``, or None if it holds anything else (a sampled pure event
    included)."""
    pure: PureEpsilons = Counter()
    gaussians: SampledGaussians = Counter()
    for leaf, count in leaf_counts(event).items():
        if isinstance(leaf, PureDPEvent):
            pure[leaf.epsilon] += count
        elif (key := sampled_gaussian(leaf)) is not None:
            gaussians[key] += count
        else:
            return None
    return pure, gaussians


def require_pure_and_gaussians(event: PrivacyEvent, accountant: str) -> tuple[PureEpsilons, SampledGaussians]:
    """:func:`pure_and_gaussians` of ``event``, or a DPGraphError naming ``accountant`` if it has no such form."""
    split = pure_and_gaussians(event)
    if split is None:
        raise DPGraphError(
            f"the {accountant} accountant only handles (Poisson-subsampled) Gaussian and unsampled pure-DP events, "
            "not sampling without replacement, K-occurrence subgraph steps (the pld accountant takes K = 1), drawn "
            "Gaussians or "
            "subsampled compositions; use accountant 'rdp' (or 'auto', which picks the tightest that applies)"
        )
    return split


def contains_pure(event: PrivacyEvent) -> bool:
    """Whether a leaf of ``event`` (:func:`~dpgraph.privacy.gaussians.leaf_counts`) is a pure event."""
    return any(isinstance(leaf, PureDPEvent) for leaf in leaf_counts(event))

