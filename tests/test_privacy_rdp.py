"""RDP accountant against independent references: opacus' RDPAccountant, dp_accounting's accountants and the
general subsampled-RDP bound (Theorem 9 of Wang, Balle, Kasiviswanathan 2019), re-derived here."""

import math

import dp_accounting as dpa
import numpy as np
import pytest
from dp_accounting.pld import PLDAccountant
from dp_accounting.rdp import RdpAccountant
from opacus.accountants import RDPAccountant
from privacy_reference import dp_sgd
from scipy.special import gammaln, logsumexp

from dpgraph.errors import DPGraphError
from dpgraph.privacy import (
    RDP_ORDERS,
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


def reference_rdp(*events: dpa.DpEvent, relation=dpa.NeighboringRelation.ADD_OR_REMOVE_ONE) -> float:
    accountant = RdpAccountant(list(RDP_ORDERS), relation)
    for event in events:
        accountant.compose(event)
    return accountant.get_epsilon(DELTA)


def test_poisson_gaussian_matches_opacus_test_value():
    # opacus' own test: sigma 1.5, q 0.04, 90 epochs (2250 steps), delta 1e-5
    eps = compute_epsilon(dp_sgd(1.5, 0.04, 2250), DELTA, "rdp")
    assert eps == pytest.approx(7.32911117143, rel=1e-6)
    opacus = RDPAccountant()
    opacus.history = [(1.5, 0.04, 2250)]
    assert eps == pytest.approx(opacus.get_epsilon(DELTA), rel=1e-6)


def test_abadi_mnist_setting():
    q, steps = 256 / 60000, 14062
    eps = compute_epsilon(dp_sgd(1.1, q, steps), DELTA, "rdp")
    assert eps == pytest.approx(2.5966, abs=1e-4)
    reference = reference_rdp(
        dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(q, dpa.GaussianDpEvent(1.1)), steps)
    )
    assert eps == pytest.approx(reference, rel=1e-6)


def test_gaussian_release_plus_dp_sgd_composition():
    ours = ComposedEvent((GaussianEvent(5.0), dp_sgd(1.0, 0.01, 1000)))
    eps = compute_epsilon(ours, DELTA, "rdp")
    theirs = [
        dpa.GaussianDpEvent(5.0),
        dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(0.01, dpa.GaussianDpEvent(1.0)), 1000),
    ]
    assert eps == pytest.approx(reference_rdp(*theirs), rel=1e-4)
    pld = PLDAccountant()
    for event in theirs:
        pld.compose(event)
    assert eps >= pld.get_epsilon(DELTA)


def test_nested_composition_adds_rdp():
    step = ComposedEvent([GaussianEvent(4.0), PoissonSampledEvent(0.1, GaussianEvent(2.0))])
    nested = compute_epsilon(SelfComposedEvent(step, 3), DELTA, "rdp")
    flat = compute_epsilon(ComposedEvent([GaussianEvent(4.0)] * 3 + [dp_sgd(2.0, 0.1, 3)]), DELTA, "rdp")
    assert nested == pytest.approx(flat, rel=1e-12)


def test_empty_composition_spends_nothing():
    for accountant in ("auto", "analytic-gaussian", "pld", "prv", "rdp"):
        assert compute_epsilon(ComposedEvent(()), DELTA, accountant) == 0.0


def theorem9_epsilon(sigma: float, fraction: float, steps: int) -> float:
    """The general (mechanism-agnostic) bound, Theorem 9 of WBK19, for the Gaussian at integer orders a:
    (a-1) eps'(a) <= log(1 + g^2 C(a,2) min{4(e^{1/s^2} - 1), 2 e^{1/s^2}}
                         + sum_{j=3..a} 2 g^j C(a,j) e^{(j-1) j / (2s^2)}),
    capped by the unsampled a / (2 s^2); converted with dp_accounting's compute_epsilon."""
    orders = [a for a in RDP_ORDERS if a == int(a)]

    def bound(a: int) -> float:
        j = np.arange(3, a + 1, dtype=float)
        log_binom = gammaln(a + 1) - gammaln(j + 1) - gammaln(a - j + 1)
        second = 2 * math.log(fraction) + math.log(math.comb(a, 2)) + min(
            math.log(4 * math.expm1(1 / sigma**2)), math.log(2) + 1 / sigma**2
        )
        higher = math.log(2) + j * math.log(fraction) + log_binom + (j - 1) * j / (2 * sigma**2)
        return min(float(logsumexp([0.0, second, *higher])) / (a - 1), a / (2 * sigma**2))

    eps, _ = dpa.rdp.compute_epsilon(orders, [steps * bound(int(a)) for a in orders], DELTA)
    return eps


