"""dp-gnn and the engine's one-node-subgraph mode: events against opacus, end-to-end runs."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from opacus.accountants import RDPAccountant
from privacy_reference import dp_accounting_pld_epsilon

from dpgraph.cli import main
from dpgraph.dpsgd import UnitSampling
from dpgraph.errors import DPGraphError
from dpgraph.pipeline import run_pipeline
from dpgraph.pipeline.config import load_config
from dpgraph.privacy import GaussianEvent, PoissonSampledEvent, PrivacyLedger, SelfComposedEvent


def test_one_node_units_are_accounted_as_plain_dp_sgd():
    event = UnitSampling(50, sample_rate=0.2).event(2.0, 120)
    assert event == SelfComposedEvent(PoissonSampledEvent(0.2, GaussianEvent(2.0)), 120)
    with pytest.raises(DPGraphError, match="Poisson"):
        UnitSampling(50, batch_size=5)


def sbm_dp_gnn(tmp_path, **overrides) -> dict:
    config = {
        "name": "gnn", "seed": 0,
        "dataset": {"name": "sbm", "split": "random", "num_nodes": 400},
        "privacy": {"epsilon": 4.0, "delta": 1e-5, "unit": "node"},
        "method": {"name": "dp-gnn", "model": "sgc", "sample_rate": 0.5, "steps": 60, "lr": 0.05},
        "evaluate": {"evaluators": ["model-accuracy"]},
    }
    for key, value in overrides.items():
        section, _, field = key.partition(".")
        config[section][field] = value
    path = tmp_path / "gnn.yaml"
    import yaml

    path.write_text(yaml.safe_dump(config))
    return path


def test_dp_gnn_ledger_equals_opacus_and_dpgraph_account(tmp_path):
    result = run_pipeline(load_config(sbm_dp_gnn(tmp_path)), out_dir=tmp_path / "run", progress=False)
    recorded = json.loads((tmp_path / "run" / "release" / "privacy.json").read_text())
    step = recorded["events"][0]["event"]
    sigma, q, steps = step["event"]["event"]["noise_multiplier"], step["event"]["sampling_probability"], step["count"]
    assert recorded["epsilon"] == pytest.approx(dp_accounting_pld_epsilon([], [(sigma, q, steps)], 1e-5), rel=1e-6)
    opacus = RDPAccountant()  # the RDP fallback, recomputed by opacus from the same event
    opacus.history = [(sigma, q, steps)]
    assert PrivacyLedger.from_dict(recorded | {"accountant": "rdp"}).epsilon() == \
        pytest.approx(opacus.get_epsilon(1e-5), rel=1e-6)
    assert 0.99 * 4.0 <= recorded["epsilon"] <= 4.0
    out = CliRunner().invoke(main, ["account", "--noise-multiplier", str(sigma), "--sample-rate", str(q),
                                    "--steps", str(steps), "--delta", "1e-5", "--json"])
    assert json.loads(out.output)["epsilon"] == pytest.approx(recorded["epsilon"], rel=1e-9)
    release = tmp_path / "run" / "release"
    assert (release / "model.pt").is_file() and not (release / "synthetic").exists()
    assert result.metrics["utility"]["dp-gnn/graph"]["test_acc_mean"] > 0.5  # SBM: 4 classes, separable


def test_dp_gnn_k_occurrence_run_and_refusals(tmp_path):
    path = sbm_dp_gnn(tmp_path, **{"method.sampler": {"kind": "ego", "hops": 1, "fanout": 3, "max_degree": 400},
                                   "method.steps": 3})
    result = run_pipeline(load_config(path), out_dir=tmp_path / "k", progress=False)
    step = result.privacy["events"][0]["event"]["event"]
    assert step["type"] == "subgraph_sampled_gaussian" and step["occurrences"] == 300  # min(N, 1 + 400)
    walk = sbm_dp_gnn(tmp_path, **{"method.sampler": {"kind": "random-walk"}})
    out = CliRunner().invoke(main, ["run", str(walk), "--out", str(tmp_path / "w")])
    assert out.exit_code == 2 and "not node-stable" in out.output and not (tmp_path / "w").exists()


def test_dp_gnn_non_private_reference_learns(tmp_path):
    path = sbm_dp_gnn(tmp_path, **{"privacy.epsilon": None})
    result = run_pipeline(load_config(path), out_dir=tmp_path / "np", progress=False)
    assert result.privacy["private"] is False and result.privacy["events"] == []
    assert result.metrics["utility"]["dp-gnn/graph"]["test_acc_mean"] > 0.8
