"""dp-gcond: the DP gradient oracle (clipping, noise, query budget), its ledger against opacus, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner
from opacus.accountants import RDPAccountant
from privacy_reference import closed_form_gaussians_epsilon
from torch import nn

from dpgraph.cli import main
from dpgraph.condensation.private_oracle import NoisyClassGradients, OncePerModel
from dpgraph.dpsgd import (
    PrivateGradientSum,
    UnitSampling,
    clipped_gradient_sum,
    gradient_sum,
    per_unit_gradients,
    row_cross_entropy,
)
from dpgraph.errors import DPGraphError
from dpgraph.mechanisms import base
from dpgraph.pipeline import run_pipeline
from dpgraph.pipeline.config import load_config
from dpgraph.privacy import PrivacyLedger
from dpgraph.privacy.noise import add_gaussian_noise, gaussian_release
from dpgraph.privacy.randomness import GeneratorRandomness


def oracle(sigma: float, q: float = 1.0, clip: float = 0.1, queries: int = 5) -> NoisyClassGradients:
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 6, generator=gen), torch.arange(40) % 3
    gradient_sum = PrivateGradientSum(row_cross_entropy, UnitSampling(40, sample_rate=q), clip, sigma,
                                      GeneratorRandomness.seeded(1), max_calls=queries)
    return NoisyClassGradients(x, y, 3, gradient_sum)


def test_answers_are_per_class_sums_of_clipped_gradients():
    o = oracle(sigma=1e-9)
    model = nn.Linear(6, 3)
    answer = o.class_gradients(model, [0, 1, 2])
    grads = list(per_unit_gradients(model, row_cross_entropy, (o.x, o.y)).values())
    clip = o.gradient_sum.clip_norm
    for c in range(3):
        rows = o.y == c
        norms = torch.sqrt(sum(g[rows].flatten(1).pow(2).sum(1) for g in grads))
        assert bool((norms > clip).all())  # every read really is clipped here
        scale = (clip / norms).view(-1, 1, 1)
        assert torch.allclose(answer[c][0], (grads[0][rows] * scale).sum(0), atol=1e-6)


def test_answers_carry_noise_of_std_sigma_c_and_the_budget_is_enforced():
    o = oracle(sigma=3.0, q=1e-6, queries=2)  # (almost) nobody sampled: the answer is the noise alone
    answer = o.class_gradients(nn.Linear(600, 50), [0, 1, 2])
    noise = torch.cat([answer[c][0].flatten() for c in range(3)])
    assert noise.std().item() == pytest.approx(3.0 * 0.1, rel=0.03)
    o.class_gradients(nn.Linear(6, 3), [0])
    with pytest.raises(DPGraphError, match="calibrated for 2 noisy sums"):
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
        "evaluate": {"models": ["gcn"], "seeds": 1, "epochs": 20, "evaluators": ["utility"]},
    }
    path = tmp_path / "gcond.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_private_run_ledger_equals_opacus_and_release_shape(tmp_path):
    result = run_pipeline(load_config(gcond_config(tmp_path)), out_dir=tmp_path / "run", progress=False)
    (init_stage, init), (match_stage, match) = [(e["stage"], e["event"]) for e in result.privacy["events"]]
    assert (init_stage, match_stage) == ("init", "match") and init["type"] == "gaussian"
    assert match["count"] == 8  # one query per outer step: the model is not trained between matching steps
    match_sigma, q = match["event"]["event"]["noise_multiplier"], match["event"]["sampling_probability"]
    assert q == 1.0  # every unit answers every query: nine plain Gaussians, accounted exactly
    reference = closed_form_gaussians_epsilon([init["noise_multiplier"], *[match_sigma] * 8], 1e-5)
    recorded = json.loads((tmp_path / "run" / "release" / "privacy.json").read_text())
    assert recorded["accounted_with"] == "analytic-gaussian"
    assert reference <= recorded["epsilon"] == pytest.approx(reference, rel=1e-9)
    assert PrivacyLedger.from_dict(recorded).epsilon() == pytest.approx(recorded["epsilon"])
    opacus = RDPAccountant()  # the RDP fallback, recomputed by opacus from the same events
    opacus.history = [(init["noise_multiplier"], 1.0, 1), (match_sigma, q, 8)]
    assert PrivacyLedger.from_dict(recorded | {"accountant": "rdp"}).epsilon() == \
        pytest.approx(opacus.get_epsilon(1e-5), rel=1e-6)
    ledger = tmp_path / "run" / "release" / "privacy.json"
    cli = CliRunner().invoke(main, ["account", "--ledger", str(ledger), "--json"])
    assert json.loads(cli.output)["epsilon"] == pytest.approx(reference, rel=1e-6)
    assert 0.99 * 4.0 <= recorded["epsilon"] <= 4.0
    released = torch.load(tmp_path / "run" / "release" / "synthetic" / "graph.pt", weights_only=False)
    num_classes = int(released.y.max()) + 1
    assert released.num_nodes == 3 * num_classes and torch.equal(torch.bincount(released.y), torch.full(
        (num_classes,), 3)) and released.edge_index.numel() == 0


def test_random_init_spends_the_whole_budget_on_matching(tmp_path):
    result = run_pipeline(load_config(gcond_config(tmp_path, init="random")), out_dir=tmp_path / "run",
                          progress=False)
    assert [e["stage"] for e in result.privacy["events"]] == ["match"]
    assert 0.99 * 4.0 <= result.privacy["epsilon"] <= 4.0


def test_every_private_read_is_clipped_and_noised(tmp_path, monkeypatch):
    """Spies on the engine's primitives: each real-gradient read is clipped to C and noised with std sigma C, and
    the class sums behind the initialisation leave only through the Gaussian mechanism (sensitivity 1)."""
    reads, noised, releases = [], [], []

    def spy_clipped_sum(model, unit_loss, batch, clip_norm, *, groups, num_groups, method):
        summed, norms = clipped_gradient_sum(model, unit_loss, batch, clip_norm, groups=groups,
                                             num_groups=num_groups, method=method)
        reference = per_unit_gradients(model, unit_loss, batch)  # independent: materialised, clipped by hand
        scale = (clip_norm / torch.stack([g.flatten(1).pow(2).sum(1) for g in reference.values()]).sum(0).sqrt())
        scale = scale.clamp(max=1.0)
        for name, g in reference.items():
            expected = torch.zeros_like(summed[name]).index_add_(0, groups, g * scale.view(-1, *[1] * (g.dim() - 1)))
            torch.testing.assert_close(summed[name], expected, rtol=1e-4, atol=1e-6)
        reads.append(clip_norm)
        return summed, norms

    def spy_noise(summed, std, randomness):
        noised.append(std)
        return add_gaussian_noise(summed, std, randomness)

    def spy_release(value, sensitivity, spend, randomness):
        releases.append((value.clone(), sensitivity))
        return gaussian_release(value, sensitivity, spend, randomness)

    monkeypatch.setattr(gradient_sum, "clipped_gradient_sum", spy_clipped_sum)
    monkeypatch.setattr(gradient_sum, "add_gaussian_noise", spy_noise)
    monkeypatch.setattr(base, "gaussian_release", spy_release)
    config = load_config(gcond_config(tmp_path, sample_rate=1.0, clip_norm=0.5))
    result = run_pipeline(config, out_dir=tmp_path / "run", progress=False)
    match = result.privacy["events"][1]["event"]
    assert reads == [0.5] * 8 and len(noised) == match["count"] == 8
    assert noised == [pytest.approx(0.5 * match["event"]["event"]["noise_multiplier"])] * 8
    assert len(releases) == 1 and releases[0][1] == 1.0 and releases[0][0].shape[0] == 3


@pytest.mark.parametrize(("setting", "message"), [({"init": "real-sample"}, "init: class-means"),
                                                  ({"adjacency": "mlp"}, "adjacency: identity")])
def test_private_runs_refuse_non_private_options(tmp_path, setting, message):
    out = CliRunner().invoke(main, ["run", gcond_config(tmp_path, **setting), "--out", str(tmp_path / "x")])
    assert out.exit_code == 2 and message in out.output and not (tmp_path / "x").exists()


@pytest.mark.parametrize("init", ["class-means", "real-sample"])
def test_non_private_mode_condenses_a_learnable_graph(tmp_path, init):
    """epsilon: null is plain GCond (exact gradients on the propagated real graph): a GCN trained on 9 synthetic
    nodes alone classifies the SBM's real test nodes."""
    path = gcond_config(tmp_path, init=init, outer_steps=15, matching_steps=5, model_steps=2, lr_features=0.01)
    config = yaml.safe_load(open(path))
    config["privacy"] = {"epsilon": None}
    config["evaluate"] |= {"seeds": 2, "epochs": 100}
    Path(path).write_text(yaml.safe_dump(config))
    result = run_pipeline(load_config(path), out_dir=tmp_path / "run", progress=False)
    assert result.privacy["private"] is False and result.privacy["events"] == []
    assert result.metrics["utility"]["gcn"]["test_acc_mean"] >= 0.75


