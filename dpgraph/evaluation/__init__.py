"""Evaluation of a released graph: utility of GNNs trained on it, structural fidelity to the real graph."""

from dpgraph.evaluation.fidelity import structural_fidelity
from dpgraph.evaluation.models import MODEL_NAMES, build_model
from dpgraph.evaluation.plots import plot_degree_distributions, plot_utility
from dpgraph.evaluation.utility import TrainSettings, evaluate_utility, scoring_on, train_on_released

__all__ = [
    "MODEL_NAMES",
    "TrainSettings",
    "build_model",
    "evaluate_utility",
    "plot_degree_distributions",
    "plot_utility",
    "scoring_on",
    "structural_fidelity",
    "train_on_released",
]
