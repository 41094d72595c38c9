"""Public metadata comes from declarations or the config, never from the private data (class count, the delta bound)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from dpgraph.cli import main
from dpgraph.data import load_graph_pt
from dpgraph.pipeline import run_pipeline
from dpgraph.pipeline.config import load_config
from dpgraph.pipeline.run import delta_suggestion

METHODS = {  # method settings, and the released rows they imply with 4 declared classes
    "dp-centroid": ({"name": "dp-centroid"}, 4),
    "dp-sbm": ({"name": "dp-sbm", "degree_cap": 3, "feature_clip": 2.0, "num_nodes": 40}, 40),
    "dp-gcond": ({"name": "dp-gcond", "nodes_per_class": 2, "outer_steps": 1, "matching_steps": 1}, 8),
}


def write_graph(folder: Path, with_lonely_node: bool) -> Path:
    """40 nodes of classes 0..2 on a ring, plus (optionally) node 'z', the only node of class 3, a test node."""
    gen = torch.Generator().manual_seed(0)
    rows = []
    for i in range(40):
        label = i % 3
        features = (torch.rand(6, generator=gen) < 0.3).float()
        features[label] = 1.0
        rows.append([f"n{i}", label, *features.tolist(), ("train", "val", "test", "train")[i % 4]])
    edges = [(f"n{i}", f"n{(i + 1) % 40}") for i in range(40)]
    if with_lonely_node:
        rows.append(["z", 3, *([1.0] * 6), "test"])
        edges += [("z", "n0"), ("z", "n5")]
    folder.mkdir(parents=True)
    with open(folder / "nodes.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "label", *[f"x{j}" for j in range(6)], "split"])
        writer.writerows(rows)
    with open(folder / "edges.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source", "target"])
        writer.writerows(edges)
    return folder


@pytest.mark.parametrize("method", sorted(METHODS))
def test_only_node_of_a_class_being_a_test_node_does_not_change_the_release_shape(method, tmp_path, write_pipeline):
    shapes = []
    for with_node in (True, False):
        folder = write_graph(tmp_path / f"graph-{with_node}", with_node)
        config = {
            "name": "meta", "seed": 0,
            "dataset": {"name": "csv", "path": str(folder), "num_classes": 4, "split": "public"},
            "privacy": {"epsilon": 4.0, "delta": 1e-3, "unit": "node"},
            "method": METHODS[method][0],
            "evaluate": {"models": ["mlp"], "seeds": 1, "epochs": 1, "evaluators": ["utility"]},
        }
        result = run_pipeline(load_config(write_pipeline(config, name=f"{with_node}.yaml")),
                              out_dir=tmp_path / f"run-{with_node}", progress=False)
        released = load_graph_pt(result.release_dir / "synthetic" / "graph.pt")
        events = [(e["stage"], sorted(e["event"])) for e in result.privacy["events"]]
        shapes.append((tuple(released.x.shape), events, result.privacy["epsilon"]))
    assert shapes[0] == shapes[1]
    assert shapes[0][0] == (METHODS[method][1], 6)


@pytest.mark.parametrize("num_nodes", [300, 2708, 100_000, 10**7])
def test_delta_refusal_suggests_a_delta_that_would_be_accepted(num_nodes):
    suggestion = delta_suggestion(num_nodes)
    assert suggestion < 1 / num_nodes and suggestion >= 1 / (100 * num_nodes)


def test_delta_refusal_message(tmp_path, smoke_config, write_pipeline):
    smoke_config["privacy"]["delta"] = 0.01
    out = CliRunner().invoke(main, ["run", str(write_pipeline(smoke_config)), "--out", str(tmp_path / "x")])
    assert out.exit_code == 2 and "must be < 1/n" in out.output and "--set privacy.delta=0.0001" in out.output
    assert not (tmp_path / "x").exists()
