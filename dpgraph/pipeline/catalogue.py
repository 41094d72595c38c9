"""Every registered dataset, mechanism and evaluator, of every modality: importing this module registers them all.

The graph implementations register in :mod:`dpgraph.data.registry`, :mod:`dpgraph.mechanisms` and
:mod:`dpgraph.evaluation.evaluators`; the image ones in :mod:`dpgraph.images`. Look implementations up here."""

import dpgraph.data.registry  # noqa: F401  (registers the graph datasets)
import dpgraph.evaluation.evaluators  # noqa: F401  (registers the graph evaluators)
import dpgraph.images  # noqa: F401  (registers the image datasets, mechanisms and evaluators)
from dpgraph.data.spec import DATASETS
from dpgraph.evaluation.evaluators import EVALUATORS
from dpgraph.mechanisms import MECHANISMS

__all__ = ["DATASETS", "EVALUATORS", "MECHANISMS"]
