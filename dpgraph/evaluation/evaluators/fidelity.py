"""``fidelity``: structural fidelity of a released graph to the real one."""

from __future__ import annotations

from functools import partial

from dpgraph.evaluation.evaluators.base import EVALUATORS, Evaluation, EvaluationInputs, Evaluator
from dpgraph.evaluation.fidelity import structural_fidelity
from dpgraph.evaluation.plots import plot_degree_distributions
from dpgraph.releases import GraphRelease


@EVALUATORS.register("fidelity")
class GraphFidelity(Evaluator):
    """``{"fidelity": structural_fidelity(released, real)}`` and ``plots/degree.png``."""

    name = "fidelity"
    accepts = (GraphRelease,)

    def evaluate(self, release: GraphRelease, inputs: EvaluationInputs) -> Evaluation:  # type: ignore[override]
        return Evaluation({"fidelity": structural_fidelity(release.data, inputs.dataset.data)},
                          {"plots/degree.png": partial(plot_degree_distributions, release.data, inputs.dataset.data)})
