"""End to end on the generated SBM graph: the run-directory contract, determinism, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from dpgraph.cli import main
from dpgraph.data import load_graph_csv, load_graph_pt
from dpgraph.evaluation.evaluators import utility as utility_evaluator
from dpgraph.pipeline import run_pipeline
from dpgraph.pipeline.config import load_config
from dpgraph.privacy import PrivacyLedger


def _cli(args: list[str]):
    return CliRunner().invoke(main, args)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> Path:
    """One dp-sbm run on the SBM graph through the CLI, shared by the contract tests."""
    base = tmp_path_factory.mktemp("runs")
    cfg = {
        "name": "smoke", "seed": 0,
        "dataset": {"name": "sbm", "split": "random", "split_fractions": [0.6, 0.2, 0.2], "num_nodes": 300},
        "privacy": {"epsilon": 4.0, "delta": 1e-5, "unit": "node"},
        "method": {"name": "dp-sbm", "degree_cap": 5, "feature_clip": 4.0},
        "evaluate": {"models": ["gcn", "mlp"], "seeds": 2, "epochs": 30},
    }
    path = base / "smoke.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = _cli(["run", str(path), "--out", str(base / "run"), "--set", "evaluate.epochs=40"])
    assert result.exit_code == 0, result.output
    assert "-DP, node-level" in result.output and "gcn:" in result.output
    return base / "run"


def test_run_directory_has_every_file(smoke_run: Path):
    for rel in ("config.yaml", "metrics.json", "report.md", "plots/degree.png", "plots/utility.png",
                "release/config.yaml", "release/privacy.json", "release/synthetic/graph.pt",
                "release/synthetic/nodes.csv", "release/synthetic/edges.csv"):
        assert (smoke_run / rel).is_file(), rel
    assert not [p for p in smoke_run.parent.iterdir() if p.name.startswith(".run.")]


def test_config_yaml_is_resolved_with_overrides(smoke_run: Path):
    resolved = yaml.safe_load((smoke_run / "config.yaml").read_text())
    assert resolved["evaluate"]["epochs"] == 40 and resolved["evaluate"]["lr"] == pytest.approx(0.01)
    assert load_config(smoke_run / "config.yaml").to_dict() == resolved


def test_privacy_json_epsilon_is_recomputable_from_its_events(smoke_run: Path):
    privacy = json.loads((smoke_run / "release" / "privacy.json").read_text())
    assert privacy["private"] is True and privacy["unit"] == "node" and privacy["delta"] == 1e-5
    assert [e["stage"] for e in privacy["events"]] == ["sizes", "edges", "features"]
    recomputed = PrivacyLedger.from_dict(privacy).epsilon()
    assert recomputed == pytest.approx(privacy["epsilon"], rel=1e-9)
    assert 0.99 * 4.0 <= privacy["epsilon"] <= 4.0


def test_metrics_and_released_graph(smoke_run: Path):
    metrics = json.loads((smoke_run / "metrics.json").read_text())
    for model in ("gcn", "mlp"):
        res = metrics["utility"][model]
        assert len(res["per_seed"]) == 2 and 0.0 <= res["test_acc_mean"] <= 1.0
    assert {"degree_ks", "triangle_rel_error", "edge_homophily_released"} <= set(metrics["fidelity"])
    assert {"load", "mechanism", "evaluate", "total"} <= set(metrics["timing_s"])
    synthetic = smoke_run / "release" / "synthetic"
    pt, csv = load_graph_pt(synthetic / "graph.pt"), load_graph_csv(synthetic)
    assert torch.equal(pt.y, csv.y) and torch.allclose(pt.x, csv.x)
    report = (smoke_run / "report.md").read_text()
    assert "node-level" in report and "| gcn |" in report


def test_reproducible_noise_reruns_bit_for_bit(smoke_run: Path, tmp_path: Path):
    runs = []
    for name in ("first", "again"):
        out = tmp_path / name
        result = _cli(["run", str(smoke_run / "config.yaml"), "--out", str(out), "--quiet",
                       "--set", "privacy.randomness=reproducible"])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == str(out)
        runs.append(out)
    first, again = runs
    assert json.loads((again / "metrics.json").read_text())["utility"] == \
        json.loads((first / "metrics.json").read_text())["utility"]
    for rel in ("release/synthetic/nodes.csv", "release/synthetic/edges.csv"):
        assert (first / rel).read_bytes() == (again / rel).read_bytes(), rel


def test_non_private_reference_is_marked(tmp_path: Path, smoke_config, write_pipeline):
    smoke_config["method"] = {"name": "real"}
    smoke_config["privacy"] = {"epsilon": None}
    config = load_config(write_pipeline(smoke_config))
    result = run_pipeline(config, out_dir=tmp_path / "real", progress=False)
    privacy = json.loads((tmp_path / "real" / "release" / "privacy.json").read_text())
    assert privacy["private"] is False and privacy["epsilon"] is None and privacy["events"] == []
    assert result.metrics["utility"]["gcn"]["test_acc_mean"] > 0.8  # SBM classes are separable
    assert "Not private" in (tmp_path / "real" / "report.md").read_text()


def test_existing_output_directory_is_refused(smoke_run: Path):
    result = _cli(["run", str(smoke_run / "config.yaml"), "--out", str(smoke_run), "--quiet"])
    assert result.exit_code == 2 and "already exists" in result.output


def test_failure_mid_run_leaves_nothing(tmp_path: Path, smoke_config, write_pipeline, monkeypatch):
    def broken_plot(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(utility_evaluator, "plot_utility", broken_plot)
    config = load_config(write_pipeline(smoke_config))
    with pytest.raises(RuntimeError, match="disk full"):
        run_pipeline(config, out_dir=tmp_path / "out" / "run", progress=False)
    assert list((tmp_path / "out").iterdir()) == []


def test_shipped_cora_pipeline_runs_end_to_end(planetoid_root: Path, tmp_path: Path):
    """pipelines/cora.yaml itself, shortened (1 seed, 20 epochs), on the real Cora files."""
    pipeline = Path(__file__).resolve().parents[1] / "pipelines" / "cora.yaml"
    result = _cli(["run", str(pipeline), "--data-root", str(planetoid_root), "--out", str(tmp_path / "cora"),
                   "--set", "evaluate.seeds=1", "--set", "evaluate.epochs=20", "--quiet"])
    assert result.exit_code == 0, result.output
    privacy = json.loads((tmp_path / "cora" / "release" / "privacy.json").read_text())
    assert privacy["unit"] == "node" and 0.99 * 4.0 <= privacy["epsilon"] <= 4.0
    assert PrivacyLedger.from_dict(privacy).epsilon() == pytest.approx(privacy["epsilon"])
    metrics = json.loads((tmp_path / "cora" / "metrics.json").read_text())
    assert metrics["fidelity"]["num_nodes_real"] == 2708


def test_evaluate_on_val_scores_the_validation_nodes(tmp_path: Path, smoke_config, write_pipeline):
    from dpgraph.data.sbm import SBMParams, make_sbm_graph
    from dpgraph.data.split import random_split
    from dpgraph.evaluation.utility import TrainSettings, evaluate_utility

    config = smoke_config | {"evaluate": smoke_config["evaluate"] | {"score_on": "val", "evaluators": ["utility"]}}
    result = run_pipeline(load_config(write_pipeline(config)), out_dir=tmp_path / "run", progress=False)
    assert result.metrics["evaluated_on"] == "val"
    assert "val accuracy" in (tmp_path / "run" / "report.md").read_text()
    real = random_split(make_sbm_graph(SBMParams(num_nodes=300)), (0.6, 0.2, 0.2), seed=0)
    real.test_mask = real.val_mask  # what evaluate.score_on: val must score, computed here without the pipeline
    released = load_graph_pt(tmp_path / "run" / "release" / "synthetic" / "graph.pt")
    expected = evaluate_utility(released, real, ["gcn", "mlp"], [0, 1], TrainSettings(epochs=30), 3, progress=False)
    for model in ("gcn", "mlp"):
        assert result.metrics["utility"][model]["per_seed"] == pytest.approx(expected[model]["per_seed"])


def test_evaluate_on_val_without_validation_nodes_exits_2(tmp_path: Path, smoke_config, write_pipeline):
    config = smoke_config | {"evaluate": smoke_config["evaluate"] | {"score_on": "val"}}
    config["dataset"] = config["dataset"] | {"split_fractions": [0.8, 0.0, 0.2]}
    out = _cli(["run", str(write_pipeline(config)), "--out", str(tmp_path / "x")])
    assert out.exit_code == 2 and "evaluate.score_on: val needs validation nodes" in out.output
    assert not (tmp_path / "x").exists()
