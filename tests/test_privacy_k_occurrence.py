"""K-occurrence subgraph DP-SGD bound: independent re-derivation, special cases, monotonicity, regression."""

import math

import numpy as np
import pytest
from dp_accounting.rdp import compute_epsilon as dpa_rdp_to_epsilon
from hypothesis import given, settings
from hypothesis import strategies as st
from opacus.accountants.analysis.rdp import compute_rdp
from privacy_reference import closed_form_gaussians_epsilon

from dpgraph.errors import DPGraphError
from dpgraph.privacy import (
    RDP_ORDERS,
    ComposedEvent,
    GaussianEvent,
    PoissonSampledEvent,
    SelfComposedEvent,
    SubgraphSampledGaussianEvent,
    accounting_method,
    compute_epsilon,
)
from dpgraph.privacy.rdp import rdp_curve

DELTA = 1e-5
FAST = settings(max_examples=12, deadline=None)


def fixed(sigma, k, n, b):
    return SubgraphSampledGaussianEvent(sigma, k, n, "fixed", batch_size=b)


def poisson(sigma, k, n, q):
    return SubgraphSampledGaussianEvent(sigma, k, n, "poisson", sampling_probability=q)


def paper_form_rdp(sigma: float, k: int, pmf: list[float], order: float) -> float:
    """Daigavane et al. in their own parametrisation: noise multiplier s_p = sigma / (2K) relative to the
    whole-node sensitivity, base Gaussian RDP a / (2 s_p^2) scaled by (rho / K)^2; pure-Python log-sum-exp."""
    sigma_p = sigma / (2 * k)
    base = order / (2 * sigma_p**2)
    logs = [math.log(p) + (order - 1) * base * (rho / k) ** 2 for rho, p in enumerate(pmf) if p > 0]
    top = max(logs)
    return (top + math.log(sum(math.exp(x - top) for x in logs))) / (order - 1)


def hypergeometric_pmf(n: int, k: int, b: int) -> list[float]:
    return [math.comb(k, r) * math.comb(n - k, b - r) / math.comb(n, b) for r in range(k + 1)]


def binomial_pmf(k: int, q: float) -> list[float]:
    return [math.comb(k, r) * q**r * (1 - q) ** (k - r) for r in range(k + 1)]


@pytest.mark.parametrize(
    ("event", "pmf"),
    [
        (fixed(6.0, 3, 40, 7), hypergeometric_pmf(40, 3, 7)),
        (fixed(30.0, 12, 500, 64), hypergeometric_pmf(500, 12, 64)),
        (poisson(9.0, 4, 1000, 0.05), binomial_pmf(4, 0.05)),
    ],
)
def test_matches_paper_form_computed_independently(event, pmf):
    steps = 300
    reference = np.array(
        [paper_form_rdp(event.noise_multiplier, event.occurrences, pmf, a) for a in RDP_ORDERS]
    )
    np.testing.assert_allclose(rdp_curve(event), reference, rtol=1e-9)
    expected, _ = dpa_rdp_to_epsilon(list(RDP_ORDERS), list(steps * reference), DELTA)
    assert compute_epsilon(SelfComposedEvent(event, steps), DELTA) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_full_batch_is_the_gaussian_with_sensitivity_2k(k):
    """RDP: the same curve; auto: the exact Gaussian (closed form), below the RDP conversion."""
    through_rdp = compute_epsilon(SelfComposedEvent(GaussianEvent(40.0 / (2 * k)), 50), DELTA, "rdp")
    exact = closed_form_gaussians_epsilon([40.0 / (2 * k)] * 50, DELTA)
    for step in (fixed(40.0, k, 40, 40), poisson(40.0, k, 40, 1.0)):
        np.testing.assert_allclose(rdp_curve(step), rdp_curve(GaussianEvent(40.0 / (2 * k))), rtol=1e-12)
        assert compute_epsilon(SelfComposedEvent(step, 50), DELTA, "rdp") == pytest.approx(through_rdp, rel=1e-12)
        assert compute_epsilon(SelfComposedEvent(step, 50), DELTA) == pytest.approx(exact, rel=1e-9)
    assert exact < through_rdp


@pytest.mark.parametrize(("sigma", "q"), [(2.0, 0.01), (4.0, 0.1), (1.5, 0.3)])
def test_single_occurrence_poisson_bounds_the_sampled_gaussian_with_half_the_noise(sigma, q):
    """K = 1, per-subgraph sensitivity 2C: closed form log(1 - q + q e^{2a(a-1)/s^2}) / (a-1), which is at
    least (by convexity, not equal to) the tight sampled-Gaussian RDP of opacus at noise multiplier s / 2."""
    curve = rdp_curve(poisson(sigma, 1, 1000, q))
    orders = np.array(RDP_ORDERS)
    closed_form = np.logaddexp(np.log1p(-q), np.log(q) + 2 * orders * (orders - 1) / sigma**2) / (orders - 1)
    np.testing.assert_allclose(curve, closed_form, rtol=1e-9)
    tight = compute_rdp(q=q, noise_multiplier=sigma / 2, steps=1, orders=list(RDP_ORDERS))
    assert np.all(curve >= tight * (1 - 1e-9))
    bound = compute_epsilon(SelfComposedEvent(poisson(sigma, 1, 1000, q), 100), DELTA, "rdp")
    assert bound >= compute_epsilon(
        SelfComposedEvent(PoissonSampledEvent(q, GaussianEvent(sigma / 2)), 100), DELTA, "rdp"
    )