def test_ratio_sizes_the_condensed_graph_from_the_public_split(tmp_path):
    config = yaml.safe_load(open(gcond_config(tmp_path)))
    del config["method"]["nodes_per_class"]
    config["method"]["ratio"] = 0.04  # 225 training nodes (75% of 300) * 0.04 / 3 classes = 3 per class
    (tmp_path / "ratio.yaml").write_text(yaml.safe_dump(config))
    run_pipeline(load_config(str(tmp_path / "ratio.yaml")), out_dir=tmp_path / "run", progress=False)
    released = torch.load(tmp_path / "run" / "release" / "synthetic" / "graph.pt", weights_only=False)
    assert torch.bincount(released.y).tolist() == [3, 3, 3]
    out = CliRunner().invoke(main, ["run", gcond_config(tmp_path, ratio=0.5), "--out", str(tmp_path / "x")])
    assert out.exit_code == 2 and "nodes_per_class or ratio, not both" in out.output and not (tmp_path / "x").exists()


def test_ego_subgraph_units_record_the_k_occurrence_event(tmp_path):
    """hops: 1 on the SBM (max degree 13 < the promise 20): one unit per labelled training node's ego subgraph,
    K = 1 + 20; the recorded event is the one `dpgraph account --occurrences K --num-subgraphs N` accounts."""
    sampler = {"kind": "ego", "hops": 1, "fanout": 3, "max_degree": 20}
    path = gcond_config(tmp_path, init="random", sampler=sampler, sample_rate=0.2)
    result = run_pipeline(load_config(path), out_dir=tmp_path / "run", progress=False)
    (event,) = [e["event"] for e in result.privacy["events"]]
    step = event["event"]
    assert event["count"] == 8 and step["occurrences"] == 21 and step["num_subgraphs"] == 225
    cli = CliRunner().invoke(main, ["account", "--noise-multiplier", repr(step["noise_multiplier"]), "--sample-rate",
                                    "0.2", "--steps", "8", "--occurrences", "21", "--num-subgraphs", "225",
                                    "--delta", "1e-5", "--json"])
    assert json.loads(cli.output)["epsilon"] == pytest.approx(result.privacy["epsilon"], rel=1e-9)
    assert 0.99 * 4.0 <= result.privacy["epsilon"] <= 4.0


def test_private_runs_refuse_a_sampler_that_is_not_node_stable(tmp_path):
    path = gcond_config(tmp_path, sampler={"kind": "random-walk"})
    out = CliRunner().invoke(main, ["run", path, "--out", str(tmp_path / "x")])
    assert out.exit_code == 2 and "not node-stable" in out.output and not (tmp_path / "x").exists()
