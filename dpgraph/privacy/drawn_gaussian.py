"""The drawn Gaussian: T iterations, each of which draws (independently of the data and of the past) whether it
touches a unit at all, with probability at most ``q``, and if so is a Gaussian mechanism of multiplier ``s``.

This is the mechanism of GS-WGAN (:mod:`dpgraph.images.mechanisms.gs_wgan`): a unit's data lives in one of ``k``
disjoint parts, each iteration draws one part uniformly (``q = 1/k``), and only an iteration that draws the unit's
part releases something that depends on it. It is NOT the Poisson-subsampled Gaussian: there, an iteration that
misses the unit releases the neighbour's distribution exactly; here it releases the output of another part's state,
which may be far from the drawn one, so the only sound way to account the miss is to reveal the draw.

**Event.** ``DrawnGaussianEvent(q, s, T)``. With the draws ``j_1..j_T`` revealed (revealing data-independent
randomness can only help the adversary; dropping it again is post-processing), an iteration that misses the unit is
0-DP given the past and one that hits it is ``1/s``-GDP given the past. Given the draws, ``m`` hits compose
(adaptively) to ``sqrt(m)/s``-GDP (Dong, Roth, Su 2022), and the revealed draws are identically distributed under
both neighbours, so the privacy profile of the whole run is exactly the binomial mixture

    delta(eps) = sum_m Binom(m; T, q) delta_G(eps; sqrt(m) / s),
    delta_G(eps; mu) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)   (Balle and Wang 2018, Theorem 8),

symmetric in the two directions of add/remove. Composed with plain Gaussians of combined multiplier ``s0``
(:mod:`dpgraph.privacy.gaussians`), ``mu_m = sqrt(m / s^2 + 1 / s0^2)``; several drawn events of the same
``(q, s)`` add their steps. Since ``delta_G`` grows with ``m`` and ``Binom(T, q)`` grows stochastically with ``q``,
a draw that hits with probability at most ``q`` is covered by the profile at ``q``. The revealed draw amplifies
delta, not epsilon: for ``T q << 1``, ``delta(eps) ~ T q delta_G(eps; 1/s)``, so as ``q -> 0`` epsilon tends to that
of ONE Gaussian of multiplier ``s`` at ``delta / (T q)``, not to 0 as under Poisson subsampling.

**Exact epsilon** (:func:`drawn_gaussian_epsilon`, the ``analytic-gaussian`` accountant's answer for such a
composition): the least ``eps`` with ``delta(eps) <= delta``, found by Brent's method on the mixture evaluated in
log space (``log_ndtr``, ``logsumexp``); the terms ``m`` whose binomial mass is below ``TAIL_FRACTION * delta /
(T + 1)`` are dropped and their mass added to ``delta(eps)`` whole (as if each had ``delta_G = 1``), and the root is
moved up until the computed ``delta(eps)`` is at most ``delta``: an upper bound on epsilon.

**RDP** (:func:`drawn_gaussian_rdp`, for the ``rdp`` accountant and compositions with other events): one revealed
iteration has ``E_Q[(P/Q)^a] = 1 - q + q exp(a (a - 1) / (2 s^2))``, so T of them have Renyi divergence
``eps_a = T log(1 - q + q exp(a (a - 1) / (2 s^2))) / (a - 1)`` at every order ``a > 1``.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import log_ndtr, logsumexp
from scipy.stats import binom

from dpgraph.privacy.events import (
    ComposedEvent,
    PrivacyEvent,
    SelfComposedEvent,
)
from dpgraph.privacy.gaussians import combined_noise_multiplier, is_plain_gaussian, leaf_counts, sampled_gaussian_counts
from dpgraph.privacy.roots import least_epsilon
from dpgraph.privacy.validation import check_count, check_positive, check_probability

TAIL_FRACTION = 1e-9  # binomial mass dropped from the mixture, relative to delta (added back pessimistically)


@dataclass(frozen=True)
class DrawnGaussianEvent(PrivacyEvent):
    """``steps`` iterations, each touching a unit with probability ``draw_probability`` (drawn independently of the
    data and the past) and then a Gaussian mechanism of ``noise_multiplier`` = noise std / L2 sensitivity of that
    iteration's release; an iteration that misses the unit releases the same distribution under both neighbours."""

    draw_probability: float
    noise_multiplier: float
    steps: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "draw_probability", check_probability(self.draw_probability, "draw_probability"))
        object.__setattr__(self, "noise_multiplier", check_positive(self.noise_multiplier, "noise_multiplier"))
        object.__setattr__(self, "steps", check_count(self.steps, "steps"))

    def to_dict(self) -> dict[str, Any]:
        return {"type": "drawn_gaussian", "draw_probability": self.draw_probability,
                "noise_multiplier": self.noise_multiplier, "steps": self.steps}