@FAST
@given(k=st.integers(1, 14), n=st.integers(30, 400), b=st.integers(1, 30), sigma=st.floats(1.0, 60.0))
def test_fixed_epsilon_increases_with_k(k, n, b, sigma):
    assert compute_epsilon(SelfComposedEvent(fixed(sigma, k, n, b), 100), DELTA) <= compute_epsilon(
        SelfComposedEvent(fixed(sigma, k + 1, n, b), 100), DELTA
    )


@FAST
@given(k=st.integers(1, 14), q=st.floats(0.001, 1.0), sigma=st.floats(1.0, 60.0))
def test_poisson_epsilon_increases_with_k(k, q, sigma):
    assert compute_epsilon(SelfComposedEvent(poisson(sigma, k, 100, q), 100), DELTA) <= compute_epsilon(
        SelfComposedEvent(poisson(sigma, k + 1, 100, q), 100), DELTA
    )


@FAST
@given(
    steps=st.integers(1, 5000), extra=st.integers(1, 5000), sigma=st.floats(1.0, 60.0), k=st.integers(1, 8)
)
def test_epsilon_increases_with_steps(steps, extra, sigma, k):
    step = fixed(sigma, k, 200, 16)
    assert compute_epsilon(SelfComposedEvent(step, steps), DELTA) <= compute_epsilon(
        SelfComposedEvent(step, steps + extra), DELTA
    )


@FAST
@given(sigma=st.floats(0.5, 80.0), factor=st.floats(1.001, 4.0), k=st.integers(1, 8), q=st.floats(0.001, 1.0))
def test_epsilon_decreases_with_noise(sigma, factor, k, q):
    for make in (lambda s: fixed(s, k, 200, 16), lambda s: poisson(s, k, 200, q)):
        assert compute_epsilon(SelfComposedEvent(make(sigma * factor), 200), DELTA) <= compute_epsilon(
            SelfComposedEvent(make(sigma), 200), DELTA
        )


def test_auto_accounts_k_occurrence_with_rdp_alone_or_composed():
    step = SelfComposedEvent(fixed(40.0, 5, 1000, 64), 500)
    sampled = PoissonSampledEvent(0.1, GaussianEvent(3.0))
    mixed = ComposedEvent((GaussianEvent(10.0), step, SelfComposedEvent(sampled, 9)))
    for event in (step, mixed):
        assert accounting_method(event) == "rdp"
        assert compute_epsilon(event, DELTA) == compute_epsilon(event, DELTA, "rdp")
    curves = rdp_curve(GaussianEvent(10.0)) + rdp_curve(step) + 9 * rdp_curve(sampled)
    np.testing.assert_allclose(rdp_curve(mixed), curves, rtol=1e-12)


def test_regression_values():
    # recorded from this implementation (RDP_ORDERS, delta 1e-5); cross-checked by the paper-form test above
    assert compute_epsilon(SelfComposedEvent(fixed(40.0, 5, 1000, 64), 500), DELTA) == pytest.approx(
        REGRESSION_FIXED, rel=1e-9
    )
    assert compute_epsilon(SelfComposedEvent(poisson(40.0, 5, 1000, 0.064), 500), DELTA) == pytest.approx(
        REGRESSION_POISSON, rel=1e-9
    )


REGRESSION_FIXED = 3.2896935285501283
REGRESSION_POISSON = 3.2960523215738626


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"occurrences": 11, "num_subgraphs": 10, "sampler": "fixed", "batch_size": 5},
            "must not exceed num_subgraphs",
        ),
        ({"occurrences": 2, "num_subgraphs": 10, "sampler": "fixed", "batch_size": 11}, "batch_size B"),
        ({"occurrences": 2, "num_subgraphs": 10, "sampler": "fixed"}, "needs batch_size"),
        (
            {"occurrences": 2, "num_subgraphs": 10, "sampler": "poisson", "sampling_probability": 0.0},
            r"\(0, 1\]",
        ),
        (
            {"occurrences": 2, "num_subgraphs": 10, "sampler": "poisson", "batch_size": 3},
            "needs sampling_probability",
        ),
        (
            {"occurrences": 0, "num_subgraphs": 10, "sampler": "poisson", "sampling_probability": 0.1},
            "occurrences",
        ),
        ({"occurrences": 2, "num_subgraphs": 10, "sampler": "shuffle", "batch_size": 3}, "sampler must be"),
    ],
)
def test_invalid_parameters(kwargs, message):
    with pytest.raises(DPGraphError, match=message):
        SubgraphSampledGaussianEvent(2.0, **kwargs)
