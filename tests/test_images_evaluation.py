"""Evaluation of released image generators on the 8x8 digits: the reference classifier's scores separate real images
from noise, downstream utility separates a real release from a noise one, and the evaluators are registered."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

import dpgraph.images  # noqa: F401  (registration)
from dpgraph.config.sections import DatasetSection, EvaluateSection
from dpgraph.data.spec import NoParams, load_dataset
from dpgraph.errors import DPGraphError
from dpgraph.evaluation.evaluators.base import EvaluationInputs, evaluators_for, resolve_settings
from dpgraph.images.dataset import ImageDataset
from dpgraph.images.evaluation.classifiers import IMAGE_CLASSIFIERS
from dpgraph.images.evaluation.quality import ImageQuality, image_quality
from dpgraph.images.evaluation.reference import reference_classifier
from dpgraph.images.evaluation.scores import frechet_distance, inception_score
from dpgraph.images.evaluation.training import DEFAULT_EPOCHS, FitSettings
from dpgraph.images.evaluation.utility import ImageUtility, image_utility
from dpgraph.images.release import ImageGeneratorRelease

CPU = torch.device("cpu")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small networks: one thread is faster than two, and immune to other processes on the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits() -> ImageDataset:
    return load_dataset(DatasetSection(name="digits"), NoParams(), Path("."))


def _release(images: torch.Tensor, labels: torch.Tensor | None) -> ImageGeneratorRelease:
    return ImageGeneratorRelease(module=nn.Identity(), latent_dim=1, images=images, labels=labels)


def _noise(digits: ImageDataset, count: int) -> ImageGeneratorRelease:
    generator = torch.Generator().manual_seed(1)
    return _release(torch.rand(count, *digits.image_shape, generator=generator),
                    torch.randint(0, digits.num_classes, (count,), generator=generator))


def _inputs(digits: ImageDataset, settings: EvaluateSection) -> EvaluationInputs:
    return EvaluationInputs(dataset=digits, target=digits, settings=settings, num_classes=digits.num_classes,
                            method="test", device=CPU, progress=False)


def test_scores_on_known_inputs() -> None:
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(4000, 8, generator=generator), torch.randn(4000, 8, generator=generator)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a + 1.0, b) == pytest.approx(8.0, abs=0.3)  # |mean shift|^2 = 8, covariances equal
    assert inception_score(torch.full((50, 10), 0.1)) == pytest.approx(1.0)
    assert inception_score(torch.eye(10)) == pytest.approx(10.0)
    few = frechet_distance(a[:5], b)  # fewer vectors than dimensions: a singular covariance
    assert few == few and few > 0


def test_reference_scores_separate_real_from_noise(digits: ImageDataset) -> None:
    reference = reference_classifier(digits, CPU)
    real_half = image_quality(_release(digits.train_images[::2], digits.train_labels[::2]), reference, digits, digits)
    noise = image_quality(_noise(digits, 719), reference, digits, digits)
    assert real_half["fid"] < 0.1 * noise["fid"]
    assert real_half["fid_real_train_vs_test"] < 0.1 * noise["fid"]
    assert noise["inception_score"] < 0.6 * real_half["inception_score_real_test"]
    assert real_half["inception_score"] == pytest.approx(real_half["inception_score_real_test"], abs=1.0)
    assert real_half["reference_test_acc"] > 0.9
    assert real_half["num_generated"] == 719 and real_half["feature_dim"] == 64 and "note" not in real_half
    constant = image_quality(_release(torch.full((20, *digits.image_shape), 0.5), None), reference, digits, digits)
    assert constant["inception_score"] == pytest.approx(1.0)
    assert "biased upward" in constant["note"]  # 20 images for 64 features


def test_reference_is_memoised_per_training_set(digits: ImageDataset) -> None:
    assert reference_classifier(digits, CPU) is reference_classifier(digits, CPU)
    other = replace(digits, train_images=digits.train_images[:100], train_labels=digits.train_labels[:100])
    assert reference_classifier(other, CPU) is not reference_classifier(digits, CPU)


def test_utility_of_real_and_noise_releases(digits: ImageDataset) -> None:
    settings = resolve_settings(EvaluateSection(seeds=[5]), evaluators_for(ImageGeneratorRelease, None))
    real = ImageUtility().evaluate(_release(digits.train_images, digits.train_labels), _inputs(digits, settings))
    noise = ImageUtility().evaluate(_noise(digits, 300), _inputs(digits, settings))
    assert set(real.metrics["utility"]) == {"cnn", "mlp", "logreg"}
    for model, result in real.metrics["utility"].items():
        assert set(result) == {"test_acc_mean", "test_acc_std", "per_seed"} and len(result["per_seed"]) == 1
        assert result["test_acc_mean"] > 0.85, model
        assert noise.metrics["utility"][model]["test_acc_mean"] < 0.25, model  # chance: 0.1


def test_std_over_seeds(digits: ImageDataset) -> None:
    settings = FitSettings(epochs=1, lr=0.01, weight_decay=5e-4, hidden=16, dropout=0.5)
    utility = image_utility(digits.train_images[:200], digits.train_labels[:200], digits, ["mlp"], [0, 1, 2],
                            settings, 10, CPU)["mlp"]
    accs = torch.tensor(utility["per_seed"])
    assert utility["test_acc_mean"] == pytest.approx(accs.mean().item())
    assert utility["test_acc_std"] == pytest.approx(accs.std().item())  # ddof 1


def test_classifier_fit_is_seeded_and_leaves_the_global_rng_alone(digits: ImageDataset) -> None:
    settings = FitSettings(epochs=2, lr=0.01, weight_decay=5e-4, hidden=16, dropout=0.5)
    state = torch.get_rng_state()
    fits = [IMAGE_CLASSIFIERS.get("cnn")(digits.train_images, digits.train_labels, 10, settings, seed, CPU)
            for seed in (3, 3, 4)]
    predictions = [fit(digits.test_images) for fit in fits]
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(predictions[0], predictions[1]) and not torch.equal(predictions[0], predictions[2])


def test_unconditional_release_skips_utility(digits: ImageDataset) -> None:
    settings = resolve_settings(EvaluateSection(seeds=1), evaluators_for(ImageGeneratorRelease, None))
    result = ImageUtility().evaluate(_release(digits.train_images[:50], None), _inputs(digits, settings))
    assert "utility" not in result.metrics and "unconditional" in result.metrics["utility_skipped"]["reason"]


def test_check_settings_rejects_an_unknown_model() -> None:
    with pytest.raises(DPGraphError, match="unknown image classifier 'gcn' at 'evaluate.models'"):
        ImageUtility.check_settings(EvaluateSection(models=["cnn", "gcn"]))
    with pytest.raises(DPGraphError, match="unknown image classifier"):
        resolve_settings(EvaluateSection(models=["gcn"]), evaluators_for(ImageGeneratorRelease, None))


def test_evaluators_are_registered_with_their_defaults() -> None:
    evaluators = evaluators_for(ImageGeneratorRelease, None)
    assert [evaluator.name for evaluator in evaluators] == ["image-quality", "image-utility"]
    settings = resolve_settings(EvaluateSection(), evaluators)
    assert settings.models == ["cnn", "mlp", "logreg"] and settings.epochs == DEFAULT_EPOCHS


@pytest.mark.parametrize("labelled", [True, False])
def test_samples_plot_is_a_png(digits: ImageDataset, tmp_path: Path, labelled: bool) -> None:
    settings = resolve_settings(EvaluateSection(seeds=1), evaluators_for(ImageGeneratorRelease, None))
    release = _noise(digits, 95)
    if not labelled:
        release = _release(release.images, None)
    result = ImageQuality().evaluate(release, _inputs(digits, settings))
    assert list(result.plots) == ["plots/samples.png"]
    result.plots["plots/samples.png"](tmp_path / "plots" / "samples.png")
    assert (tmp_path / "plots" / "samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
