"""The one spend path: a stage calibrates, runs, and must record exactly the event it was calibrated for."""

from __future__ import annotations

import pytest
from privacy_reference import closed_form_gaussians_epsilon

from dpgraph.errors import DPGraphError
from dpgraph.privacy import GaussianEvent, PoissonSampledEvent, PrivacyLedger, SelfComposedEvent
from dpgraph.privacy.spend import Budget

DELTA = 1e-5


def budget(**targets: float) -> Budget:
    return Budget(PrivacyLedger(DELTA, "node"), targets or {"a": 1.0, "b": 2.0})


def dpsgd(steps: int):
    return lambda sigma: SelfComposedEvent(PoissonSampledEvent(0.1, GaussianEvent(sigma)), steps)


def test_calibrated_event_is_recorded_and_meets_the_cumulative_target():
    spends = budget()
    first = spends.calibrate("a", GaussianEvent)
    assert spends.ledger.events == []  # nothing is spent before the stage records
    first.record(GaussianEvent(first.noise_multiplier))
    second = spends.calibrate("b", GaussianEvent)
    second.record(second.event)
    sigmas = [event.noise_multiplier for _, event in spends.ledger.events]
    assert [stage for stage, _ in spends.ledger.events] == ["a", "b"]
    assert 0.99 <= closed_form_gaussians_epsilon(sigmas[:1], DELTA) <= 1.0
    assert 0.99 * 2.0 <= closed_form_gaussians_epsilon(sigmas, DELTA) <= 2.0
    spends.close()


def test_recording_another_event_than_the_calibrated_one_is_refused():
    spends = budget(train=2.0)
    spend = spends.calibrate("train", dpsgd(100))
    with pytest.raises(DPGraphError, match="calibrated for"):
        spend.record(dpsgd(101)(spend.noise_multiplier))  # one step more than calibrated
    with pytest.raises(DPGraphError, match="calibrated for"):
        spend.record(dpsgd(100)(spend.noise_multiplier * 0.99))  # less noise
    assert spends.ledger.events == []
    with pytest.raises(DPGraphError, match="never recorded"):
        spends.close()


@pytest.mark.parametrize("misuse", ["twice", "unknown", "overlap", "record-twice"])
def test_misuse_is_an_exception_not_an_assert(misuse):
    spends = budget()
    spend = spends.calibrate("a", GaussianEvent)
    with pytest.raises(DPGraphError):
        if misuse == "twice":
            spend.record(spend.event)
            spends.calibrate("a", GaussianEvent)
        elif misuse == "unknown":
            spend.record(spend.event)
            spends.calibrate("c", GaussianEvent)
        elif misuse == "overlap":
            spends.calibrate("b", GaussianEvent)  # "a" is still open: its event would be missing from the prior
        else:
            spend.record(spend.event)
            spend.record(spend.event)
    assert len(spends.ledger.events) == (0 if misuse == "overlap" else 1)
