"""Exact epsilon of a composition of plain Gaussian mechanisms (the analytic Gaussian, Balle & Wang 2018), possibly
with pure-DP events or with drawn Gaussians of one ``(q, s)``.

The plain Gaussians are one Gaussian of multiplier ``s`` (:mod:`dpgraph.privacy.gaussians`), which is (eps,
delta)-DP exactly when ``delta >= Phi(-eps s + 1/(2s)) - e^eps Phi(-eps s - 1/(2s))`` (Theorem 8). dp_accounting's
``get_epsilon_gaussian`` solves this for eps; the root finder's tolerance is added, so the result is never below
the exact value. A composition that also holds drawn Gaussians of one ``(q, s)``
(:class:`~dpgraph.privacy.drawn_gaussian.DrawnGaussianEvent`) is a binomial mixture of such Gaussians, solved
exactly by :func:`~dpgraph.privacy.drawn_gaussian.drawn_gaussian_epsilon`.

**Pure events** (:class:`~dpgraph.privacy.pure.PureDPEvent`, dominated by randomized response): the composition is
dominated by the product of the RR pairs and the Gaussian pair ``(N(0, 1), N(mu, 1))``, ``mu = 1/s``, and that bound
is attained by RR and the Gaussian themselves. For a product pair whose first factor is discrete,
``H_{e^eps}(P1 x P2 || Q1 x Q2) = sum_o P1(o) H_{e^(eps - L1(o))}(P2 || Q2)``, ``L1 = log(P1/Q1)``, so

    delta(eps) = E_L[ delta_G(eps - L; mu) ],   delta_G(t; mu) = Phi(-t/mu + mu/2) - e^t Phi(-t/mu - mu/2),

for every real ``t`` (and ``delta_G(t) = max(0, 1 - e^t)`` without a Gaussian), where ``L`` is the sum of the
independent RR losses: ``count`` events of one ``eps_j`` contribute ``eps_j (2 B_j - count)``, ``B_j ~
Binom(count, p_j)``, ``p_j = e^eps_j / (1 + e^eps_j)``. The support of ``L`` (the product of ``count + 1`` over the
distinct epsilons) is summed exactly, in log space, up to ``MAX_SUPPORT`` points (beyond that this accountant
refuses and ``auto`` takes pld or rdp); the least eps with ``delta(eps) <= delta`` is found by Brent's method and
moved up until the computed ``delta(eps)`` is at most ``delta``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from dp_accounting import get_epsilon_gaussian
from scipy.special import gammaln, logsumexp

from dpgraph.errors import DPGraphError
from dpgraph.privacy.accountants import ACCOUNTANTS
from dpgraph.privacy.drawn_gaussian import drawn_gaussian_composition, drawn_gaussian_epsilon, gaussian_log_delta
from dpgraph.privacy.events import PrivacyEvent
from dpgraph.privacy.gaussians import combined_noise_multiplier, is_plain_gaussian, sampled_gaussian_counts
from dpgraph.privacy.pure import pure_and_gaussians, randomized_response_log_probabilities
from dpgraph.privacy.roots import ROOT_TOLERANCE, least_epsilon

MAX_SUPPORT = 100_000  # privacy-loss values of the pure events summed per evaluation of delta(eps)


@dataclass(frozen=True)
class PureGaussianComposition:
    """Pure events ``(epsilon, count)`` composed with plain Gaussians of combined multiplier
    ``plain_noise_multiplier`` (inf: none): the form the exact accountant takes."""

    epsilons: tuple[tuple[float, int], ...]
    plain_noise_multiplier: float


def loss_support(epsilons: Iterable[tuple[float, int]]) -> int:
    """Number of values (with multiplicity) the summed RR losses of pure events ``(epsilon, count)`` take:
    ``prod(count + 1)``."""
    return math.prod(count + 1 for _, count in epsilons)


def pure_gaussian_composition(event: PrivacyEvent) -> PureGaussianComposition | None:
    """``event`` as pure events plus plain Gaussians, or None if it holds no pure event or anything else."""
    split = pure_and_gaussians(event)
    if split is None or not split[0] or not is_plain_gaussian(split[1]):
        return None
    pure, gaussians = split
    return PureGaussianComposition(tuple(sorted(pure.items())), combined_noise_multiplier(gaussians))


@functools.lru_cache(maxsize=64)
def _loss_distribution(epsilons: tuple[tuple[float, int], ...]) -> tuple[np.ndarray, np.ndarray]:
    """``(values, log probabilities)`` of the sum of the RR losses (module docstring), one entry per combination."""
    values, log_probs = np.zeros(1), np.zeros(1)
    for eps, count in epsilons:
        log_p, log_q = randomized_response_log_probabilities(eps)
        plus = np.arange(count + 1)  # how many of the count events incur +eps
        log_pmf = gammaln(count + 1) - gammaln(plus + 1) - gammaln(count - plus + 1) + plus * log_p + (
            count - plus) * log_q
        values = np.add.outer(values, eps * (2 * plus - count)).ravel()
        log_probs = np.add.outer(log_probs, log_pmf).ravel()
    return values, log_probs


def pure_gaussian_delta(eps: float, composition: PureGaussianComposition) -> float:
    """``delta(eps) = E_L[delta_G(eps - L; mu)]`` of the module docstring."""
    values, log_probs = _loss_distribution(composition.epsilons)
    t = eps - values
    if math.isinf(composition.plain_noise_multiplier):
        with np.errstate(divide="ignore"):
            log_delta = np.where(t < 0, np.log(-np.expm1(np.minimum(t, 0.0))), -math.inf)
    else:
        log_delta = gaussian_log_delta(t, np.full(t.shape, 1 / composition.plain_noise_multiplier))  # elementwise
    return float(np.exp(logsumexp(log_probs + log_delta)))


@functools.lru_cache(maxsize=256)
def pure_gaussian_epsilon(composition: PureGaussianComposition, delta: float) -> float:
    """The least epsilon (up to the root tolerance, rounded up) with ``pure_gaussian_delta(epsilon) <= delta``."""
    support = loss_support(composition.epsilons)
    if support > MAX_SUPPORT:
        raise DPGraphError(
            f"the analytic-gaussian accountant would sum over {support:.2g} privacy-loss values of these pure-DP "
            f"events ({len(composition.epsilons)} distinct epsilons); use accountant 'pld' or 'rdp' (or 'auto')"
        )
    return least_epsilon(lambda eps: pure_gaussian_delta(eps, composition) / delta - 1)


@ACCOUNTANTS.register("analytic-gaussian")
def analytic_gaussian_epsilon(event: PrivacyEvent, delta: float) -> float:
    """Exact epsilon at ``delta`` of ``event``, a composition of plain Gaussians with pure events or with drawn
    Gaussians of at most one ``(q, s)`` (DPGraphError otherwise)."""
    drawn = drawn_gaussian_composition(event)
    if drawn is not None:
        return drawn_gaussian_epsilon(drawn, delta)
    pure = pure_gaussian_composition(event)
    if pure is not None:
        return pure_gaussian_epsilon(pure, delta)
    counts = sampled_gaussian_counts(event)
    if counts is None or not is_plain_gaussian(counts):
        raise DPGraphError(
            "the analytic-gaussian accountant only handles compositions of pure-DP events, or of drawn Gaussians of "
            "one draw probability and noise multiplier, with plain Gaussian events; use accountant 'auto'"
        )
    sigma = combined_noise_multiplier(counts)
    if math.isinf(sigma):
        return 0.0
    eps = float(get_epsilon_gaussian(sigma, delta, tol=ROOT_TOLERANCE))
    return eps + 2 * ROOT_TOLERANCE * (1 + eps) if eps > 0 else 0.0
