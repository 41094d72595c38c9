"""Run the configured evaluators on a release (private analysis, beside ``release/``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from dpgraph.data.spec import PrivateDataset
from dpgraph.evaluation.evaluators import EvaluationInputs, evaluators_for
from dpgraph.pipeline.config import PipelineConfig
from dpgraph.releases.base import Release


def evaluate_release(config: PipelineConfig, release: Release, dataset: PrivateDataset, target: Any,
                     device: torch.device, progress: bool) -> tuple[dict[str, Any], dict[str, Callable[[Path], None]]]:
    """The metrics of every configured evaluator that accepts ``release`` (``evaluate.evaluators``), merged, and their
    plots (path relative to the run directory -> writer). ``target``: ``dataset.evaluation_target(score_on)``."""
    inputs = EvaluationInputs(dataset=dataset, target=target,
                              settings=config.evaluate, num_classes=dataset.num_classes,
                              method=config.method.name, device=device, progress=progress)
    metrics: dict[str, Any] = {}
    plots: dict[str, Callable[[Path], None]] = {}
    for evaluator in evaluators_for(type(release), config.evaluate.evaluators):
        result = evaluator.evaluate(release, inputs)
        metrics.update(result.metrics)
        plots.update(result.plots)
    return metrics, plots
