"""Pipeline files and --set overrides mean exactly what was written: YAML 1.2 numbers, no duplicate keys, no
coercion of strings or booleans into numbers, and no silently ignored or empty settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dpgraph.cli import main
from dpgraph.config.read import apply_overrides, parse_yaml
from dpgraph.errors import DPGraphError
from dpgraph.pipeline.config import load_config, parse_config

PIPELINE = """\
name: smoke
seed: 0
dataset:
  name: sbm
  split: random
  split_fractions: [0.6, 0.2, 0.2]
  num_nodes: 300
privacy:
  epsilon: 4.0
  delta: 1.0e-5
method:
  name: dp-sbm
evaluate:
  seeds: 2
"""


def _with(line: str, replacement: str) -> str:
    assert line in PIPELINE
    return PIPELINE.replace(line, replacement)


def test_duplicate_key_is_an_error_naming_key_and_line(write_pipeline):
    text = _with("  delta: 1.0e-5\n", "  delta: 1.0e-5\n  epsilon: 0.5\n")
    with pytest.raises(DPGraphError, match=r"line 11.*duplicate key 'epsilon' \(first at line 9\)"):
        load_config(write_pipeline(text))
    with pytest.raises(DPGraphError, match="duplicate key 'seed'"):
        load_config(write_pipeline(PIPELINE + "seed: 3\n"))


def test_duplicate_key_through_the_cli_is_one_line_and_writes_nothing(write_pipeline, tmp_path: Path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(write_pipeline(PIPELINE + "seed: 3\n")), "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: ") and "duplicate key" in result.output
    assert not out.exists()


@pytest.mark.parametrize(("line", "replacement", "key"), [
    ("  epsilon: 4.0\n", '  epsilon: "4"\n', "privacy.epsilon"),
    ("  epsilon: 4.0\n", "  epsilon: true\n", "privacy.epsilon"),
    ("  delta: 1.0e-5\n", "  delta: yes\n", "privacy.delta"),
    ("  delta: 1.0e-5\n", '  delta: "1e-5"\n', "privacy.delta"),
    ("  seeds: 2\n", '  seeds: "5"\n', "evaluate.seeds"),
    ("  seeds: 2\n", "  seeds: [1, '2']\n", "evaluate.seeds"),
    ("  num_nodes: 300\n", "  num_nodes: 300.0\n", "dataset.num_nodes"),
    ("seed: 0\n", "seed: 1:30\n", "seed"),  # YAML 1.1 would read 90
    ("  split_fractions: [0.6, 0.2, 0.2]\n", '  split_fractions: [0.6, 0.2, "0.2"]\n', "dataset.split_fractions"),
    ("  split: random\n", "  split: random\n  split_seed: -1\n", "dataset.split_seed"),
])
def test_strings_and_booleans_are_not_coerced_into_numbers(line, replacement, key, write_pipeline):
    with pytest.raises(DPGraphError, match=rf"invalid value for '{key}[.0-9]*'") as err:
        load_config(write_pipeline(_with(line, replacement)))
    assert ".int'" not in str(err.value)  # a union's member names are not part of the key


@pytest.mark.parametrize(("text", "expected"), [("1e-5", 1e-5), ("1E5", 1e5), (".5", 0.5), ("-2.5e-3", -2.5e-3),
                                                ("1.0e-5", 1e-5), ("5.", 5.0), ("010", 10), ("0x1f", 31), ("12", 12)])
def test_yaml_1_2_numbers(text, expected):
    value = parse_yaml(text)
    assert value == expected and type(value) is type(expected)


def test_yaml_1_2_floats_reach_the_config(write_pipeline):
    cfg = load_config(write_pipeline(_with("  delta: 1.0e-5\n", "  delta: 1e-5\n")))
    assert cfg.privacy.delta == 1e-5
    cfg = load_config(write_pipeline(PIPELINE), ["privacy.delta=1E-6", "privacy.epsilon=.5"])
    assert (cfg.privacy.delta, cfg.privacy.epsilon) == (1e-6, 0.5)


def test_lists_for_tuples_and_strings_for_paths_still_work(write_pipeline, tmp_path):
    cfg = load_config(write_pipeline(PIPELINE))
    assert cfg.dataset.split_fractions == (0.6, 0.2, 0.2)
    csv = {"name": "csv", "path": str(tmp_path), "num_classes": 3, "split": "random"}
    cfg = load_config(write_pipeline(PIPELINE), [f"dataset={yaml.safe_dump(csv, default_flow_style=True).strip()}"])
    assert cfg.dataset_params.path == tmp_path


@pytest.mark.parametrize(("override", "key"), [("privacy.epsilon='4'", "privacy.epsilon"),
                                               ("privacy.epsilon=true", "privacy.epsilon"),
                                               ("evaluate.seeds='5'", "evaluate.seeds"),
                                               ("evaluate.lr=.inf", "evaluate.lr"),
                                               ("privacy.epsilon=.nan", "privacy.epsilon")])
def test_overrides_are_as_strict_as_the_file(override, key, write_pipeline):
    with pytest.raises(DPGraphError, match=f"invalid value for '{key}'"):
        load_config(write_pipeline(PIPELINE), [override])


def test_empty_override_is_an_error_not_a_null_budget(write_pipeline):
    with pytest.raises(DPGraphError, match="has no value"):
        load_config(write_pipeline(PIPELINE), ["privacy.epsilon="])
    assert load_config(write_pipeline(PIPELINE), ["privacy.epsilon=null", "method.name=real"]).privacy.epsilon is None


@pytest.mark.parametrize("override", ["privacy..epsilon=2", ".seed=1", "privacy.=2"])
def test_override_with_an_empty_key_part_is_an_error(override):
    with pytest.raises(DPGraphError, match="key.path=value"):
        apply_overrides({}, [override])


def test_override_into_an_empty_section_and_duplicate_keys_in_a_value():
    assert apply_overrides({"privacy": None}, ["privacy.epsilon=2"]) == {"privacy": {"epsilon": 2}}
    with pytest.raises(DPGraphError, match="duplicate key 'init'"):
        apply_overrides({}, ["privacy.split={init: 0.5, init: 0.5}"])


def test_split_settings_with_the_public_split_are_an_error_not_ignored(write_pipeline):
    with pytest.raises(DPGraphError, match="split_fractions only apply to split: random"):
        load_config(write_pipeline(PIPELINE), ["dataset.split=public"])
    text = _with("  split_fractions: [0.6, 0.2, 0.2]\n", "").replace("split: random", "split: public")
    resolved = load_config(write_pipeline(text)).to_dict()
    assert "split_fractions" not in resolved["dataset"] and "split_seed" not in resolved["dataset"]
    assert parse_config(resolved).to_dict() == resolved


def test_non_utf8_pipeline_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(PIPELINE.replace("smoke", "sm\xf6ke").encode("latin-1"))
    with pytest.raises(DPGraphError, match="not UTF-8"):
        load_config(path)


def test_yaml_boolean_for_a_string_explains_itself(write_pipeline):
    with pytest.raises(DPGraphError, match="quote the value"):
        load_config(write_pipeline(PIPELINE.replace("name: smoke", "name: no")))


def test_fixed_section_errors_are_reported_before_torch_is_imported(tmp_path):
    """Config mistakes in the fixed sections come back in a fraction of a second: torch is never loaded for them."""
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndataset: {name: cora}\nprivacy: {epsilon: '4'}\nmethod: {name: dp-gcond}\n")
    probe = ("import sys\nfrom dpgraph.cli import main\ntry:\n    main(['run', sys.argv[1]])\nexcept SystemExit as e:\n"
             "    print(e.code, 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", probe, str(bad)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "False"] and "privacy.epsilon" in out.stderr
