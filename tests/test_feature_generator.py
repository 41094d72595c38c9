"""The DP feature generator: each statistic's sensitivity by deleting every row of a table with extreme rows (exact
for merf), the value released is that statistic, the noise scale and the one recorded event, the non-private
ceiling, binary reproducible samples, the Bernoulli expectation of the features, the released count of active
features, recovery of class means on a toy table, and parameter errors."""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch

from dpgraph.config.sections import PrivacySection
from dpgraph.config.validation import validate_section
from dpgraph.errors import DPGraphError
from dpgraph.generative import embedding_statistic
from dpgraph.mechanisms.base import ReleaseContext
from dpgraph.mechanisms.feature_generator import (
    ClassMeanFeatures,
    FeatureGeneratorParams,
    FittedFeatures,
    expected_unit_row_features,
    means_statistic,
    release_feature_generator,
    released_ones,
    statistic_sensitivity,
    unit_row_features,
    unit_row_frequencies,
)
from dpgraph.privacy import GaussianEvent, PrivacyLedger, compute_epsilon, split_targets
from dpgraph.privacy.randomness import GeneratorRandomness
from dpgraph.privacy.spend import Budget

C, F = 3, 30
SMALL = {"num_features": 200, "steps": 20, "batch_size": 50, "hidden": 16, "latent_dim": 4}


def _table(n: int = 100, seed: int = 0, width: int = F) -> tuple[torch.Tensor, torch.Tensor]:
    """Binary rows of very different densities (an all-zero and an all-ones row among them) and labels."""
    gen = torch.Generator().manual_seed(seed)
    density = torch.rand(n, 1, generator=gen).pow(2)
    x = torch.bernoulli(density.expand(n, width), generator=gen)
    x[0], x[1] = 0.0, 1.0
    return x, torch.randint(0, C, (n,), generator=gen)


def _statistic(kind: str, x: torch.Tensor, y: torch.Tensor, params: FeatureGeneratorParams) -> torch.Tensor:
    """What `release_feature_generator` releases at seed 0 (its frequencies are the public generator's first draw)."""
    rows = x.clamp(0.0, 1.0)
    if kind == "means":
        return means_statistic(rows, y, C, params)
    frequencies = unit_row_frequencies(x.size(1), params, torch.Generator().manual_seed(0))
    featurise = partial(unit_row_features, frequencies=frequencies, params=params)
    return embedding_statistic(rows, y, featurise, C, params.count_weight)


@pytest.mark.parametrize(("kind", "settings"), [("means", {"feature_clip": 2.0, "count_weight": 0.5}),
                                                ("means", {"feature_clip": 4.0, "count_weight": 2.0}),
                                                ("merf", {"count_weight": 0.3, "linear_weight": 0.6}),
                                                ("merf", {"count_weight": 1.5, "linear_weight": 0.0})])
def test_every_deletion_and_extreme_addition_moves_the_statistic_by_at_most_the_sensitivity(kind, settings):
    params = FeatureGeneratorParams(kind=kind, **SMALL, **settings)
    x, y = _table()
    full = _statistic(kind, x, y, params)
    keep, moves = torch.ones(len(y), dtype=torch.bool), []
    for i in range(len(y)):
        keep[i] = False
        moves.append(float((full - _statistic(kind, x[keep], y[keep], params)).norm()))
        keep[i] = True
    for extreme in (torch.zeros(1, F), torch.ones(1, F), 7 * torch.ones(1, F), -torch.ones(1, F)):
        for label in range(C):  # additions, clamped to [0, 1] as the release does
            more = _statistic(kind, torch.cat([x, extreme]), torch.cat([y, torch.tensor([label])]), params)
            moves.append(float((more - full).norm()))
    bound = statistic_sensitivity(params)
    clip, w = settings.get("feature_clip"), settings["count_weight"]
    assert bound == pytest.approx((clip if kind == "means" else 1.0) * math.sqrt(1 + w**2))
    assert max(moves) <= bound + 1e-9
    if kind == "merf":
        assert min(moves) >= bound - 1e-9  # every neighbour is a worst case: phi has unit norm exactly
    else:
        assert max(moves) >= bound - 1e-9  # attained by a row of norm >= R


class _Spy:
    """Wraps `context.gaussian` to capture what is released and with which sensitivity."""

    def __init__(self, context: ReleaseContext) -> None:
        self.real, self.calls = context.gaussian, []

    def __call__(self, stage, value, sensitivity):
        noisy = self.real(stage, value, sensitivity)
        self.calls.append((stage, value, sensitivity, noisy))
        return noisy


def _context(epsilon: float | None, seed: int = 0) -> ReleaseContext:
    privacy = PrivacySection(epsilon=epsilon, delta=1e-5, randomness="reproducible")
    budget = None
    if epsilon is not None:
        budget = Budget(PrivacyLedger(delta=1e-5, unit="node", accountant=privacy.accountant),
                        split_targets(epsilon, {"features": 1.0}))
    return ReleaseContext(privacy=privacy, budget=budget, public=torch.Generator().manual_seed(seed),
                          secret=GeneratorRandomness.seeded(seed), device=torch.device("cpu"), progress=False)


