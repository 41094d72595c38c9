"""Evaluators, registered by name in ``EVALUATORS``; each declares the release types it accepts. Importing this
package registers all of them."""

from dpgraph.evaluation.evaluators import fidelity, model_accuracy, utility  # noqa: F401  (registration)
from dpgraph.evaluation.evaluators.base import (
    EVALUATORS,
    Evaluation,
    EvaluationInputs,
    Evaluator,
    evaluators_for,
    resolve_settings,
)

__all__ = ["EVALUATORS", "Evaluation", "EvaluationInputs", "Evaluator", "evaluators_for", "resolve_settings"]
