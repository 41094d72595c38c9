"""Event validation, JSON round trips of every event and of the ledger."""

import json

import pytest

from dpgraph.errors import DPGraphError
from dpgraph.privacy import (
    ComposedEvent,
    GaussianEvent,
    PoissonSampledEvent,
    PrivacyLedger,
    SampledWithoutReplacementEvent,
    SelfComposedEvent,
    SubgraphSampledGaussianEvent,
    compute_epsilon,
    event_from_dict,
)

DELTA = 1e-5
GAUSS = GaussianEvent(2.0)
EVENTS = [
    GAUSS,
    PoissonSampledEvent(0.1, GAUSS),
    SampledWithoutReplacementEvent(100, 10, GAUSS),
    SelfComposedEvent(PoissonSampledEvent(0.1, GAUSS), 7),
    ComposedEvent([GAUSS, SelfComposedEvent(GAUSS, 2)]),
    SubgraphSampledGaussianEvent(6.0, 3, 100, "fixed", batch_size=10),
    SubgraphSampledGaussianEvent(6.0, 3, 100, "poisson", sampling_probability=0.1),
    ComposedEvent(()),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_json_round_trip(event):
    data = json.loads(json.dumps(event.to_dict()))
    assert "type" in data
    rebuilt = event_from_dict(data)
    assert rebuilt == event
    assert compute_epsilon(rebuilt, DELTA) == compute_epsilon(event, DELTA)


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: GaussianEvent(0.0), "noise_multiplier"),
        (lambda: GaussianEvent(-1.0), "noise_multiplier"),
        (lambda: GaussianEvent(float("nan")), "noise_multiplier"),
        (lambda: GaussianEvent(float("inf")), "noise_multiplier"),
        (lambda: PoissonSampledEvent(0.0, GAUSS), "sampling_probability"),
        (lambda: PoissonSampledEvent(1.5, GAUSS), "sampling_probability"),
        (lambda: PoissonSampledEvent(0.5, "gaussian"), "event"),
        (lambda: SampledWithoutReplacementEvent(10, 11, GAUSS), "sample_size"),
        (lambda: SampledWithoutReplacementEvent(10, 0, GAUSS), "sample_size"),
        (lambda: SelfComposedEvent(GAUSS, 0), "count"),
        (lambda: SelfComposedEvent(GAUSS, 2.5), "count"),
        (lambda: ComposedEvent(GAUSS), "list or tuple"),
        (lambda: ComposedEvent([GAUSS, 3]), "events"),
        (lambda: compute_epsilon(GAUSS, 0.0), "delta"),
        (lambda: compute_epsilon(GAUSS, 1.0), "delta"),
        (lambda: compute_epsilon(GAUSS, DELTA, "moments"), "accountant"),
        (lambda: PrivacyLedger(DELTA, "graph"), "unit"),
        (lambda: PrivacyLedger(DELTA, "node", "moments"), "accountant"),
        (lambda: PrivacyLedger(DELTA, "node").record("", GAUSS), "stage"),
    ],
)
def test_invalid_inputs_are_one_line_user_errors(build, name):
    with pytest.raises(DPGraphError, match=name) as err:
        build()
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "data",
    [
        {"type": "laplace", "scale": 1.0},
        {"noise_multiplier": 1.0},
        {"type": "gaussian"},
        "gaussian",
        {"type": "self_composed", "event": {"type": "gaussian", "noise_multiplier": 1.0}},
    ],
)
def test_malformed_event_dicts(data):
    with pytest.raises(DPGraphError):
        event_from_dict(data)


def make_ledger(accountant: str = "auto") -> PrivacyLedger:
    ledger = PrivacyLedger(DELTA, "node", accountant)
    ledger.record("sizes", GaussianEvent(8.0))
    ledger.record("edges", GaussianEvent(4.0))
    ledger.record("sizes", GaussianEvent(8.0))
    ledger.record("train", SelfComposedEvent(PoissonSampledEvent(0.02, GaussianEvent(1.2)), 300))
    return ledger


def test_ledger_accounts_the_composition_of_all_events():
    ledger = make_ledger()
    everything = ComposedEvent([event for _, event in ledger.events])
    assert ledger.epsilon() == compute_epsilon(everything, DELTA)
    shares = ledger.stage_epsilons()
    assert list(shares) == ["sizes", "edges", "train"]
    assert shares["sizes"] == compute_epsilon(SelfComposedEvent(GaussianEvent(8.0), 2), DELTA)
    assert max(shares.values()) < ledger.epsilon() < sum(shares.values())


@pytest.mark.parametrize(("accountant", "method"), [("auto", "pld"), ("pld", "pld"), ("prv", "prv"), ("rdp", "rdp")])
def test_ledger_json_round_trip(accountant, method):
    ledger = make_ledger(accountant)
    data = json.loads(json.dumps(ledger.to_dict()))
    assert data["private"] is True
    assert {"epsilon", "delta", "unit", "accountant", "accounted_with", "events", "stage_epsilons"} <= set(data)
    assert data["accounted_with"] == method
    rebuilt = PrivacyLedger.from_dict(data)
    assert rebuilt.epsilon() == data["epsilon"] == ledger.epsilon()
    assert rebuilt.stage_epsilons() == data["stage_epsilons"]
    assert rebuilt.accounted_with() == method
    stages = {"sizes": "analytic-gaussian", "edges": "analytic-gaussian", "train": "pld"}
    assert rebuilt.stage_accounted_with() == data["stage_accounted_with"] == (
        stages if accountant == "auto" else dict.fromkeys(stages, method))
    assert rebuilt.events == ledger.events
    assert (rebuilt.unit, rebuilt.accountant, rebuilt.delta) == ("node", accountant, DELTA)


def test_ledger_defaults_to_auto_and_records_the_method_used():
    ledger = PrivacyLedger(DELTA, "node")
    assert ledger.accountant == "auto"
    ledger.record("sums", GaussianEvent(2.0))
    ledger.record("sums", SelfComposedEvent(PoissonSampledEvent(1.0, GaussianEvent(3.0)), 4))
    assert ledger.accounted_with() == "analytic-gaussian"
    assert ledger.epsilon() == compute_epsilon(GaussianEvent((1 / 2.0**2 + 4 / 3.0**2) ** -0.5), DELTA)
    ledger.record("count", SubgraphSampledGaussianEvent(6.0, 3, 100, "fixed", batch_size=10))
    assert ledger.accounted_with() == "rdp"
    assert ledger.stage_accounted_with() == {"sums": "analytic-gaussian", "count": "rdp"}
    data = ledger.to_dict()
    del data["accountant"]  # a ledger that names no accountant is accounted with auto
    assert PrivacyLedger.from_dict(data).epsilon() == ledger.epsilon()


def test_empty_ledger_and_malformed_ledger():
    assert PrivacyLedger(DELTA, "edge").epsilon() == 0.0
    with pytest.raises(DPGraphError, match="malformed privacy ledger"):
        PrivacyLedger.from_dict({"delta": DELTA, "unit": "node"})
