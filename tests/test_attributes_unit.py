"""The attributes unit (one node's features and label replaced; the edges public): dp-gcond's structure-aware units
checked by replacing every node's attributes on graphs with hubs, the replace-one class-sum sensitivity, the ledger
against closed forms and `dpgraph account`, `dpgraph sample --stats`, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner
from hub_graphs import HUB_GRAPHS
from privacy_reference import closed_form_gaussians_epsilon
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from dpgraph.cli import main
from dpgraph.data.graph import GraphDataset
from dpgraph.graphops import normalized_class_sums
from dpgraph.mechanisms import ReleaseContext
from dpgraph.mechanisms.dp_gcond import DPGCond, DPGCondParams
from dpgraph.pipeline import run_pipeline
from dpgraph.pipeline.config import load_config
from dpgraph.privacy.randomness import GeneratorRandomness
from dpgraph.privacy.units import sum_sensitivity

NUM_CLASSES, NUM_FEATURES = 3, 6
SAMPLERS = (
    {"kind": "random-walk", "occurrence_bound": 3, "max_size": 8, "walk_length": 4},
    {"kind": "ego", "hops": 1, "fanout": 4},  # no degree promise: K is the observed maximum
    {"kind": "ego", "hops": 0},
)


def hub_dataset(edge_index: torch.Tensor) -> GraphDataset:
    """The hub graph with signed random features and labels; every node a labelled training node."""
    n = int(edge_index.max()) + 1
    gen = torch.Generator().manual_seed(n)
    x = torch.randn(n, NUM_FEATURES, generator=gen)
    y = torch.randint(NUM_CLASSES, (n,), generator=gen)
    every = torch.ones(n, dtype=torch.bool)
    data = Data(x=x, edge_index=to_undirected(edge_index), y=y, train_mask=every, val_mask=~every, test_mask=~every,
                num_nodes=n)
    return GraphDataset(name="hubs", data=data, num_classes=NUM_CLASSES)


def replaced(graph: GraphDataset, v: int) -> GraphDataset:
    """``graph`` with node v's features negated and its label moved to the next class; the edges untouched."""
    data = graph.data.clone()
    data.x[v] = -data.x[v]
    data.y[v] = (data.y[v] + 1) % NUM_CLASSES
    return GraphDataset(name="hubs", data=data, num_classes=NUM_CLASSES)


def units(graph: GraphDataset, sampler: dict) -> tuple[torch.Tensor, torch.Tensor, int | None, torch.Tensor]:
    """dp-gcond's oracle units (rows, root labels, accounting K) and the subgraphs they come from, under one key."""
    params = DPGCondParams(sampler=sampler)
    rows, y, occurrences = DPGCond._private_units(graph, params, GeneratorRandomness.seeded(3), "attributes")
    subgraphs = params.sampler.build(graph.data.edge_index, graph.num_nodes, torch.arange(graph.num_nodes),
                                     GeneratorRandomness.seeded(3), "attributes")
    return rows, y, occurrences, subgraphs.nodes


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: f"{s['kind']}-{s.get('hops', '')}")
@pytest.mark.parametrize("make", HUB_GRAPHS)
def test_replacing_any_node_modifies_at_most_k_units_each_by_at_most_two(make, sampler):
    graph = hub_dataset(make())
    rows, y, occurrences, nodes = units(graph, sampler)
    assert occurrences is not None and occurrences >= 1  # replace-one: the K-occurrence step, K = 1 for one-node rows
    worst = 0
    for v in range(graph.num_nodes):
        rows_v, y_v, occurrences_v, nodes_v = units(replaced(graph, v), sampler)
        assert torch.equal(nodes_v, nodes) and occurrences_v == occurrences  # the sampler reads public edges only
        changed = ((rows_v - rows).norm(dim=1) > 1e-9) | (y_v != y)
        holds_v = (nodes == v).any(1)
        assert not bool((changed & ~holds_v).any())  # only the units that contain v move
        assert int(changed.sum()) <= occurrences
        assert float((rows_v - rows).norm(dim=1).max()) <= 2.0 + 1e-5  # float32 unit rows: ||a - b|| <= 2
        worst = max(worst, int(changed.sum()))
    assert worst >= 1 and (sampler["kind"] == "ego" or worst == occurrences)  # the walk cap is reached at the hubs


@pytest.mark.parametrize("make", HUB_GRAPHS)
def test_class_sums_move_by_at_most_two_under_replace_one_and_two_is_attained(make):
    graph = hub_dataset(make())
    d = graph.data
    sums = normalized_class_sums(d.x, d.y, NUM_CLASSES)
    worst = 0.0
    for v in range(graph.num_nodes):
        for swap_label in (False, True):
            other = replaced(graph, v).data
            if not swap_label:
                other.y[v] = d.y[v]  # x_v -> -x_v in its own class: the change 2 ||x_v / |x_v| || = 2
            worst = max(worst, float((normalized_class_sums(other.x, other.y, NUM_CLASSES) - sums).norm()))
    assert worst == pytest.approx(sum_sensitivity("attributes", 1.0)) == pytest.approx(2.0)
    assert sum_sensitivity("node", 1.0) == 1.0 and sum_sensitivity("edge", 0.5) == 0.5


