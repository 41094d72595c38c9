"""Noise calibration round trips and budget splitting across stages."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dpgraph.errors import DPGraphError
from dpgraph.privacy import (
    ComposedEvent,
    GaussianEvent,
    PrivacyLedger,
    accounting_method,
    compute_epsilon,
    dpsgd_event_factory,
    noise_multiplier_for,
    split_targets,
)

DELTA = 1e-5


def assert_calibrated(target, make_event, accountant="rdp", prior=()):
    sigma = noise_multiplier_for(target, DELTA, make_event, accountant, prior)
    eps = compute_epsilon(ComposedEvent((*prior, make_event(sigma))), DELTA, accountant)
    assert 0.99 * target <= eps <= target
    return sigma


@pytest.mark.parametrize(
    ("target", "factory"),
    [
        (1.0, dpsgd_event_factory(1000, sample_rate=0.01)),
        (8.0, dpsgd_event_factory(2250, sample_rate=0.04)),
        (4.0, dpsgd_event_factory(500, occurrences=5, num_subgraphs=1000, batch_size=64)),
        (2.0, dpsgd_event_factory(300, occurrences=3, num_subgraphs=500, sample_rate=0.05)),
        (0.5, GaussianEvent),
    ],
)
def test_rdp_round_trip(target, factory):
    assert_calibrated(target, factory)


def test_round_trip_with_prior_event_needs_more_noise():
    factory = dpsgd_event_factory(1000, sample_rate=0.01)
    alone = assert_calibrated(3.0, factory)
    with_prior = assert_calibrated(3.0, factory, prior=[GaussianEvent(2.0)])
    assert with_prior > alone


def test_prv_round_trip():
    factory = dpsgd_event_factory(1000, sample_rate=0.01)
    sigma_prv = assert_calibrated(2.0, factory, "prv", prior=[GaussianEvent(5.0)])
    assert sigma_prv < noise_multiplier_for(2.0, DELTA, factory, "rdp", [GaussianEvent(5.0)])


@pytest.mark.parametrize(
    ("target", "factory", "prior", "method"),
    [
        (4.0, GaussianEvent, (), "analytic-gaussian"),
        (4.0, dpsgd_event_factory(5, sample_rate=1.0), (GaussianEvent(1.3),), "analytic-gaussian"),
        (1.0, dpsgd_event_factory(50, sample_rate=0.1), (), "pld"),
        (1.0, dpsgd_event_factory(50, sample_rate=0.1), (GaussianEvent(8.0),), "pld"),
        (4.0, dpsgd_event_factory(500, occurrences=5, num_subgraphs=1000, batch_size=64), (), "rdp"),
    ],
)
def test_auto_round_trip_needs_no_more_noise_than_rdp(target, factory, prior, method):
    sigma = assert_calibrated(target, factory, "auto", prior)
    assert accounting_method(ComposedEvent((*prior, factory(sigma)))) == method
    sigma_rdp = noise_multiplier_for(target, DELTA, factory, "rdp", prior)
    assert sigma <= sigma_rdp
    if method != "rdp":
        assert sigma < 0.97 * sigma_rdp  # the tight accountants save noise on every shape here
    assert noise_multiplier_for(target, DELTA, factory, method, prior) == sigma


@settings(max_examples=8, deadline=None)
@given(target=st.floats(0.02, 60.0), count=st.integers(1, 50), prior=st.floats(0.5, 50.0))
def test_calibration_lands_in_band_for_any_target(target, count, prior):
    factory = dpsgd_event_factory(count, sample_rate=1.0)
    if compute_epsilon(GaussianEvent(prior), DELTA) < 0.9 * target:
        assert_calibrated(target, factory, "auto", prior=[GaussianEvent(prior)])
    assert_calibrated(target, dpsgd_event_factory(count, sample_rate=0.05), "rdp")


def test_prior_that_already_exceeds_the_target_is_an_error():
    with pytest.raises(DPGraphError, match="already spend"):
        noise_multiplier_for(1.0, DELTA, GaussianEvent, prior=[GaussianEvent(0.5)])


def test_a_prior_within_target_exactly_but_over_it_under_rdp_is_named():
    """An exactly calibrated Gaussian at 3.8 reads 4.09 under RDP, the only accountant of K = 2 subgraph steps: the
    refusal names that accountant instead of searching for a sigma that cannot exist."""
    prior = [GaussianEvent(noise_multiplier_for(3.8, DELTA, GaussianEvent))]
    assert compute_epsilon(prior[0], DELTA) < 4.0 < compute_epsilon(prior[0], DELTA, "rdp")
    subgraph_steps = dpsgd_event_factory(20, occurrences=2, num_subgraphs=500, sample_rate=0.5)
    with pytest.raises(DPGraphError, match="already spend epsilon 4.087 >= target 4 under the rdp accountant"):
        noise_multiplier_for(4.0, DELTA, subgraph_steps, prior=prior)
    assert_calibrated(4.0, dpsgd_event_factory(20, sample_rate=0.5), "auto", prior)  # PLD composes it: reachable


def test_absurd_targets_are_errors():
    with pytest.raises(DPGraphError, match="lower the target"):
        noise_multiplier_for(1e7, DELTA, GaussianEvent)
    with pytest.raises(DPGraphError, match="out of reach"):
        prior = [GaussianEvent(1.0)]
        noise_multiplier_for(
            compute_epsilon(prior[0], DELTA) * (1 + 1e-12), DELTA, GaussianEvent, prior=prior
        )


@pytest.mark.parametrize(("target", "delta"), [(0.0, DELTA), (-1.0, DELTA), (1.0, 0.0), (1.0, 1.0)])
def test_invalid_calibration_inputs(target, delta):
    with pytest.raises(DPGraphError):
        noise_multiplier_for(target, delta, GaussianEvent)


def test_split_targets_are_cumulative_in_order():
    targets = split_targets(4.0, {"sizes": 0.25, "edges": 0.5, "features": 0.25})
    assert list(targets) == ["sizes", "edges", "features"]
    assert targets == pytest.approx({"sizes": 1.0, "edges": 3.0, "features": 4.0})
    assert targets["features"] <= 4.0


@pytest.mark.parametrize(
    "split",
    [{}, {"a": 0.5, "b": 0.4}, {"a": 0.0, "b": 1.0}, {"a": -0.5, "b": 1.5}, {"a": 1.0 + 1e-6}, {"a": "half"}],
)
def test_split_targets_rejects_bad_fractions(split):
    with pytest.raises(DPGraphError, match="privacy.split"):
        split_targets(1.0, split)


def test_staged_calibration_spends_the_whole_budget_and_no_more():
    ledger = PrivacyLedger(DELTA, "node")
    stages = {
        "sizes": GaussianEvent,
        "edges": GaussianEvent,
        "train": dpsgd_event_factory(200, sample_rate=0.02),
    }
    for stage, target in split_targets(3.0, {"sizes": 0.2, "edges": 0.3, "train": 0.5}).items():
        prior = [event for _, event in ledger.events]
        ledger.record(stage, stages[stage](noise_multiplier_for(target, DELTA, stages[stage], prior=prior)))
        assert 0.99 * target <= ledger.epsilon() <= target
    assert ledger.epsilon() <= 3.0
