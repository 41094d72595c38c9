"""Evaluation of a release: utility of models trained on it (all seeds of a model as one batched model), structural
fidelity to the real graph, and the registered evaluators (:mod:`dpgraph.evaluation.evaluators`)."""

from dpgraph.data.graph import scoring_on
from dpgraph.evaluation.batched import SeedStack
from dpgraph.evaluation.fidelity import structural_fidelity
from dpgraph.evaluation.models import MODEL_NAMES, MODELS, build_model
from dpgraph.evaluation.plots import plot_degree_distributions, plot_utility
from dpgraph.evaluation.utility import TrainSettings, evaluate_utility, train_on_released, train_seeds

__all__ = [
    "MODELS",
    "MODEL_NAMES",
    "SeedStack",
    "TrainSettings",
    "build_model",
    "evaluate_utility",
    "plot_degree_distributions",
    "plot_utility",
    "scoring_on",
    "structural_fidelity",
    "train_on_released",
    "train_seeds",
]
