"""dp-merf: unit-norm features, the statistic's sensitivity by deletion, the noise and epsilon of its one release,
the non-private ceiling, config errors and an end-to-end run on the 8x8 digits."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

import dpgraph.images.mechanisms.dp_merf as dp_merf
from dpgraph.config.sections import DatasetSection, PrivacySection
from dpgraph.data.spec import NoParams, load_dataset
from dpgraph.errors import DPGraphError
from dpgraph.generative import embedding_sensitivity, embedding_statistic, fourier_frequencies
from dpgraph.images.dataset import ImageDataset
from dpgraph.mechanisms.base import ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.pipeline.catalogue import DATASETS  # noqa: F401  (registers the datasets and mechanisms)
from dpgraph.pipeline.config import parse_config
from dpgraph.privacy import GaussianEvent, compute_epsilon

TINY = {"num_features": 400, "steps": 3, "batch_size": 20, "samples_per_class": 4, "width": 8, "latent_dim": 8}


@pytest.fixture(scope="module")
def digits() -> ImageDataset:
    return load_dataset(DatasetSection(name="digits"), NoParams(), Path("."))


def _frequencies(num_features: int = 400, seed: int = 0) -> torch.Tensor:
    return fourier_frequencies(64, num_features, 0.5, torch.Generator().manual_seed(seed))


def test_features_have_unit_norm_for_any_image():
    gen = torch.Generator().manual_seed(0)
    images = torch.cat([torch.zeros(1, 1, 8, 8), torch.ones(1, 1, 8, 8), torch.rand(50, 1, 8, 8, generator=gen),
                        1e3 * torch.randn(5, 1, 8, 8, generator=gen)]).double()
    norms = dp_merf.image_features(_frequencies().double())(images).norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-12)


@pytest.mark.parametrize("count_weight", [0.25, 1.0, 3.0])
def test_deleting_or_adding_any_image_moves_the_statistic_by_exactly_the_sensitivity(digits, count_weight):
    images, labels, w = digits.train_images[:150], digits.train_labels[:150], dp_merf.image_features(_frequencies())
    full = embedding_statistic(images, labels, w, 10, count_weight)
    keep = torch.ones(150, dtype=torch.bool)
    moves = []
    for i in range(150):  # every deletion, each recomputed from the remaining images
        keep[i] = False
        moves.append(float((full - embedding_statistic(images[keep], labels[keep], w, 10, count_weight)).norm()))
        keep[i] = True
    extremes = torch.stack([torch.zeros(1, 8, 8), torch.ones(1, 8, 8), torch.rand(1, 8, 8)])
    for image in extremes:  # additions of extreme images, with any label
        more = embedding_statistic(torch.cat([images, image[None]]), torch.cat([labels, labels[:1]]), w, 10,
                                   count_weight)
        moves.append(float((more - full).norm()))
    bound = embedding_sensitivity(count_weight)
    assert bound == pytest.approx(math.sqrt(1 + count_weight**2))
    assert max(moves) <= bound + 1e-9 and min(moves) >= bound - 1e-9  # every neighbour is a worst case


def _run(dataset: ImageDataset, epsilon: float | None, monkeypatch, **params):
    """Run dp-merf, capturing what the generator is fitted to (the released statistic's post-processed form)."""
    captured = {}
    real_fit = dp_merf.fit_generator

    def fit(generator, target, weights, frequencies, params, context):
        captured.update(target=target, weights=weights, frequencies=frequencies)
        real_fit(generator, target, weights, frequencies, params, context)

    monkeypatch.setattr(dp_merf, "fit_generator", fit)
    mechanism = MECHANISMS.get("dp-merf")()
    privacy = PrivacySection(epsilon=epsilon, delta=1e-5, randomness="reproducible")
    context = ReleaseContext.create(privacy, mechanism, seed=0, progress=False)
    release = mechanism.release(dataset, mechanism.Params(**{**TINY, **params}), context)
    return release, context, captured


def _exact(dataset: ImageDataset, captured: dict, count_weight: float) -> torch.Tensor:
    features = dp_merf.image_features(captured["frequencies"])
    return embedding_statistic(dataset.train_images, dataset.train_labels, features, 10, count_weight)


def test_one_gaussian_release_with_the_calibrated_noise_and_epsilon(digits, monkeypatch):
    release, context, captured = _run(digits, 2.0, monkeypatch, num_features=4000, count_weight=0.5)
    [(stage, event)] = context.budget.ledger.events
    assert stage == "embedding" and isinstance(event, GaussianEvent)
    sigma = event.noise_multiplier
    assert 0.99 * 2.0 <= context.budget.ledger.epsilon() <= 2.0
    assert 0.99 * 2.0 <= compute_epsilon(GaussianEvent(sigma), 1e-5, context.privacy.accountant) <= 2.0
    noise = captured["target"].double() * digits.size - _exact(digits, captured, 0.5)[:, :-1]
    expected = sigma * math.sqrt(1 + 0.5**2)
    assert float(noise.std()) == pytest.approx(expected, rel=0.03)  # 40,000 draws: std error about 0.4%
    assert abs(float(noise.mean())) < 5 * expected / 200
    assert release.images.shape == (40, 1, 8, 8)
    assert torch.equal(release.labels, torch.arange(10).repeat_interleave(4))


def test_non_private_run_fits_the_exact_statistic_and_records_nothing(digits, monkeypatch):
    _, context, captured = _run(digits, None, monkeypatch, count_weight=2.0)
    assert context.budget is None and not context.private
    exact = _exact(digits, captured, 2.0)
    assert torch.allclose(captured["target"].double(), (exact[:, :-1] / digits.size), atol=1e-6)
    assert torch.equal(captured["weights"], torch.bincount(digits.train_labels, minlength=10).float())


def test_release_reads_no_held_out_image(digits, monkeypatch):
    first, _, _ = _run(digits, 1.0, monkeypatch)
    altered = ImageDataset(name="digits", train_images=digits.train_images, train_labels=digits.train_labels,
                           test_images=1 - digits.test_images, test_labels=(digits.test_labels + 1) % 10,
                           val_images=digits.val_images, val_labels=digits.val_labels, num_classes=10)
    second, _, _ = _run(altered, 1.0, monkeypatch)
    assert torch.equal(first.images, second.images)


@pytest.mark.parametrize("bad", [{"num_features": 301}, {"num_features": 0}, {"lengthscale": 0},
                                 {"count_weight": -1}, {"batch_size": 1}, {"lr": float("nan")}, {"steps": 0}])
def test_bad_parameters_fail_when_the_config_is_read(bad):
    with pytest.raises(DPGraphError):
        parse_config({"name": "bad", "modality": "image", "dataset": {"name": "digits"},
                      "privacy": {"epsilon": 1.0, "delta": 1e-5, "unit": "example"},
                      "method": {"name": "dp-merf", **bad}})


def test_pipeline_on_digits_releases_only_the_generator_and_its_samples(tmp_path):
    from dpgraph.pipeline import run_pipeline

    config = parse_config({"name": "merf", "modality": "image", "seed": 0, "dataset": {"name": "digits"},
                           "privacy": {"epsilon": 4.0, "delta": 1e-5, "unit": "example"},
                           "method": {"name": "dp-merf", **TINY},
                           "evaluate": {"evaluators": ["image-utility"], "models": ["logreg"], "seeds": 1,
                                        "epochs": 2}})
    result = run_pipeline(config, out_dir=tmp_path / "run", progress=False)
    release = result.out_dir / "release"
    assert sorted(p.name for p in release.iterdir()) == ["config.yaml", "generator.pt", "privacy.json", "samples.pt"]
    samples = torch.load(release / "samples.pt")
    assert samples["images"].shape == (40, 1, 8, 8) and samples["labels"].shape == (40,)
    real = load_dataset(DatasetSection(name="digits"), NoParams(), Path("."))
    pool = torch.cat([real.train_images, real.test_images]).flatten(1)
    assert torch.cdist(samples["images"].flatten(1), pool).min() > 1e-3  # no real image is copied into the release
    assert 0.99 * 4.0 <= result.privacy["epsilon"] <= 4.0
    assert 0.0 <= result.metrics["utility"]["logreg"]["test_acc_mean"] <= 1.0
