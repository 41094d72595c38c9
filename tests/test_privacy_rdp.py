"""RDP accountant against independent references: opacus' RDPAccountant and dp_accounting's accountants."""

import dp_accounting as dpa
import pytest
from dp_accounting.pld import PLDAccountant
from dp_accounting.rdp import RdpAccountant
from opacus.accountants import RDPAccountant
from privacy_reference import dp_sgd

from dpgraph.errors import DPGraphError
from dpgraph.privacy import (
    RDP_ORDERS,
    ComposedEvent,
    GaussianEvent,
    PoissonSampledEvent,
    SampledWithoutReplacementEvent,
    SelfComposedEvent,
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
    eps = compute_epsilon(dp_sgd(1.5, 0.04, 2250), DELTA)
    assert eps == pytest.approx(7.32911117143, rel=1e-6)
    opacus = RDPAccountant()
    opacus.history = [(1.5, 0.04, 2250)]
    assert eps == pytest.approx(opacus.get_epsilon(DELTA), rel=1e-6)


def test_abadi_mnist_setting():
    q, steps = 256 / 60000, 14062
    eps = compute_epsilon(dp_sgd(1.1, q, steps), DELTA)
    assert eps == pytest.approx(2.5966, abs=1e-4)
    reference = reference_rdp(
        dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(q, dpa.GaussianDpEvent(1.1)), steps)
    )
    assert eps == pytest.approx(reference, rel=1e-6)


def test_gaussian_release_plus_dp_sgd_composition():
    ours = ComposedEvent((GaussianEvent(5.0), dp_sgd(1.0, 0.01, 1000)))
    eps = compute_epsilon(ours, DELTA)
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
    nested = compute_epsilon(SelfComposedEvent(step, 3), DELTA)
    flat = compute_epsilon(ComposedEvent([GaussianEvent(4.0)] * 3 + [dp_sgd(2.0, 0.1, 3)]), DELTA)
    assert nested == pytest.approx(flat, rel=1e-12)


def test_empty_composition_spends_nothing():
    assert compute_epsilon(ComposedEvent(()), DELTA) == 0.0


@pytest.mark.parametrize(("sigma", "n", "m", "steps"), [(1.0, 10000, 100, 2000), (0.8, 25000, 100, 5000)])
def test_without_replacement_equals_wbk19_where_gaussian_specific_bound_coincides(sigma, n, m, steps):
    # for sigma <= ~1 the Gaussian-specific Theorem 27 (dp_accounting) reduces to the general Theorem 9 (ours)
    eps = compute_epsilon(
        SelfComposedEvent(SampledWithoutReplacementEvent(n, m, GaussianEvent(sigma)), steps), DELTA
    )
    wor = dpa.SampledWithoutReplacementDpEvent(n, m, dpa.GaussianDpEvent(sigma))
    reference = reference_rdp(
        dpa.SelfComposedDpEvent(wor, steps), relation=dpa.NeighboringRelation.REPLACE_ONE
    )
    assert eps == pytest.approx(reference, rel=1e-6)


@pytest.mark.parametrize(("sigma", "n", "m", "steps"), [(2.0, 1000, 50, 200), (5.0, 1000, 100, 1000)])
def test_without_replacement_is_sound_and_not_far_from_references(sigma, n, m, steps):
    eps = compute_epsilon(
        SelfComposedEvent(SampledWithoutReplacementEvent(n, m, GaussianEvent(sigma)), steps), DELTA
    )
    wor = dpa.SampledWithoutReplacementDpEvent(n, m, dpa.GaussianDpEvent(sigma))
    reference = reference_rdp(
        dpa.SelfComposedDpEvent(wor, steps), relation=dpa.NeighboringRelation.REPLACE_ONE
    )
    # Lower reference: replacing a zero-gradient unit by one of full sensitivity is exactly the Poisson pair
    # (1 - q) N(0) + q N(1) vs N(0) with q = m / n: the true epsilon is at least the tight Poisson PLD value.
    pld = PLDAccountant()
    pld.compose(dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(m / n, dpa.GaussianDpEvent(sigma)), steps))
    assert eps >= pld.get_epsilon(DELTA)
    assert reference * (1 - 1e-9) <= eps <= 1.5 * reference


def test_without_replacement_full_sample_is_the_inner_event():
    full = SampledWithoutReplacementEvent(100, 100, GaussianEvent(3.0))
    assert compute_epsilon(full, DELTA) == compute_epsilon(GaussianEvent(3.0), DELTA)


@pytest.mark.parametrize(
    "event",
    [
        PoissonSampledEvent(0.1, SelfComposedEvent(GaussianEvent(1.0), 2)),
        SampledWithoutReplacementEvent(10, 5, PoissonSampledEvent(0.5, GaussianEvent(1.0))),
    ],
)
def test_subsampling_a_non_gaussian_is_unsupported(event):
    with pytest.raises(DPGraphError, match="only a GaussianEvent may be subsampled"):
        compute_epsilon(event, DELTA)


def test_more_noise_never_costs_more():
    eps = [compute_epsilon(dp_sgd(s, 0.02, 500), DELTA) for s in (0.6, 0.9, 1.5, 3.0, 10.0, 100.0)]
    assert eps == sorted(eps, reverse=True)
    assert eps[-1] > 0
