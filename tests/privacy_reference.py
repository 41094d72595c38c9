"""Shared test helpers: DP-SGD events and independent references (closed forms, dp_accounting) for accounting."""

from __future__ import annotations

import math
from collections.abc import Sequence

import dp_accounting
from scipy.optimize import brentq
from scipy.stats import norm

from dpgraph.privacy import RDP_ORDERS, GaussianEvent, PoissonSampledEvent, SelfComposedEvent


def dp_sgd(sigma: float, q: float, steps: int) -> SelfComposedEvent:
    """`steps` Poisson-subsampled Gaussian steps."""
    return SelfComposedEvent(PoissonSampledEvent(q, GaussianEvent(sigma)), steps)


def dp_accounting_gaussians_epsilon(sigmas: Sequence[float], delta: float) -> float:
    """Epsilon of composed Gaussian releases by dp_accounting's RdpAccountant on the same orders."""
    accountant = dp_accounting.rdp.RdpAccountant(list(RDP_ORDERS))
    accountant.compose(dp_accounting.ComposedDpEvent([dp_accounting.GaussianDpEvent(s) for s in sigmas]))
    return accountant.get_epsilon(delta)


def gaussian_delta(eps: float, s: float) -> float:
    """Balle & Wang 2018, Theorem 8: the least delta of the s-noise Gaussian (sensitivity 1) at eps."""
    return norm.cdf(-eps * s + 1 / (2 * s)) - math.exp(eps) * norm.cdf(-eps * s - 1 / (2 * s))


def closed_form_gaussians_epsilon(sigmas: Sequence[float], delta: float) -> float:
    """Exact epsilon of composed Gaussian releases: one Gaussian of 1/s^2 = sum 1/s_i^2 (Dong, Roth, Su) at the
    least eps with :func:`gaussian_delta` <= delta."""
    s = 1 / math.sqrt(sum(1 / sigma**2 for sigma in sigmas))
    return brentq(lambda eps: gaussian_delta(eps, s) - delta, 0.0, 100.0, xtol=1e-12)


def dp_accounting_pld_epsilon(gaussians: Sequence[float], dp_sgd_runs: Sequence[tuple[float, float, int]],
                              delta: float) -> float:
    """Epsilon by dp_accounting's PLD accountant of plain Gaussians composed with (sigma, q, steps) DP-SGD runs."""
    events = [dp_accounting.GaussianDpEvent(s) for s in gaussians]
    for s, q, steps in dp_sgd_runs:
        step = dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(s))
        events.append(dp_accounting.SelfComposedDpEvent(step, steps))
    accountant = dp_accounting.pld.PLDAccountant()
    accountant.compose(dp_accounting.ComposedDpEvent(events))
    return accountant.get_epsilon(delta)
