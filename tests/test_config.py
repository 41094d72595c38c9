"""Config validation: every bad input is a one-line error, exit code 2, no traceback, no run directory."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from click.testing import CliRunner

from dpgraph.cli import main
from dpgraph.config.read import apply_overrides
from dpgraph.errors import DPGraphError
from dpgraph.pipeline.config import load_config, parse_config


def _run(args: list[str]):
    return CliRunner().invoke(main, args)


def _mutate(cfg: dict, path: str, value) -> dict:
    out = copy.deepcopy(cfg)
    node = out
    *parents, last = path.split(".")
    for p in parents:
        node = node[p]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return out


_DELETE = object()

BAD_CASES = [
    ("privacy.epsilon", 0, "privacy.epsilon"),
    ("privacy.epsilon", -1.0, "privacy.epsilon"),
    ("privacy.epsilon", ".inf", "privacy.epsilon"),
    ("privacy.delta", 0.0, "privacy.delta"),
    ("privacy.delta", 1.0, "privacy.delta"),
    ("privacy.delta", 0.01, "1/n"),  # >= 1/n for n = 300
    ("privacy.unit", "graph", "privacy.unit"),
    ("privacy.accountant", "moments", "privacy.accountant"),
    ("privacy.split", {"sizes": 1.0}, "privacy.split"),
    ("privacy.unit", "edge", "privacy.unit"),
    ("seed", "abc", "seed"),
    ("surprise", 1, "unknown key 'surprise'"),
    ("method.surprise", 1, "unknown key 'method.surprise'"),
    ("dataset.surprise", 1, "unknown key 'dataset.surprise'"),
    ("evaluate.surprise", 1, "unknown key 'evaluate.surprise'"),
    ("method.degree_cap", 0, "method.degree_cap"),
    ("method.name", "nope", "unknown method 'nope'"),
    ("dataset.name", "nope", "unknown dataset 'nope'"),
    ("dataset.split", "odd", "dataset.split"),
    ("dataset.split_fractions", [0.5, 0.5, 0.5], "dataset.split_fractions"),
    ("evaluate.models", ["gcn", "transformer"], "evaluate.models"),
    ("evaluate.seeds", 0, "evaluate"),
    ("evaluate.epochs", -3, "evaluate.epochs"),
    ("dataset", _DELETE, "missing key 'dataset'"),
    ("privacy.epsilon", _DELETE, "missing key 'privacy.epsilon'"),
]


@pytest.mark.parametrize(("key", "value", "expected"), BAD_CASES, ids=[c[0] + "=" + str(c[1]) for c in BAD_CASES])
def test_bad_config_is_one_line_exit_2_and_writes_nothing(key, value, expected, smoke_config, write_pipeline,
                                                          tmp_path: Path):
    cfg = _mutate(smoke_config, key, float("inf") if value == ".inf" else value)
    out = tmp_path / "run"
    result = _run(["run", str(write_pipeline(cfg)), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists() and not any(p.name.startswith(".run.") for p in tmp_path.iterdir())


@pytest.mark.parametrize("text", ["name: x\n  bad: [unclosed", "- just\n- a list\n", ""])
def test_malformed_yaml(text, write_pipeline):
    result = _run(["run", str(write_pipeline(text)), "--quiet"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "error:" in result.output


def test_missing_pipeline_file(tmp_path: Path):
    result = _run(["run", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2 and "does not exist" in result.output


@pytest.mark.parametrize(("method", "epsilon", "expected"), [("real", 4.0, "epsilon: null"),
                                                              ("dp-sbm", None, "positive number")])
def test_privacy_mode_must_match_the_method(method, epsilon, expected, smoke_config, write_pipeline):
    cfg = _mutate(_mutate(smoke_config, "method", {"name": method}), "privacy.epsilon", epsilon)
    result = _run(["run", str(write_pipeline(cfg)), "--quiet"])
    assert result.exit_code == 2 and expected in result.output


def test_overrides_set_nested_keys_with_yaml_values(smoke_config):
    out = apply_overrides(smoke_config, ["privacy.epsilon=2", "evaluate.models=[gcn]", "privacy.split=null",
                                         "method.num_nodes=50"])
    assert out["privacy"]["epsilon"] == 2 and out["evaluate"]["models"] == ["gcn"]
    assert out["privacy"]["split"] is None and out["method"]["num_nodes"] == 50
    assert smoke_config["privacy"]["epsilon"] == 4.0  # input untouched
    with pytest.raises(DPGraphError, match="key.path=value"):
        apply_overrides(smoke_config, ["privacy.epsilon"])
    with pytest.raises(DPGraphError, match="not a section"):
        apply_overrides(smoke_config, ["name.sub=1"])


def test_cli_set_reaches_validation(smoke_config, write_pipeline):
    result = _run(["run", str(write_pipeline(smoke_config)), "--set", "privacy.epsilon=-2", "--quiet"])
    assert result.exit_code == 2 and "privacy.epsilon" in result.output


def test_resolved_config_round_trips_with_defaults(smoke_config, write_pipeline):
    cfg = load_config(write_pipeline(smoke_config))
    resolved = cfg.to_dict()
    assert resolved["method"]["num_nodes"] is None  # default filled in
    assert resolved["dataset"]["p_in"] == pytest.approx(0.04)
    assert resolved["evaluate"]["lr"] == pytest.approx(0.01)
    assert parse_config(resolved).to_dict() == resolved


def test_shipped_pipelines_validate():
    for path in sorted(Path(__file__).resolve().parents[1].joinpath("pipelines").glob("*.yaml")):
        cfg = load_config(path)
        assert cfg.name


def test_readme_pipeline_example_validates(tmp_path):
    readme = Path(__file__).resolve().parents[1].joinpath("README.md").read_text()
    block = readme.split("## Pipeline format", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "example.yaml").write_text(block)
    cfg = load_config(tmp_path / "example.yaml")
    assert cfg.method.name == "dp-gcond" and cfg.privacy.split == {"init": 0.8, "match": 0.2}
