"""dp-gcond: the DP gradient oracle (clipping, noise, query budget), its ledger against opacus, refusals."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from click.testing import CliRunner
from opacus.accountants import RDPAccountant
from torch import nn

from dpgraph.cli import main
from dpgraph.condensation.private_oracle import NoisyClassGradients, OncePerModel
from dpgraph.config.load import load_config
from dpgraph.dpsgd.per_sample import per_sample_gradients
from dpgraph.pipeline import run_pipeline


def oracle(sigma: float, q: float = 1.0, clip: float = 0.1, queries: int = 5) -> NoisyClassGradients:
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 6, generator=gen), torch.arange(40) % 3
    return NoisyClassGradients(x, y, 3, clip, sigma, q, queries, torch.Generator().manual_seed(1))


def test_answers_are_per_class_sums_of_clipped_gradients():
    o = oracle(sigma=1e-9)
    model = nn.Linear(6, 3)
    answer = o.class_gradients(model, [0, 1, 2])
    grads = list(per_sample_gradients(model, (o.x,), o.y).values())
    for c in range(3):
        rows = o.y == c
        norms = torch.sqrt(sum(g[rows].flatten(1).pow(2).sum(1) for g in grads))
        assert bool((norms > o.clip_norm).all())  # every read really is clipped here
        scale = (o.clip_norm / norms).view(-1, 1, 1)
        assert torch.allclose(answer[c][0], (grads[0][rows] * scale).sum(0), atol=1e-6)


def test_answers_carry_noise_of_std_sigma_c_and_the_budget_is_enforced():
    o = oracle(sigma=3.0, q=1e-6, queries=2)  # (almost) nobody sampled: the answer is the noise alone
    answer = o.class_gradients(nn.Linear(600, 50), [0, 1, 2])
    noise = torch.cat([answer[c][0].flatten() for c in range(3)])
    assert noise.std().item() == pytest.approx(3.0 * 0.1, rel=0.03)
    o.class_gradients(nn.Linear(6, 3), [0])
    with pytest.raises(RuntimeError, match="2 queries"):
        o.class_gradients(nn.Linear(6, 3), [0])


def test_once_per_model_asks_again_for_a_new_or_trained_model():
    cached = OncePerModel(oracle(sigma=1.0, queries=10))
    model = nn.Linear(6, 3)
    first = cached.class_gradients(model, [0, 1])
    assert cached.class_gradients(model, [0, 1]) is first and cached.queries == 1
    with torch.no_grad():
        model.weight.add_(1.0)
    cached.class_gradients(model, [0, 1])
    cached.class_gradients(nn.Linear(6, 3), [0, 1])
    assert cached.queries == 3


def gcond_config(tmp_path, **method) -> str:
    config = {
        "name": "gcond", "seed": 0,
        "dataset": {"name": "sbm", "split": "random", "num_nodes": 300},
        "privacy": {"epsilon": 4.0, "delta": 1e-5, "unit": "node"},
        "method": {"name": "dp-gcond", "nodes_per_class": 3, "outer_steps": 8, "matching_steps": 3,
                   "lr_features": 0.05} | method,
        "evaluate": {"models": ["gcn"], "seeds": 1, "epochs": 20, "fidelity": False},
    }
    path = tmp_path / "gcond.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_private_run_ledger_equals_opacus_and_release_shape(tmp_path):
    result = run_pipeline(load_config(gcond_config(tmp_path)), out_dir=tmp_path / "run", progress=False)
    event = result.privacy["events"][0]["event"]
    assert event["count"] == 8  # one query per outer step: the model is not trained between matching steps
    opacus = RDPAccountant()
    opacus.history = [(event["event"]["event"]["noise_multiplier"], event["event"]["sampling_probability"], 8)]
    assert result.privacy["epsilon"] == pytest.approx(opacus.get_epsilon(1e-5), rel=1e-6)
    released = torch.load(tmp_path / "run" / "synthetic" / "graph.pt", weights_only=False)
    num_classes = int(released.y.max()) + 1
    assert released.num_nodes == 3 * num_classes and torch.equal(torch.bincount(released.y), torch.full(
        (num_classes,), 3)) and released.edge_index.numel() == 0
    recorded = json.loads((tmp_path / "run" / "privacy.json").read_text())
    assert recorded["epsilon"] <= 4.0


@pytest.mark.parametrize(("setting", "message"), [({"init": "real-sample"}, "init: random"),
                                                  ({"adjacency": "mlp"}, "adjacency: identity")])
def test_private_runs_refuse_non_private_options(tmp_path, setting, message):
    out = CliRunner().invoke(main, ["run", gcond_config(tmp_path, **setting), "--out", str(tmp_path / "x")])
    assert out.exit_code == 2 and message in out.output and not (tmp_path / "x").exists()
