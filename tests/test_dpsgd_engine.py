"""DPSGDEngine: noise scale, debug-mode equivalence with SGD, accounting equal to `dpgraph account`, sampling."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from dpgraph.cli import main
from dpgraph.dpsgd import (
    DenseGCN,
    DPSGDEngine,
    PrivateGradientSum,
    UnitSampling,
    root_cross_entropy,
)
from dpgraph.errors import DPGraphError
from dpgraph.graphops import normalized_dense
from dpgraph.privacy import PrivacyLedger, compute_epsilon
from dpgraph.privacy.noise import add_gaussian_noise
from dpgraph.privacy.randomness import GeneratorRandomness
from dpgraph.sampling.dense_batch import DenseSubgraphBatch

CPU = torch.device("cpu")


def full_batch(count: int, size: int, features: int, classes: int, seed: int = 0) -> DenseSubgraphBatch:
    """``count`` random symmetric subgraphs of exactly ``size`` nodes."""
    gen = torch.Generator().manual_seed(seed)
    mask = torch.ones(count, size, dtype=torch.bool)
    upper = (torch.rand(count, size, size, generator=gen) < 0.5).float().triu(1)
    adj = normalized_dense(upper + upper.transpose(1, 2), mask)
    x = torch.randn(count, size, features, generator=gen)
    root = torch.randint(size, (count,), generator=gen)
    return DenseSubgraphBatch(x, adj, mask, root, torch.randint(classes, (count,), generator=gen))


def make_engine(model: torch.nn.Module, lr: float = 1.0, seed: int = 0, clip_norm: float = 1.0,
                noise_multiplier: float = 1.0, private: bool = True, **sampling) -> DPSGDEngine:
    shape = {"num_units": 12, "batch_size": 4, "occurrences": 2} | sampling
    gradient_sum = PrivateGradientSum(root_cross_entropy, UnitSampling(**shape), clip_norm, noise_multiplier,
                                      GeneratorRandomness.seeded(seed), private=private)
    return DPSGDEngine(model, torch.optim.SGD(model.parameters(), lr=lr), gradient_sum)


def select(engine: DPSGDEngine, seed: int) -> torch.Tensor:
    """The positions the engine's first step selects with randomness seeded by ``seed``."""
    return engine.gradient_sum.sampling.select(GeneratorRandomness.seeded(seed), CPU)


def flat(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_noise_function_std_is_sigma_times_clip() -> None:
    noisy = add_gaussian_noise({"a": torch.zeros(200_000), "b": torch.zeros(500, 200)}, 1.7 * 0.8,
                               GeneratorRandomness.seeded(0))
    values = torch.cat([t.flatten() for t in noisy.values()])
    assert values.std().item() == pytest.approx(1.7 * 0.8, rel=0.02)
    assert abs(values.mean().item()) < 0.01


def test_engine_noise_std_matches_event() -> None:
    torch.manual_seed(0)
    model = DenseGCN(128, 128, 4)
    twin = copy.deepcopy(model)
    batch = full_batch(12, 4, 128, 4)
    make_engine(model, clip_norm=0.5, noise_multiplier=2.0).step(batch.tensors())
    make_engine(twin, clip_norm=0.5, noise_multiplier=0.0, private=False).step(batch.tensors())  # same batch, no noise
    noise = (flat(twin) - flat(model)) * 4  # lr 1, divided by B = 4
    assert noise.numel() > 16_000
    assert noise.std().item() == pytest.approx(2.0 * 0.5, rel=0.02)


@pytest.mark.parametrize("settings", [
    {"private": False, "noise_multiplier": 0.0, "clip_norm": math.inf},
    {"noise_multiplier": 1e-12, "clip_norm": 1e4},  # noise std 1e-8; gradient norms are far below C
])
def test_vanishing_noise_and_clipping_is_plain_sgd(settings: dict) -> None:
    torch.manual_seed(0)
    model = DenseGCN(6, 8, 3, dropout=0.0)
    reference = copy.deepcopy(model)
    initial = flat(model)
    batch = full_batch(12, 5, 6, 3)
    make_engine(model, lr=0.3, seed=7, **settings).step(batch.tensors())
    chosen = batch.index(select(make_engine(copy.deepcopy(reference)), seed=7))
    assert len(chosen) == 4
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.3)
    logits = reference(chosen.x, chosen.adj, chosen.mask, chosen.root)
    (F.cross_entropy(logits, chosen.y, reduction="sum") / 4).backward()
    optimizer.step()
    torch.testing.assert_close(flat(model), flat(reference), atol=1e-6, rtol=1e-5)
    assert not torch.allclose(flat(model), initial)


