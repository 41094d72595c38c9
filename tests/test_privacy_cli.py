"""`dpgraph account`: output matches the library, JSON keys, calibration, and user errors (exit 2)."""

import json
import typing

import pytest
from click.testing import CliRunner

from dpgraph.cli import main
from dpgraph.config.sections import PrivacySection
from dpgraph.privacy import (
    ACCOUNTANT_CHOICES,
    ACCOUNTANTS,
    GaussianEvent,
    PoissonSampledEvent,
    SelfComposedEvent,
    SubgraphSampledGaussianEvent,
    compute_epsilon,
)

BASE = ["account", "--steps", "2250", "--delta", "1e-5"]


def invoke(*args: str):
    return CliRunner().invoke(main, [*args])


def fields(line: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in line.split())


def test_prints_epsilon_of_poisson_dp_sgd():
    result = invoke(*BASE, "--noise-multiplier", "1.5", "--sample-rate", "0.04")
    assert result.exit_code == 0, result.output
    expected = compute_epsilon(SelfComposedEvent(PoissonSampledEvent(0.04, GaussianEvent(1.5)), 2250), 1e-5)
    out = fields(result.stdout)
    assert float(out["epsilon"]) == expected
    assert (out["accountant"], out["accounted_with"]) == ("auto", "pld")
    rdp = fields(invoke(*BASE, "--noise-multiplier", "1.5", "--sample-rate", "0.04", "--accountant", "rdp").stdout)
    assert float(rdp["epsilon"]) == pytest.approx(7.32911117143, rel=1e-6) and rdp["accounted_with"] == "rdp"


def test_accountant_choices_are_the_library_accountants():
    (option,) = [p for p in main.commands["account"].params if p.name == "accountant"]
    assert tuple(option.type.choices) == ACCOUNTANT_CHOICES == ("auto", *ACCOUNTANTS.names())
    assert typing.get_args(PrivacySection.model_fields["accountant"].annotation) == ACCOUNTANT_CHOICES


