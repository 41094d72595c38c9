"""``image-utility``: classifiers trained only on the released labelled images, tested on the real held-out images."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from tqdm import tqdm

from dpgraph.config.sections import EvaluateSection
from dpgraph.evaluation.evaluators.base import EVALUATORS, Evaluation, EvaluationInputs, Evaluator
from dpgraph.images.dataset import ImageDataset
from dpgraph.images.evaluation.classifiers import IMAGE_CLASSIFIERS
from dpgraph.images.evaluation.training import DEFAULT_EPOCHS, FitSettings
from dpgraph.images.release import ImageGeneratorRelease

UNCONDITIONAL_NOTE = "the release is unconditional (no labels): no classifier can be trained on it, utility skipped"
EMPTY_NOTE = "the release holds no image: no classifier can be trained on it, utility skipped"


def fit_settings(section: EvaluateSection) -> FitSettings:
    """The training recipe of the ``evaluate`` section (its ``epochs`` set)."""
    if section.epochs is None:
        raise ValueError("evaluate.epochs must be resolved before image utility is measured")
    return FitSettings(epochs=section.epochs, lr=section.lr, weight_decay=section.weight_decay,
                       hidden=section.hidden, dropout=section.dropout)


def image_utility(images: Tensor, labels: Tensor, target: ImageDataset, models: Sequence[str], seeds: Sequence[int],
                  settings: FitSettings, num_classes: int, device: torch.device,
                  progress: bool = False) -> dict[str, dict[str, Any]]:
    """Per model, ``{"test_acc_mean", "test_acc_std", "per_seed"}``: accuracy on ``target.test_images`` of the model
    fitted on ``images`` / ``labels`` only, once per seed (``per_seed`` in the order of ``seeds``, the std with
    ddof 1, 0 for one seed). Real labels are read only to score predictions."""
    per_seed: dict[str, list[float]] = {}
    for name in tqdm(models, desc="image utility", unit="model", disable=not progress):
        fit = IMAGE_CLASSIFIERS.get(name)
        per_seed[name] = [(fit(images, labels, num_classes, settings, seed, device)(target.test_images)
                           == target.test_labels).float().mean().item() for seed in seeds]
    return {name: {"test_acc_mean": statistics.fmean(accs),
                   "test_acc_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                   "per_seed": accs}
            for name, accs in per_seed.items()}


@EVALUATORS.register("image-utility")
class ImageUtility(Evaluator):
    """``{"utility": image_utility(...)}`` over ``evaluate.models`` and ``evaluate.seeds``; for an unconditional
    release (or one without images) ``{"utility_skipped": {"reason": <why>}}`` instead (not an error)."""

    name = "image-utility"
    accepts = (ImageGeneratorRelease,)
    defaults = {"models": ["cnn", "mlp", "logreg"], "epochs": DEFAULT_EPOCHS}

    @classmethod
    def check_settings(cls, settings: EvaluateSection) -> None:
        for model in settings.models or ():
            IMAGE_CLASSIFIERS.get(model)

    def evaluate(self, release: ImageGeneratorRelease, inputs: EvaluationInputs) -> Evaluation:  # type: ignore[override]
        if release.labels is None or release.labels.numel() == 0:
            reason = UNCONDITIONAL_NOTE if release.labels is None else EMPTY_NOTE
            return Evaluation({"utility_skipped": {"reason": reason}})
        ev = inputs.settings
        utility = image_utility(release.images, release.labels, inputs.target, ev.models, ev.seed_list,
                                fit_settings(ev), inputs.num_classes, inputs.device, inputs.progress)
        return Evaluation({"utility": utility})
