"""Run the configured evaluators on a release (private analysis, beside ``release/``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch_geometric.data import Data

from dpgraph.data import GraphDataset
from dpgraph.errors import DPGraphError
from dpgraph.evaluation import scoring_on
from dpgraph.evaluation.evaluators import EvaluationInputs, evaluators_for
from dpgraph.pipeline.config import PipelineConfig
from dpgraph.releases import Release


def evaluation_target(config: PipelineConfig, graph: GraphDataset) -> Data:
    """The real graph whose `test_mask` marks the nodes scored: the test nodes, or the validation nodes
    (`evaluate.score_on: val`)."""
    if config.evaluate.score_on == "test":
        return graph.data
    val = getattr(graph.data, "val_mask", None)
    if val is None or not bool(val.any()):
        raise DPGraphError(f"evaluate.score_on: val needs validation nodes, and the {graph.name} split has none; use a "
                           "split with a validation share (e.g. dataset.split_fractions: [0.75, 0.1, 0.15])")
    return scoring_on(graph.data, val)


def evaluate_release(config: PipelineConfig, release: Release, graph: GraphDataset, target: Data,
                     device: torch.device, progress: bool) -> tuple[dict[str, Any], dict[str, Callable[[Path], None]]]:
    """The metrics of every configured evaluator that accepts ``release`` (``evaluate.evaluators``), merged, and their
    plots (path relative to the run directory -> writer)."""
    inputs = EvaluationInputs(real=graph.data, target=target, settings=config.evaluate, num_classes=graph.num_classes,
                              method=config.method.name, device=device, progress=progress)
    metrics: dict[str, Any] = {}
    plots: dict[str, Callable[[Path], None]] = {}
    for evaluator in evaluators_for(type(release), config.evaluate.evaluators):
        result = evaluator.evaluate(release, inputs)
        metrics.update(result.metrics)
        plots.update(result.plots)
    return metrics, plots
