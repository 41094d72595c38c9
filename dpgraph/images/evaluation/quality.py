"""``image-quality``: Fréchet distance and Inception-style score of the released samples under the dataset's reference
classifier (:mod:`~dpgraph.images.evaluation.reference`), with the real images' values beside them."""

from __future__ import annotations

from functools import partial
from typing import Any

from dpgraph.evaluation.evaluators.base import EVALUATORS, Evaluation, EvaluationInputs, Evaluator
from dpgraph.images.dataset import ImageDataset
from dpgraph.images.evaluation.plots import plot_image_grid
from dpgraph.images.evaluation.reference import ReferenceClassifier, reference_classifier
from dpgraph.images.evaluation.scores import frechet_distance, inception_score
from dpgraph.images.release import ImageGeneratorRelease


def image_quality(release: ImageGeneratorRelease, reference: ReferenceClassifier, dataset: ImageDataset,
                  target: ImageDataset) -> dict[str, Any]:
    """``fid``: Fréchet distance between the reference features of the released images and of the real scored images
    (``target.test_images``); ``fid_real_train_vs_test``: the same for the real private training images, the score
    of a release that copied them; ``inception_score`` of the released images and ``inception_score_real_test`` of
    the real scored ones; ``reference_test_acc``: the reference classifier's accuracy on the scored images;
    ``num_generated`` and ``feature_dim``; and ``note`` when a score is missing or less reliable."""
    real = reference.features(target.test_images)
    generated = reference.features(release.images)
    metrics: dict[str, Any] = {
        "fid": frechet_distance(generated, real) if generated.size(0) >= 2 else None,
        "fid_real_train_vs_test": frechet_distance(reference.features(dataset.train_images), real),
        "inception_score": inception_score(reference.probabilities(release.images)) if generated.size(0) else None,
        "inception_score_real_test": inception_score(reference.probabilities(target.test_images)),
        "reference_test_acc": reference.accuracy(target.test_images, target.test_labels),
        "num_generated": int(generated.size(0)),
        "feature_dim": int(real.size(1)),
    }
    if generated.size(0) < 2:
        metrics["note"] = "fewer than 2 released images: no Fréchet distance"
    elif generated.size(0) <= real.size(1):
        metrics["note"] = (f"{generated.size(0)} released images for {real.size(1)} features: a singular covariance, "
                           "the Fréchet distance is biased upward")
    return metrics


@EVALUATORS.register("image-quality")
class ImageQuality(Evaluator):
    """``{"image_quality": image_quality(...)}`` and ``plots/samples.png`` (released samples only, one row per
    class)."""

    name = "image-quality"
    accepts = (ImageGeneratorRelease,)

    def evaluate(self, release: ImageGeneratorRelease, inputs: EvaluationInputs) -> Evaluation:  # type: ignore[override]
        reference = reference_classifier(inputs.dataset, inputs.device)
        metrics = image_quality(release, reference, inputs.dataset, inputs.target)
        title = f"{inputs.method}: released samples" + (" (unconditional)" if release.labels is None else "")
        return Evaluation({"image_quality": metrics},
                          {"plots/samples.png": partial(plot_image_grid, release.images, release.labels,
                                                        inputs.num_classes, title)})
