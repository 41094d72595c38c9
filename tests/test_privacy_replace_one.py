"""Poisson K-occurrence steps with K = 1 (the replace-one Poisson-subsampled Gaussian) under the PLD accountant:
one step against the hockey-stick divergence integrated by scipy, compositions ordered between the add/remove PLD and
the first-order RDP bound, and the full-batch limit equal to the Gaussian of twice the sensitivity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from privacy_reference import closed_form_gaussians_epsilon
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.stats import norm

from dpgraph.privacy import (
    ComposedEvent,
    GaussianEvent,
    PoissonSampledEvent,
    SelfComposedEvent,
    SubgraphSampledGaussianEvent,
    compute_epsilon,
)
from dpgraph.privacy.epsilon import accounting_method

DELTA = 1e-5


def k1_step(sigma: float, q: float) -> SubgraphSampledGaussianEvent:
    return SubgraphSampledGaussianEvent(sigma, 1, 500, "poisson", None, q)


def replace_one_delta(eps: float, sigma: float, q: float) -> float:
    """Hockey-stick divergence of mu_upper = q N(-1, s^2) + (1-q) N(0, s^2) from mu_lower = q N(1, s^2) + (1-q)
    N(0, s^2), integrated numerically (the pair is symmetric, so one direction suffices)."""
    def log_density(x: float, shift: float) -> float:
        return float(np.logaddexp(math.log(q) + norm.logpdf(x, shift, sigma),
                                  math.log1p(-q) + norm.logpdf(x, 0, sigma)))

    def loss(x: float) -> float:  # log(upper / lower), decreasing in x
        return log_density(x, -1.0) - log_density(x, 1.0)

    reach = 40 * sigma + 2
    if loss(-reach) <= eps:
        return 0.0
    crossing = brentq(lambda x: loss(x) - eps, -reach, reach, xtol=1e-12)
    value, _ = quad(lambda x: math.exp(log_density(x, -1.0)) - math.exp(eps + log_density(x, 1.0)), -reach, crossing,
                    limit=400, epsabs=1e-15, epsrel=1e-10)
    return value


def exact_epsilon(sigma: float, q: float) -> float:
    return brentq(lambda eps: replace_one_delta(eps, sigma, q) - DELTA, 1e-6, 50.0, xtol=1e-10)


@pytest.mark.parametrize("sigma, q", [(0.8, 0.3), (1.5, 0.1), (3.0, 0.6)])
def test_one_step_is_the_integrated_replace_one_pair(sigma, q):
    step = k1_step(sigma, q)
    assert accounting_method(step) == "pld"
    exact = exact_epsilon(sigma, q)
    assert exact <= compute_epsilon(step, DELTA) <= exact * 1.01 + 1e-3  # pessimistic PLD: above, and close


@pytest.mark.parametrize("sigma, q, steps", [(6.0, 0.5, 200), (3.0, 0.1, 300), (2.0, 0.02, 1000)])
def test_compositions_lie_between_add_remove_and_the_first_order_bound(sigma, q, steps):
    replace_one = compute_epsilon(SelfComposedEvent(k1_step(sigma, q), steps), DELTA)
    first_order = compute_epsilon(SelfComposedEvent(k1_step(sigma, q), steps), DELTA, "rdp")
    add_remove = compute_epsilon(SelfComposedEvent(PoissonSampledEvent(q, GaussianEvent(sigma)), steps), DELTA)
    doubled = compute_epsilon(SelfComposedEvent(PoissonSampledEvent(q, GaussianEvent(sigma / 2)), steps), DELTA)
    # above add/remove at C, below the first-order bound and add/remove at 2C (a looser stand-in for replace-one)
    assert add_remove < replace_one < min(first_order, doubled)


def test_full_batch_is_the_gaussian_of_twice_the_sensitivity_and_mixes_with_gaussians():
    full = SubgraphSampledGaussianEvent(4.0, 1, 500, "poisson", None, 1.0)
    assert accounting_method(full) == "analytic-gaussian"
    assert compute_epsilon(full, DELTA) == pytest.approx(closed_form_gaussians_epsilon([2.0], DELTA), rel=1e-9)
    mixed = ComposedEvent([GaussianEvent(2.0), SelfComposedEvent(k1_step(6.0, 0.5), 50)])
    assert accounting_method(mixed) == "pld"
    alone = compute_epsilon(SelfComposedEvent(k1_step(6.0, 0.5), 50), DELTA)
    assert max(alone, compute_epsilon(GaussianEvent(2.0), DELTA)) < compute_epsilon(mixed, DELTA)
    assert compute_epsilon(mixed, DELTA) <= compute_epsilon(mixed, DELTA, "rdp")


def test_larger_k_stays_with_the_rdp_bound():
    step = SubgraphSampledGaussianEvent(6.0, 2, 500, "poisson", None, 0.5)
    assert accounting_method(SelfComposedEvent(step, 10)) == "rdp"
