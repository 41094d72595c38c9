"""Exact analytic Gaussian (the default for plain Gaussian compositions) against a closed form, PLD and PRV."""

import math

import dp_accounting as dpa
import pytest
from dp_accounting.pld import PLDAccountant
from hypothesis import given, settings
from hypothesis import strategies as st
from opacus.accountants import PRVAccountant
from privacy_reference import gaussian_delta

from dpgraph.errors import DPGraphError
from dpgraph.privacy import (
    ComposedEvent,
    GaussianEvent,
    PoissonSampledEvent,
    SampledWithoutReplacementEvent,
    SelfComposedEvent,
    accounting_method,
    compute_epsilon,
    noise_multiplier_for,
)

DELTA = 1e-5


@pytest.mark.parametrize("sigma", [0.3, 0.7, 1.0863, 2.0, 8.0, 60.0])
def test_single_gaussian_is_exact(sigma):
    eps = compute_epsilon(GaussianEvent(sigma), DELTA)
    assert accounting_method(GaussianEvent(sigma)) == "analytic-gaussian"
    assert gaussian_delta(eps, sigma) <= DELTA  # an upper bound on epsilon ...
    assert gaussian_delta(eps * (1 - 1e-9), sigma) > DELTA  # ... and the least one
    assert compute_epsilon(GaussianEvent(sigma), DELTA, "analytic-gaussian") == eps


def test_composition_is_one_gaussian_of_combined_noise():
    # s_i applied count_i times is one Gaussian of s = (sum count_i / s_i^2)^(-1/2)
    event = ComposedEvent((
        GaussianEvent(2.0),
        SelfComposedEvent(GaussianEvent(5.0), 3),
        SelfComposedEvent(PoissonSampledEvent(1.0, GaussianEvent(4.0)), 5),  # q = 1 samples everyone
        SampledWithoutReplacementEvent(50, 50, SelfComposedEvent(GaussianEvent(3.0), 2)),  # m = n likewise
    ))
    s = (1 / 2.0**2 + 3 / 5.0**2 + 5 / 4.0**2 + 2 / 3.0**2) ** -0.5
    eps = compute_epsilon(event, DELTA)
    assert accounting_method(event) == "analytic-gaussian"
    assert eps == pytest.approx(compute_epsilon(GaussianEvent(s), DELTA), rel=1e-12)
    assert gaussian_delta(eps, s) <= DELTA < gaussian_delta(eps * (1 - 1e-9), s)
    # independent composition of the separate releases by dp_accounting's PLD (pessimistic): never below ours
    pld = PLDAccountant()
    for sigma, count in ((2.0, 1), (5.0, 3), (4.0, 5), (3.0, 2)):
        pld.compose(dpa.GaussianDpEvent(sigma), count)
    assert eps <= pld.get_epsilon(DELTA) <= eps * (1 + 1e-3)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(0.2, 50.0), st.integers(1, 20)), min_size=1, max_size=5))
def test_any_gaussian_composition_is_exact(releases):
    event = ComposedEvent(tuple(SelfComposedEvent(GaussianEvent(s), n) for s, n in releases))
    s = math.fsum(n / sigma**2 for sigma, n in releases) ** -0.5
    eps = compute_epsilon(event, DELTA)
    assert gaussian_delta(eps, s) <= DELTA
    assert eps == 0 or gaussian_delta(eps * (1 - 1e-9), s) > DELTA


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # opacus' PRV takes log(1 - q) = -inf at q = 1
@pytest.mark.parametrize("sigma", [0.9, 3.0])
def test_agrees_with_opacus_prv(sigma):
    prv = PRVAccountant()
    prv.history = [(sigma, 1.0, 4)]
    eps = compute_epsilon(SelfComposedEvent(GaussianEvent(sigma), 4), DELTA)
    assert eps <= prv.get_epsilon(DELTA, eps_error=0.01, delta_error=DELTA / 1000) <= eps + 0.021


def test_default_is_tight_where_rdp_is_not():
    # the review's dp-centroid case: one Gaussian calibrated to epsilon 4
    sigma = noise_multiplier_for(4.0, DELTA, GaussianEvent)
    eps = compute_epsilon(GaussianEvent(sigma), DELTA)
    assert 0.99 * 4.0 <= eps <= 4.0
    assert compute_epsilon(GaussianEvent(sigma), DELTA, "rdp") > 1.07 * eps
    assert sigma < 0.95 * noise_multiplier_for(4.0, DELTA, GaussianEvent, "rdp")


@pytest.mark.parametrize(
    "event",
    [PoissonSampledEvent(0.5, GaussianEvent(1.0)), SampledWithoutReplacementEvent(10, 5, GaussianEvent(1.0))],
)
def test_explicit_analytic_refuses_sampled_events(event):
    with pytest.raises(DPGraphError, match="plain Gaussian events; use accountant 'auto'") as err:
        compute_epsilon(event, DELTA, "analytic-gaussian")
    assert "\n" not in str(err.value)