@dataclass(frozen=True)
class DrawnGaussianComposition:
    """``steps`` drawn iterations of ``(draw_probability, noise_multiplier)`` composed with plain Gaussians of
    combined multiplier ``plain_noise_multiplier`` (inf: none): the form the exact accountant takes."""

    draw_probability: float
    noise_multiplier: float
    steps: int
    plain_noise_multiplier: float


def drawn_gaussian_composition(event: PrivacyEvent) -> DrawnGaussianComposition | None:
    """``event`` as one drawn group plus plain Gaussians, or None if it holds no drawn event, drawn events of
    different ``(q, s)``, or anything besides plain Gaussians."""
    drawn: Counter = Counter()
    rest: list[PrivacyEvent] = []
    for leaf, count in leaf_counts(event).items():
        if isinstance(leaf, DrawnGaussianEvent):
            drawn[(leaf.draw_probability, leaf.noise_multiplier)] += count * leaf.steps
        else:
            rest.append(SelfComposedEvent(leaf, count) if count > 1 else leaf)
    if len(drawn) != 1:
        return None
    counts = sampled_gaussian_counts(ComposedEvent(tuple(rest)))
    if counts is None or not is_plain_gaussian(counts):
        return None
    ((q, s), steps), = drawn.items()
    return DrawnGaussianComposition(q, s, steps, combined_noise_multiplier(counts))


def gaussian_log_delta(eps: float, mu: np.ndarray) -> np.ndarray:
    """``log delta_G(eps; mu)`` elementwise (``-inf`` where ``mu = 0`` or the two terms cancel to rounding)."""
    mu = np.asarray(mu, dtype=float)
    out = np.full(mu.shape, -math.inf)
    live = mu > 0
    m = mu[live]
    upper = log_ndtr(-eps / m + m / 2)
    ratio = np.minimum(eps + log_ndtr(-eps / m - m / 2) - upper, 0.0)  # log(e^eps Phi(b) / Phi(a)) <= 0
    with np.errstate(divide="ignore"):
        log1mexp = np.where(ratio > -math.log(2), np.log(-np.expm1(ratio)), np.log1p(-np.exp(ratio)))
    out[live] = upper + log1mexp
    return out


@functools.lru_cache(maxsize=64)
def _binomial_terms(steps: int, q: float, tail: float) -> tuple[np.ndarray, np.ndarray, float]:
    """``(m, log Binom(m; steps, q), dropped mass)`` over the ``m`` whose mass is at least ``tail / (steps + 1)``."""
    m = np.arange(steps + 1)
    log_pmf = binom.logpmf(m, steps, q)
    keep = log_pmf >= math.log(tail / (steps + 1))
    return m[keep], log_pmf[keep], math.fsum(np.exp(log_pmf[~keep]))


def mixture_delta(eps: float, composition: DrawnGaussianComposition, tail: float = 1e-20) -> float:
    """An upper bound on ``delta(eps)`` of ``composition``: the binomial mixture of the module docstring with the
    binomial mass below ``tail`` (in all) counted as ``delta_G = 1``."""
    m, log_pmf, dropped = _binomial_terms(composition.steps, composition.draw_probability, tail)
    mu = np.sqrt(m / composition.noise_multiplier**2 + 1 / composition.plain_noise_multiplier**2)
    return float(np.exp(logsumexp(log_pmf + gaussian_log_delta(eps, mu)))) + dropped


@functools.lru_cache(maxsize=256)
def drawn_gaussian_epsilon(composition: DrawnGaussianComposition, delta: float) -> float:
    """The least epsilon (up to the root tolerance, rounded up) with ``mixture_delta(epsilon) <= delta``."""
    tail = TAIL_FRACTION * delta
    return least_epsilon(lambda eps: mixture_delta(eps, composition, tail) / delta - 1)


def drawn_gaussian_rdp(event: DrawnGaussianEvent, orders: Sequence[float]) -> np.ndarray:
    """``T log(1 - q + q exp(a (a - 1) / (2 s^2))) / (a - 1)`` at each order ``a`` (module docstring)."""
    a = np.asarray(orders, dtype=float)
    q, s = event.draw_probability, event.noise_multiplier
    miss = math.log1p(-q) if q < 1 else -math.inf
    return event.steps * np.logaddexp(miss, math.log(q) + a * (a - 1) / (2 * s**2)) / (a - 1)
