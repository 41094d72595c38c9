"""PLD accountant (the default for Poisson-subsampled Gaussians) against a closed form, dp_accounting and opacus."""

import math

import dp_accounting as dpa
import numpy as np
import pytest
from dp_accounting.pld import PLDAccountant, privacy_loss_distribution
from opacus.accountants import PRVAccountant
from privacy_reference import dp_sgd
from scipy.optimize import brentq
from scipy.stats import norm

from dpgraph.errors import DPGraphError
from dpgraph.privacy import (
    ComposedEvent,
    GaussianEvent,
    PoissonSampledEvent,
    SampledWithoutReplacementEvent,
    SelfComposedEvent,
    SubgraphSampledGaussianEvent,
    accounting_method,
    compute_epsilon,
)

DELTA = 1e-5


def sampled_gaussian_delta(eps: float, s: float, q: float) -> float:
    """Exact hockey-stick divergence of ONE Poisson-subsampled Gaussian step (sensitivity 1, noise s), the larger
    of its two directions: remove, (1-q) N(0, s^2) + q N(1, s^2) against N(0, s^2), and add, the reverse. The
    likelihood ratio 1 - q + q exp((2x - 1) / (2 s^2)) is monotone, so each is one tail difference."""
    x = s**2 * math.log((math.expm1(eps) + q) / q) + 0.5
    remove = (1 - q) * norm.sf(x / s) + q * norm.sf((x - 1) / s) - math.exp(eps) * norm.sf(x / s)
    if math.exp(-eps) <= 1 - q:
        return remove
    x = s**2 * math.log((math.exp(-eps) - 1 + q) / q) + 0.5
    add = norm.cdf(x / s) - math.exp(eps) * ((1 - q) * norm.cdf(x / s) + q * norm.cdf((x - 1) / s))
    return max(remove, add)


@pytest.mark.parametrize(("sigma", "q"), [(1.0, 0.5), (2.0, 0.9), (4.0, 0.01)])
def test_one_step_is_tight_against_the_closed_form(sigma, q):
    event = PoissonSampledEvent(q, GaussianEvent(sigma))
    eps = compute_epsilon(event, DELTA)
    assert accounting_method(event) == "pld"
    exact = brentq(lambda e: sampled_gaussian_delta(e, sigma, q) - DELTA, 1e-9, 50.0, xtol=1e-12)
    assert exact <= eps <= exact * (1 + 1e-3) + 1e-3


@pytest.mark.parametrize(("sigma", "q", "steps"), [(1.5, 0.04, 2250), (7.757, 0.5, 200)])
def test_dp_sgd_equals_dp_accounting_and_brackets_opacus_prv(sigma, q, steps):
    eps = compute_epsilon(dp_sgd(sigma, q, steps), DELTA)
    reference = PLDAccountant()
    reference.compose(dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(q, dpa.GaussianDpEvent(sigma)), steps))
    assert eps == pytest.approx(reference.get_epsilon(DELTA), rel=1e-9)
    prv = PRVAccountant()
    prv.history = [(sigma, q, steps)]
    upper = prv.get_epsilon(DELTA, eps_error=0.01, delta_error=DELTA / 1000)  # certified within 2 * 0.01
    assert upper - 0.02 <= eps <= upper
    assert eps < compute_epsilon(dp_sgd(sigma, q, steps), DELTA, "rdp")


def test_pld_is_the_pessimistic_estimate():
    sigma, q, steps = 1.5, 0.04, 2250
    optimistic = privacy_loss_distribution.from_gaussian_mechanism(
        sigma, pessimistic_estimate=False, sampling_prob=q, use_connect_dots=False
    ).self_compose(steps).get_epsilon_for_delta(DELTA)
    assert optimistic < compute_epsilon(dp_sgd(sigma, q, steps), DELTA, "pld") < 1.02 * optimistic


def test_gaussians_and_dp_sgd_compose():
    event = ComposedEvent((GaussianEvent(5.0), SelfComposedEvent(GaussianEvent(10.0), 4), dp_sgd(2.0, 0.05, 300)))
    eps = compute_epsilon(event, DELTA)
    assert accounting_method(event) == "pld"
    reference = PLDAccountant()
    reference.compose(dpa.GaussianDpEvent(5.0))
    reference.compose(dpa.GaussianDpEvent(10.0), 4)
    reference.compose(dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(0.05, dpa.GaussianDpEvent(2.0)), 300))
    assert eps == pytest.approx(reference.get_epsilon(DELTA), rel=1e-3)
    assert eps == pytest.approx(compute_epsilon(event, DELTA, "prv"), abs=0.02)


@pytest.mark.parametrize(
    "event",
    [
        SampledWithoutReplacementEvent(100, 10, GaussianEvent(1.0)),
        SubgraphSampledGaussianEvent(2.0, 3, 100, "poisson", None, 0.1),
        PoissonSampledEvent(0.1, SelfComposedEvent(GaussianEvent(1.0), 2)),
        ComposedEvent((dp_sgd(1.0, 0.1, 5), SubgraphSampledGaussianEvent(2.0, 3, 100, "fixed", batch_size=10))),
    ],
)
def test_pld_refuses_other_events_and_auto_falls_back_to_rdp(event):
    with pytest.raises(DPGraphError, match="use accountant 'rdp'") as err:
        compute_epsilon(event, DELTA, "pld")
    assert "\n" not in str(err.value)
    assert accounting_method(event) == "rdp"


def test_pld_refuses_settings_that_would_exhaust_memory_and_auto_uses_rdp():
    huge = dp_sgd(0.3, 0.5, 200)  # epsilon in the hundreds
    with pytest.raises(DPGraphError, match="about .* points.*use accountant 'rdp'"):
        compute_epsilon(huge, DELTA, "pld")
    assert accounting_method(huge) == "rdp"
    assert compute_epsilon(huge, DELTA) == compute_epsilon(huge, DELTA, "rdp")


def test_more_noise_never_costs_more():
    eps = [compute_epsilon(dp_sgd(s, 0.02, 500), DELTA) for s in (1.5, 3.0, 10.0, 100.0)]
    assert eps == sorted(eps, reverse=True)
    assert np.all(np.array(eps) > 0)