@pytest.mark.parametrize("kind", ["means", "merf"])
def test_one_gaussian_release_of_the_statistic_with_the_calibrated_noise(kind, monkeypatch):
    params = FeatureGeneratorParams(kind=kind, **SMALL)
    x, y = _table(300, seed=1, width=2000)
    context = _context(2.0)
    spy = _Spy(context)
    monkeypatch.setattr(context, "gaussian", spy)
    released = release_feature_generator(x, y, C, params, context, "features")
    [(stage, value, sensitivity, noisy)] = spy.calls
    assert stage == "features" and sensitivity == statistic_sensitivity(params)
    assert torch.allclose(value, _statistic(kind, x, y, params), atol=1e-12)  # the statistic the bounds are about
    [(recorded, event)] = context.budget.ledger.events
    assert recorded == "features" and isinstance(event, GaussianEvent)
    assert 0.99 * 2.0 <= compute_epsilon(event, 1e-5, context.privacy.accountant) <= 2.0
    noise = noisy - value
    expected = event.noise_multiplier * sensitivity
    assert float(noise.std()) == pytest.approx(expected, rel=0.04)  # 6,003 (means), 6,612 (merf) draws: std error 0.9%
    assert abs(float(noise.mean())) < 5 * expected / math.sqrt(noise.numel())
    assert isinstance(released, ClassMeanFeatures if kind == "means" else FittedFeatures)


@pytest.mark.parametrize("kind", ["means", "merf"])
def test_non_private_release_adds_no_noise_and_records_nothing(kind, monkeypatch):
    context = _context(None)
    monkeypatch.setattr(context, "gaussian", lambda *args: pytest.fail("no release in a non-private run"))
    x, y = _table()
    params = FeatureGeneratorParams(kind=kind, feature_clip=6.0, **SMALL)
    released = release_feature_generator(x, y, C, params, context, "features")
    assert context.budget is None
    if kind == "means":  # clip 6 >= sqrt(30), every row's norm here: the exact class means
        exact = torch.stack([x[y == c].mean(0) for c in range(C)])
        assert torch.allclose(released.means, exact, atol=1e-6)


@pytest.mark.parametrize("kind", ["means", "merf"])
def test_samples_are_binary_shaped_and_reproducible_from_the_public_generator(kind):
    x, y = _table()
    released = release_feature_generator(x, y, C, FeatureGeneratorParams(kind=kind, **SMALL), _context(4.0),
                                         "features")
    labels = torch.tensor([0, 1, 2, 2, 1, 0, 0])
    first = released.sample(labels, torch.Generator().manual_seed(5))
    assert first.shape == (7, F) and set(first.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(first, released.sample(labels, torch.Generator().manual_seed(5)))
    assert not torch.equal(first, released.sample(labels, torch.Generator().manual_seed(6)))


def test_merf_fit_is_reproducible_from_the_seed():
    x, y = _table()
    params = FeatureGeneratorParams(kind="merf", **SMALL)
    samples = [release_feature_generator(x, y, C, params, _context(None, seed=3), "features")
               .sample(y, torch.Generator().manual_seed(0)) for _ in range(2)]
    assert torch.equal(*samples)


def test_expected_features_match_the_mean_features_of_bernoulli_draws():
    params = FeatureGeneratorParams(num_features=400, lengthscale=1.0, linear_weight=0.5, ones_weight=0.1,
                                    ones_scale=20.0)
    gen = torch.Generator().manual_seed(2)
    p = torch.rand(3, 200, generator=gen).pow(3)  # about 50 expected ones per row, uneven
    w = unit_row_frequencies(200, params, gen).double()
    draws = torch.bernoulli(p.double().repeat_interleave(4000, 0), generator=gen)
    monte_carlo = unit_row_features(draws, w, params).view(3, 4000, -1).mean(1)
    approximation = expected_unit_row_features(p.double(), w, params)
    plug_in = unit_row_features(p.double(), w, params)  # featurising p itself: what the expectation corrects
    error = (approximation - monte_carlo).norm(dim=1)
    assert float(error.max()) < 0.03
    assert float(error.max()) < 0.2 * float((plug_in - monte_carlo).norm(dim=1).min())


def test_released_ones_decode_the_number_of_active_features():
    params = FeatureGeneratorParams(ones_scale=10.0, **SMALL)
    x = torch.zeros(60, F)
    y = torch.arange(60) % C
    for i in range(60):
        x[i, : 4 + 6 * int(y[i])] = 1.0  # class c rows have 4 + 6c ones
    ones = released_ones(_statistic("merf", x, y, params), params, F)
    assert torch.allclose(ones, torch.tensor([4.0, 10.0, 16.0], dtype=torch.float64), atol=1e-6)


def test_non_private_merf_fit_recovers_the_class_means_of_a_toy_table():
    gen = torch.Generator().manual_seed(0)
    means = torch.full((2, F), 0.02)
    means[0, :10], means[1, 10:20] = 0.7, 0.5
    y = torch.arange(400) % 2
    x = torch.bernoulli(means[y], generator=gen)
    params = FeatureGeneratorParams(kind="merf", num_features=200, steps=300, batch_size=100, hidden=32,
                                    latent_dim=4, lr=0.01, ones_scale=8.0)
    released = release_feature_generator(x, y, 2, params, _context(None), "features")
    labels = torch.arange(2).repeat_interleave(2000)
    samples = released.sample(labels, torch.Generator().manual_seed(1))
    fitted = torch.stack([samples[labels == c].mean(0) for c in range(2)])
    real = torch.stack([x[y == c].mean(0) for c in range(2)])
    assert float((fitted - real).abs().max()) < 0.08
    assert float((fitted.sum(1) - real.sum(1)).abs().max()) < 0.3  # the number of active features


@pytest.mark.parametrize("bad", [{"kind": "gan"}, {"linear_weight": 0.9, "ones_weight": 0.2}, {"num_features": 301},
                                 {"count_weight": 0}, {"feature_clip": -1.0}, {"ones_weight": 0}, {"steps": 0},
                                 {"lr": float("nan")}])
def test_bad_parameters_fail_with_a_one_line_error(bad):
    with pytest.raises(DPGraphError, match="features"):
        validate_section(FeatureGeneratorParams, bad, "features")