@pytest.mark.parametrize("shape", [
    {"batch_size": 4, "cli": ["--batch-size", "4"]},
    {"batch_size": None, "sample_rate": 0.25, "cli": ["--sample-rate", "0.25"]},
])
def test_event_epsilon_equals_cli_account(shape: dict) -> None:
    shape = dict(shape)
    cli_args = shape.pop("cli")
    engine = make_engine(DenseGCN(3, 4, 2), noise_multiplier=1.3, occurrences=2, **shape)
    batch = full_batch(12, 3, 3, 2)
    for _ in range(3):
        engine.step(batch.tensors())
    ledger = PrivacyLedger(1e-5, "node")
    ledger.record("dpsgd", engine.event())
    result = CliRunner().invoke(main, ["account", "--noise-multiplier", "1.3", "--steps", "3", "--delta", "1e-5",
                                       "--occurrences", "2", "--num-subgraphs", "12", *cli_args, "--json"])
    assert result.exit_code == 0, result.output
    reported = json.loads(result.output)
    assert engine.event().to_dict() == reported["event"]
    assert compute_epsilon(engine.event(), 1e-5) == pytest.approx(reported["epsilon"], rel=1e-12)
    assert ledger.epsilon() == pytest.approx(reported["epsilon"], rel=1e-12)


def test_selection_frequencies() -> None:
    poisson = make_engine(DenseGCN(3, 4, 2), batch_size=None, sample_rate=0.1, num_units=2000)
    counts = torch.zeros(2000)
    for seed in range(50):
        idx = select(poisson, seed)
        assert idx.unique().numel() == idx.numel()
        counts[idx] += 1
    assert counts.mean().item() / 50 == pytest.approx(0.1, abs=0.005)
    fixed = make_engine(DenseGCN(3, 4, 2), batch_size=7, num_units=30)
    for seed in range(20):
        idx = select(fixed, seed)
        assert idx.numel() == 7 and idx.unique().numel() == 7 and 0 <= idx.min() and idx.max() < 30


def test_empty_poisson_batch_is_noise_only() -> None:
    model = DenseGCN(3, 4, 2)
    before = flat(model)
    engine = make_engine(model, batch_size=None, sample_rate=1e-9)
    stats = engine.step(full_batch(12, 3, 3, 2).tensors())
    assert stats["batch_size"] == 0 and math.isnan(stats["mean_norm"])
    assert not torch.allclose(flat(model), before) and engine.steps == 1


def test_validation() -> None:
    model = DenseGCN(3, 4, 2)
    with pytest.raises(DPGraphError, match="noise_multiplier"):
        make_engine(model, noise_multiplier=0.0)
    with pytest.raises(DPGraphError, match="clip_norm"):
        make_engine(model, clip_norm=math.inf)
    with pytest.raises(DPGraphError, match="not both"):
        make_engine(model, batch_size=4, sample_rate=0.5)
    with pytest.raises(DPGraphError, match="nothing to account"):
        make_engine(model).event()
    debug = make_engine(model, noise_multiplier=0.0, private=False)
    with pytest.raises(DPGraphError, match="private=False"):
        debug.event()
    with pytest.raises(ValueError, match="N=12"):
        debug.step(full_batch(5, 3, 3, 2).tensors())
