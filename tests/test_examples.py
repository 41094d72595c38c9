"""The Python-API examples run, and the one-file method is a complete, correctly accounted mechanism."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import torch
from privacy_reference import closed_form_gaussians_epsilon

from dpgraph.config.sections import PrivacySection
from dpgraph.data.graph import GraphDataset
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.mechanisms import MECHANISMS, ReleaseContext

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def examples():
    """The examples as modules (imported once: importing add_a_method registers its method)."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield {name: importlib.import_module(name) for name in ("run_pipeline", "spend_a_budget", "add_a_method")}
    finally:
        sys.path.remove(str(EXAMPLES))


def test_run_pipeline_from_python(examples, tmp_path):
    metrics = examples["run_pipeline"].main(overrides=("evaluate.epochs=5", "evaluate.seeds=1"), out=tmp_path / "r")
    assert set(metrics["utility"]) == {"gcn", "mlp"} and (tmp_path / "r" / "release" / "privacy.json").is_file()


def test_spend_a_budget_in_your_own_loop(examples):
    result = examples["spend_a_budget"].main(epsilon=2.0, steps=40)
    assert 0.99 * 2.0 <= result["epsilon"] <= 2.0
    assert result["accuracy"] > 0.3  # ten classes: chance is 0.1


def test_a_method_in_one_file_runs_in_a_pipeline(examples, tmp_path):
    assert "dp-label-prior" in MECHANISMS.names()
    privacy = examples["add_a_method"].run_on_smoke_graph(tmp_path / "prior")
    assert [event["stage"] for event in privacy["events"]] == ["counts"] and privacy["release"] is True
    sigma = privacy["events"][0]["event"]["noise_multiplier"]
    assert 0.99 * 4.0 <= closed_form_gaussians_epsilon([sigma], 1e-5) <= privacy["epsilon"] * (1 + 1e-9) <= 4.0
    assert (tmp_path / "prior" / "release" / "synthetic" / "graph.pt").is_file()


def test_the_one_file_method_reads_counts_of_sensitivity_one(examples, monkeypatch):
    """Deleting a labelled training node moves the value handed to the Gaussian mechanism by exactly 1 in one entry
    (its L2 sensitivity); nothing else of the private graph reaches the release."""
    seen = []
    monkeypatch.setattr(ReleaseContext, "gaussian", lambda self, stage, value, sensitivity: seen.append(
        (stage, value.clone(), sensitivity)) or value)
    params = SBMParams(num_nodes=200)
    data = random_split(make_sbm_graph(params), (0.6, 0.2, 0.2), seed=0)
    removed = int(data.train_mask.nonzero()[0])
    mechanism = MECHANISMS.get("dp-label-prior")()
    privacy = PrivacySection(epsilon=1.0, randomness="reproducible")
    for graph in (data, data.subgraph(torch.arange(200) != removed)):
        mechanism.release(GraphDataset("sbm", graph, params.num_classes), mechanism.Params(),
                          ReleaseContext.create(privacy, mechanism, seed=0))
    (_, full, s1), (_, neighbour, s2) = seen
    assert s1 == s2 == 1.0 and torch.linalg.vector_norm(full - neighbour).item() == pytest.approx(1.0)