@pytest.mark.parametrize(("sigma", "n", "m", "steps"), [(1.0, 10000, 100, 2000), (5.0, 1000, 100, 1000)])
def test_without_replacement_is_dp_accountings_theorem_27_and_sound(sigma, n, m, steps):
    event = SelfComposedEvent(SampledWithoutReplacementEvent(n, m, GaussianEvent(sigma)), steps)
    eps = compute_epsilon(event, DELTA)
    assert accounting_method(event) == "rdp"
    assert eps == compute_epsilon(event, DELTA, "rdp")
    wor = dpa.SampledWithoutReplacementDpEvent(n, m, dpa.GaussianDpEvent(sigma))
    reference = reference_rdp(dpa.SelfComposedDpEvent(wor, steps), relation=dpa.NeighboringRelation.REPLACE_ONE)
    assert eps == pytest.approx(reference, rel=1e-9)
    # Theorem 27 (Gaussian-specific) is never looser than the general Theorem 9 (integer orders only here)
    assert eps <= theorem9_epsilon(sigma, m / n, steps) * (1 + 1e-9)
    # Lower reference: replacing a zero-gradient unit by one of full sensitivity is exactly the Poisson pair
    # (1 - q) N(0) + q N(1) vs N(0) with q = m / n: the true epsilon is at least the tight Poisson PLD value.
    pld = PLDAccountant()
    pld.compose(dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(m / n, dpa.GaussianDpEvent(sigma)), steps))
    assert eps >= pld.get_epsilon(DELTA)


@pytest.mark.parametrize(
    ("sigma", "n", "m", "steps", "recorded"),
    [(1.0, 10000, 100, 2000, 5.185620918292027), (0.8, 25000, 100, 5000, 4.38629245073755),
     (2.0, 1000, 50, 200, 3.868499198274754), (5.0, 1000, 100, 1000, 8.365106636441174)],
)
def test_theorem9_reference_reproduces_the_former_implementation(sigma, n, m, steps, recorded):
    # `recorded`: dpgraph's former hand-written Theorem-9 accountant (all RDP_ORDERS, fractional ones interpolated)
    assert theorem9_epsilon(sigma, m / n, steps) == pytest.approx(recorded, rel=1e-9)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (ComposedEvent((SampledWithoutReplacementEvent(100, 10, GaussianEvent(1.0)), dp_sgd(1.0, 0.1, 3))),
         "cannot mix Poisson sampling"),
        (ComposedEvent((SampledWithoutReplacementEvent(100, 10, GaussianEvent(1.0)),
                        SubgraphSampledGaussianEvent(2.0, 3, 100, "fixed", batch_size=10))),
         "cannot be composed with a SubgraphSampledGaussianEvent"),
    ],
)
def test_without_replacement_refuses_mixes_it_cannot_account(event, message):
    with pytest.raises(DPGraphError, match=message) as err:
        compute_epsilon(event, DELTA)
    assert "\n" not in str(err.value)


def test_without_replacement_composes_with_gaussians():
    wor = SelfComposedEvent(SampledWithoutReplacementEvent(1000, 50, GaussianEvent(2.0)), 200)
    eps = compute_epsilon(ComposedEvent((GaussianEvent(4.0), PoissonSampledEvent(1.0, GaussianEvent(6.0)), wor)), DELTA)
    theirs = [dpa.GaussianDpEvent(4.0), dpa.GaussianDpEvent(6.0),
              dpa.SelfComposedDpEvent(dpa.SampledWithoutReplacementDpEvent(1000, 50, dpa.GaussianDpEvent(2.0)), 200)]
    assert eps == pytest.approx(reference_rdp(*theirs, relation=dpa.NeighboringRelation.REPLACE_ONE), rel=1e-9)


def test_without_replacement_full_sample_is_the_inner_event():
    full = SampledWithoutReplacementEvent(100, 100, GaussianEvent(3.0))
    for accountant in ("auto", "rdp"):
        assert compute_epsilon(full, DELTA, accountant) == compute_epsilon(GaussianEvent(3.0), DELTA, accountant)


@pytest.mark.parametrize(
    "event",
    [
        PoissonSampledEvent(0.1, SelfComposedEvent(GaussianEvent(1.0), 2)),
        SampledWithoutReplacementEvent(10, 5, PoissonSampledEvent(0.5, GaussianEvent(1.0))),
    ],
)
def test_subsampling_a_non_gaussian_is_unsupported(event):
    with pytest.raises(DPGraphError, match="only a GaussianEvent may be subsampled"):
        compute_epsilon(event, DELTA, "rdp")


def test_more_noise_never_costs_more():
    eps = [compute_epsilon(dp_sgd(s, 0.02, 500), DELTA, "rdp") for s in (0.6, 0.9, 1.5, 3.0, 10.0, 100.0)]
    assert eps == sorted(eps, reverse=True)
    assert eps[-1] > 0
