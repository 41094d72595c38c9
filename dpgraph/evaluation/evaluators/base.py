"""The contract of an evaluator: private analysis of a release against the real data, outside the ledger."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from dpgraph.config.sections import EvaluateSection
from dpgraph.data.spec import PrivateDataset
from dpgraph.errors import DPGraphError
from dpgraph.registry import Registry
from dpgraph.releases.base import Release


@dataclass(frozen=True)
class EvaluationInputs:
    """Everything an evaluator may read besides the release: the real ``dataset``, ``target`` (what it scores on,
    ``dataset.evaluation_target(score_on)``: for a graph the real graph whose ``test_mask`` marks the scored nodes,
    for images the dataset whose ``test_*`` are the scored images), the ``evaluate`` section (its unset fields filled
    with the evaluators' defaults), the dataset's declared class count, the releasing method's name, the device and
    whether to show progress."""

    dataset: PrivateDataset
    target: Any
    settings: EvaluateSection
    num_classes: int
    method: str
    device: torch.device
    progress: bool


@dataclass
class Evaluation:
    """An evaluator's result: ``metrics`` merged into metrics.json (top-level keys), and ``plots``: path relative to
    the run directory -> function writing it there."""

    metrics: dict[str, Any]
    plots: dict[str, Callable[[Path], None]] = field(default_factory=dict)


class Evaluator(ABC):
    """Measures a release on the real data (NOT private: for the analyst only, never part of the release)."""

    name: ClassVar[str]
    accepts: ClassVar[tuple[type[Release], ...]]
    #: values for the ``evaluate`` fields left unset (None) in the config, e.g. ``models``, ``epochs``
    defaults: ClassVar[dict[str, Any]] = {}

    @classmethod  # noqa: B027  (an optional hook: by default there is nothing to check)
    def check_settings(cls, settings: EvaluateSection) -> None:
        """Refuse, when the config is read, settings this evaluator cannot use (e.g. an unknown model name)."""

    @abstractmethod
    def evaluate(self, release: Release, inputs: EvaluationInputs) -> Evaluation:
        """The metrics (and plots) of ``release``."""


EVALUATORS: Registry[type[Evaluator]] = Registry("evaluator", "evaluate.evaluators")


def evaluators_for(release: type[Release], names: Sequence[str] | None) -> list[Evaluator]:
    """The configured evaluators (``names``; every registered one that accepts the release type ``release`` if
    None), each checked to accept it."""
    if names is None:
        return [EVALUATORS.get(name)() for name in EVALUATORS.names()
                if issubclass(release, EVALUATORS.get(name).accepts)]
    chosen = [EVALUATORS.get(name)() for name in names]
    for evaluator in chosen:
        if not issubclass(release, evaluator.accepts):
            takes = ", ".join(kind.__name__ for kind in evaluator.accepts)
            raise DPGraphError(f"evaluator '{evaluator.name}' evaluates {takes}, not the {release.__name__} this "
                               "method releases; remove it from evaluate.evaluators")
    return chosen


def resolve_settings(settings: EvaluateSection, evaluators: Sequence[Evaluator]) -> EvaluateSection:
    """``settings`` with each unset field taken from the first of ``evaluators`` that has a default for it, then
    checked by every evaluator."""
    filled: dict[str, Any] = {}
    for evaluator in evaluators:
        for key, value in evaluator.defaults.items():
            if getattr(settings, key) is None and key not in filled:
                filled[key] = value
    resolved = settings.model_copy(update=filled)
    for evaluator in evaluators:
        evaluator.check_settings(resolved)
    return resolved