def sbm_config(tmp_path: Path, name: str = "gcond", unit: str = "attributes", **method) -> Path:
    config = {
        "name": "attributes", "seed": 0,
        "dataset": {"name": "sbm", "split": "random", "num_nodes": 300},
        "privacy": {"epsilon": 4.0, "delta": 1e-5, "unit": unit},
        "method": {"name": name} | method,
        "evaluate": ({"evaluators": ["model-accuracy"]} if name == "dp-gnn" else
                     {"models": ["gcn"], "seeds": 1, "epochs": 20, "evaluators": ["utility"]}),
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_dp_gcond_one_node_units_are_accounted_replace_one(tmp_path, monkeypatch):
    """hops 0, q = 1: the match step is the K-occurrence step with K = 1 (sensitivity 2C, i.e. a Gaussian of
    multiplier sigma / 2), and the init class sums are released at sensitivity 2."""
    sensitivities = []
    release = ReleaseContext.gaussian

    def spy(self, stage, value, sensitivity):
        sensitivities.append((stage, sensitivity))
        return release(self, stage, value, sensitivity)

    monkeypatch.setattr(ReleaseContext, "gaussian", spy)
    path = sbm_config(tmp_path, "dp-gcond", nodes_per_class=3, outer_steps=8, matching_steps=3, lr_features=0.05)
    result = run_pipeline(load_config(path), out_dir=tmp_path / "run", progress=False)
    assert sensitivities == [("init", 2.0)]
    (_, init), (_, match) = [(e["stage"], e["event"]) for e in result.privacy["events"]]
    step = match["event"]
    assert result.privacy["unit"] == "attributes" and match["count"] == 8
    assert step["type"] == "subgraph_sampled_gaussian" and step["occurrences"] == 1
    assert step["sampling_probability"] == 1.0
    exact = closed_form_gaussians_epsilon([init["noise_multiplier"], *[step["noise_multiplier"] / 2] * 8], 1e-5)
    assert exact <= result.privacy["epsilon"] <= 4.0  # an upper bound on the exact composition, within the target
    assert result.privacy["epsilon"] <= 1.05 * exact  # and a tight one: q = 1 makes every step a plain Gaussian


@pytest.mark.parametrize("name, extra", [("dp-gcond", {"nodes_per_class": 3, "outer_steps": 4, "matching_steps": 2,
                                                       "init": "random", "sample_rate": 0.3}),
                                         ("dp-gnn", {"model": "sgc", "sample_rate": 0.3, "steps": 20})])
def test_random_walk_units_under_attributes_record_the_observed_k(tmp_path, name, extra):
    sampler = {"kind": "random-walk", "occurrence_bound": 4, "max_size": 8}
    refused = CliRunner().invoke(main, ["run", str(sbm_config(tmp_path, name, "node", sampler=sampler, **extra)),
                                        "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "privacy.unit: attributes" in refused.output and not (tmp_path / "x").exists()
    path = sbm_config(tmp_path, name, sampler=sampler, **extra)
    result = run_pipeline(load_config(path), out_dir=tmp_path / "run", progress=False)
    (event,) = [e["event"] for e in result.privacy["events"]]
    step = event["event"]
    stats = json.loads(CliRunner().invoke(main, ["sample", str(path), "--stats"]).output)
    assert stats["privacy_unit"] == "attributes" and stats["bound_holds_under_unit"] is True
    assert step["occurrences"] == stats["occurrence_bound"] == stats["max_occurrence"] <= 4
    assert step["num_subgraphs"] == stats["num_subgraphs"]
    cli = CliRunner().invoke(main, ["account", "--noise-multiplier", repr(step["noise_multiplier"]), "--sample-rate",
                                    "0.3", "--steps", str(event["count"]), "--occurrences", str(step["occurrences"]),
                                    "--num-subgraphs", str(step["num_subgraphs"]), "--delta", "1e-5", "--json"])
    assert json.loads(cli.output)["epsilon"] == pytest.approx(result.privacy["epsilon"], rel=1e-9)


def test_sample_stats_say_when_the_bound_does_not_hold(tmp_path):
    path = sbm_config(tmp_path, "dp-gnn", "node", sampler={"kind": "random-walk", "occurrence_bound": 3})
    stats = json.loads(CliRunner().invoke(main, ["sample", str(path), "--stats", "--set",
                                                 "privacy.epsilon=null"]).output)
    assert stats["privacy_unit"] == "node" and stats["bound_holds_under_unit"] is False


@pytest.mark.parametrize("name", ["dp-sbm", "dp-graph-generator", "edge-bter"])
def test_mechanisms_without_the_unit_refuse_it(tmp_path, name):
    out = CliRunner().invoke(main, ["run", str(sbm_config(tmp_path, name)), "--out", str(tmp_path / "x")])
    assert out.exit_code == 2 and "not 'attributes'" in out.output and not (tmp_path / "x").exists()
    assert "Traceback" not in out.output
