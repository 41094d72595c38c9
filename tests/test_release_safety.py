"""Release safety: secret randomness by default, the reproducible experiment mode, the publishable release/ folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from dpgraph.cli import main
from dpgraph.data import load_dataset, load_graph_pt
from dpgraph.graphops import normalized_class_sums
from dpgraph.pipeline import run_pipeline
from dpgraph.pipeline.config import load_config
from dpgraph.privacy.randomness import GeneratorRandomness

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
METHODS = {
    "dp-centroid": {"name": "dp-centroid"},
    "dp-sbm": {"name": "dp-sbm", "degree_cap": 5, "feature_clip": 4.0},
    "dp-gcond": {"name": "dp-gcond", "nodes_per_class": 2, "outer_steps": 2, "matching_steps": 2},
    "dp-gnn": {"name": "dp-gnn", "model": "sgc", "steps": 5, "sample_rate": 0.5},
}


def pipeline(method: str = "dp-centroid", **privacy) -> dict:
    """A seconds-long private run on the generated SBM graph (evaluation cut to the bone)."""
    return {
        "name": "safety", "seed": 0,
        "dataset": {"name": "sbm", "split": "random", "split_fractions": [0.6, 0.2, 0.2], "num_nodes": 300},
        "privacy": {"epsilon": 2.0, "delta": 1e-5, "unit": "node", **privacy},
        "method": METHODS[method],
        "evaluate": {"models": ["mlp"], "seeds": 1, "epochs": 2,
                     "evaluators": ["model-accuracy" if method == "dp-gnn" else "utility"]},
    }


def run(config: dict, out: Path, write_pipeline):
    return run_pipeline(load_config(write_pipeline(config, name=f"{out.name}.yaml")), out_dir=out, progress=False)


def released_tensors(run_dir: Path) -> list[torch.Tensor]:
    """The released artefact's numbers: the graph's features, or the model's weights."""
    release = run_dir / "release"
    if (release / "model.pt").is_file():
        return list(torch.load(release / "model.pt").values())
    return [load_graph_pt(release / "synthetic" / "graph.pt").x]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("method", sorted(METHODS))
def test_default_runs_differ_and_reproducible_runs_repeat_bit_for_bit(method, tmp_path, write_pipeline):
    default = [released_tensors(run(pipeline(method), tmp_path / f"d{i}", write_pipeline).out_dir) for i in (0, 1)]
    assert not same(*default)
    seeded = [run(pipeline(method, randomness="reproducible"), tmp_path / f"r{i}", write_pipeline) for i in (0, 1)]
    assert same(*(released_tensors(r.out_dir) for r in seeded))
    assert not same(default[0], released_tensors(seeded[0].out_dir))  # the default ignores the seed
    assert seeded[0].privacy["epsilon"] == pytest.approx(seeded[1].privacy["epsilon"], rel=0)


def _regenerate_class_sums(run_dir: Path, graph) -> tuple[torch.Tensor, torch.Tensor]:
    """The review's attack on dp-centroid: redraw the noise from the published seed and subtract it. Returns the
    attacker's estimate of the class sums where the release was not clamped, and the true sums there."""
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    privacy = json.loads((run_dir / "release" / "privacy.json").read_text())
    sigma = privacy["events"][0]["event"]["noise_multiplier"]
    released = load_graph_pt(run_dir / "release" / "synthetic" / "graph.pt").x.double()
    noise = GeneratorRandomness.seeded(config["seed"]).normal(released.shape, sigma * 1.0)
    d = graph.data
    labelled = d.train_mask & (d.y >= 0)
    exact = normalized_class_sums(d.x[labelled], d.y[labelled], graph.num_classes).double()
    unclamped = released > 0
    return (released - noise)[unclamped], exact[unclamped]


def test_the_seed_regenerates_noise_only_in_the_experiment_mode(tmp_path, write_pipeline):
    graph = None
    recovered = {}
    for mode in ("reproducible", "secret"):
        result = run(pipeline(randomness=mode), tmp_path / mode, write_pipeline)
        if graph is None:
            config = load_config(result.out_dir / "config.yaml")
            graph = load_dataset(config.dataset, config.dataset_params, Path("."))
        estimate, exact = _regenerate_class_sums(result.out_dir, graph)
        recovered[mode] = float((estimate - exact).abs().max())
    assert recovered["reproducible"] < 1e-6  # the attack works when the noise is seeded...
    assert recovered["secret"] > 0.1  # ...and recovers nothing from a default run


def test_experiment_mode_is_stamped_not_a_release(tmp_path, write_pipeline):
    path = write_pipeline(pipeline(randomness="reproducible"))
    out = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "run")])
    assert out.exit_code == 0, out.output
    assert "NOT A RELEASE" in out.output
    privacy = json.loads((tmp_path / "run" / "release" / "privacy.json").read_text())
    assert privacy["randomness"] == "reproducible" and privacy["release"] is False
    assert "regenerates the noise" in privacy["warning"]
    assert "NOT A RELEASE" in (tmp_path / "run" / "report.md").read_text()
    published = yaml.safe_load((tmp_path / "run" / "release" / "config.yaml").read_text())
    assert "seed" not in published and published["privacy"]["randomness"] == "reproducible"
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["seed"] == 0  # the analyst's copy


def test_default_run_is_a_release(tmp_path, write_pipeline):
    path = write_pipeline(pipeline())
    out = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "run")])
    assert out.exit_code == 0 and "NOT A RELEASE" not in out.output
    privacy = json.loads((tmp_path / "run" / "release" / "privacy.json").read_text())
    assert privacy["randomness"] == "secret" and privacy["release"] is True and "warning" not in privacy
    assert "fresh operating-system entropy" in (tmp_path / "run" / "report.md").read_text()


@pytest.mark.parametrize(("method", "artefact"), [("dp-sbm", {"synthetic/graph.pt", "synthetic/nodes.csv",
                                                               "synthetic/edges.csv"}),
                                                  ("dp-gnn", {"model.pt"})])
def test_release_folder_holds_only_what_may_be_published(method, artefact, tmp_path, write_pipeline):
    result = run(pipeline(method), tmp_path / "run", write_pipeline)
    release = result.release_dir
    files = {str(p.relative_to(release)) for p in release.rglob("*") if p.is_file()}
    assert files == artefact | {"config.yaml", "privacy.json"}
    privacy = json.loads((release / "privacy.json").read_text())
    assert set(privacy) <= {"private", "release", "epsilon", "delta", "unit", "accountant", "accounted_with",
                            "events", "stage_epsilons", "stage_accounted_with", "target_epsilon", "method",
                            "randomness", "warning"}
    published = yaml.safe_load((release / "config.yaml").read_text())
    assert published == yaml.safe_load((result.out_dir / "config.yaml").read_text())  # secret noise: seed is harmless
    outside = {p.name for p in result.out_dir.iterdir()}
    assert {"metrics.json", "report.md", "plots"} <= outside
    assert "private analysis" in (result.out_dir / "report.md").read_text()


@pytest.mark.parametrize("path", sorted(PIPELINES.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_private_pipelines_default_to_secret_randomness(path):
    config = load_config(path)
    expected = "secret" if config.privacy.private else "reproducible"
    assert config.privacy.randomness == expected