def test_json_for_fixed_subgraph_sampler():
    args = ["--noise-multiplier", "40", "--occurrences", "5", "--num-subgraphs", "1000", "--batch-size", "64"]
    result = invoke("account", "--steps", "500", "--delta", "1e-5", *args, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {"epsilon", "delta", "noise_multiplier", "accountant", "accounted_with", "event"} <= set(out)
    assert out["accounted_with"] == "rdp"  # the K-occurrence bound is RDP only
    step = SubgraphSampledGaussianEvent(40.0, 5, 1000, "fixed", batch_size=64)
    assert out["epsilon"] == compute_epsilon(SelfComposedEvent(step, 500), 1e-5)
    assert out["event"] == SelfComposedEvent(step, 500).to_dict()


def test_target_epsilon_prints_calibrated_sigma():
    result = invoke(*BASE, "--target-epsilon", "5", "--sample-rate", "0.04", "--accountant", "prv")
    assert result.exit_code == 0, result.output
    sigma = float(fields(result.stdout)["noise_multiplier"])
    eps = compute_epsilon(
        SelfComposedEvent(PoissonSampledEvent(0.04, GaussianEvent(sigma)), 2250), 1e-5, "prv"
    )
    assert 4.95 <= eps <= 5.0


@pytest.mark.parametrize(
    "args",
    [
        [*BASE, "--noise-multiplier", "0", "--sample-rate", "0.04"],
        [*BASE, "--noise-multiplier", "-1", "--sample-rate", "0.04"],
        [*BASE, "--noise-multiplier", "1", "--sample-rate", "0"],
        [*BASE, "--noise-multiplier", "1", "--sample-rate", "1.5"],
        [*BASE, "--noise-multiplier", "1", "--sample-rate", "0.1", "--delta", "1"],
        [
            *BASE,
            "--noise-multiplier",
            "1",
            "--occurrences",
            "20",
            "--num-subgraphs",
            "10",
            "--sample-rate",
            "0.1",
        ],
        [
            *BASE,
            "--noise-multiplier",
            "1",
            "--occurrences",
            "2",
            "--num-subgraphs",
            "10",
            "--batch-size",
            "11",
        ],
        [*BASE, "--noise-multiplier", "1", "--occurrences", "2", "--sample-rate", "0.1"],
        [*BASE, "--noise-multiplier", "1", "--target-epsilon", "1", "--sample-rate", "0.1"],
        [*BASE, "--sample-rate", "0.1"],
        [
            *BASE,
            "--noise-multiplier",
            "1",
            "--occurrences",
            "2",
            "--num-subgraphs",
            "10",
            "--batch-size",
            "5",
            "--accountant",
            "prv",
        ],
        [*BASE, "--noise-multiplier", "1", "--sample-rate", "0.1", "--accountant", "analytic-gaussian"],
        ["account", "--steps", "0", "--delta", "1e-5", "--noise-multiplier", "1", "--sample-rate", "0.1"],
        ["account", "--delta", "1e-5", "--noise-multiplier", "1", "--sample-rate", "0.1"],
    ],
)
def test_bad_inputs_exit_2_with_one_line(args):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = result.stderr.strip()
    assert message.startswith("error: ") and "\n" not in message
    assert "Traceback" not in result.output


def _ledger_file(tmp_path, content: str):
    path = tmp_path / "privacy.json"
    path.write_text(content)
    return str(path)


def test_ledger_epsilon_is_recomputed_from_the_recorded_events(tmp_path):
    events = [{"stage": "init", "event": GaussianEvent(2.0).to_dict()},
              {"stage": "match", "event": SelfComposedEvent(PoissonSampledEvent(0.5, GaussianEvent(3.0)), 7).to_dict()}]
    path = _ledger_file(tmp_path, json.dumps({"private": True, "epsilon": 123.0, "delta": 1e-5, "unit": "node",
                                              "events": events}))
    result = invoke("account", "--ledger", path, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    expected = compute_epsilon(SelfComposedEvent(PoissonSampledEvent(0.5, GaussianEvent(3.0)), 7), 1e-5)
    assert out["stage_epsilons"]["match"] == pytest.approx(expected)
    assert out["stage_epsilons"]["init"] == pytest.approx(compute_epsilon(GaussianEvent(2.0), 1e-5))
    assert out["stage_epsilons"]["init"] < out["epsilon"] < 123.0  # the stored epsilon is never trusted
    assert out["accountant"] == "auto" and out["accounted_with"] == "pld"
    assert out["stage_accounted_with"] == {"init": "analytic-gaussian", "match": "pld"}


def test_ledger_keeps_its_own_accountant_unless_one_is_given(tmp_path):
    events = [{"stage": "sums", "event": GaussianEvent(1.5).to_dict()}]
    path = _ledger_file(tmp_path, json.dumps({"private": True, "delta": 1e-5, "unit": "node", "accountant": "prv",
                                              "events": events}))
    own = json.loads(invoke("account", "--ledger", path, "--json").output)
    rdp = json.loads(invoke("account", "--ledger", path, "--accountant", "rdp", "--json").output)
    assert own["accountant"] == "prv" and rdp["accountant"] == "rdp"
    assert own["epsilon"] == pytest.approx(compute_epsilon(GaussianEvent(1.5), 1e-5, "prv"))
    assert rdp["epsilon"] == pytest.approx(compute_epsilon(GaussianEvent(1.5), 1e-5, "rdp"))
    assert own["epsilon"] < rdp["epsilon"]  # PRV is the tighter of the two for one Gaussian
    assert (own["accounted_with"], rdp["accounted_with"]) == ("prv", "rdp")


@pytest.mark.parametrize(("content", "extra", "message"), [
    ("{not json", [], "cannot read the ledger"),
    ('{"private": false, "epsilon": null}', [], "non-private"),
    ('{"private": true, "delta": 1e-5}', [], "malformed privacy ledger"),
    ('{"private": true, "delta": 1e-5, "unit": "node", "events": []}', ["--steps", "3"], "drop the other"),
])
def test_bad_ledgers_exit_2_with_one_line(tmp_path, content, extra, message):
    result = invoke("account", "--ledger", _ledger_file(tmp_path, content), *extra)
    assert result.exit_code == 2 and message in result.stderr and "\n" not in result.stderr.strip()
