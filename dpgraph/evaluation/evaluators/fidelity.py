"""``fidelity``: structural fidelity of a released graph to the real one."""

from __future__ import annotations

from functools import partial

from dpgraph.evaluation.evaluators.base import EVALUATORS, Evaluation, EvaluationInputs, Evaluator
from dpgraph.evaluation.fidelity import structural_fidelity
from dpgraph.evaluation.graph_mmd import graph_mmd
from dpgraph.evaluation.pgb import pgb_comparison
from dpgraph.evaluation.plots import plot_clustering_by_degree, plot_degree_distributions
from dpgraph.releases import GraphRelease


@EVALUATORS.register("fidelity")
class GraphFidelity(Evaluator):
    """``fidelity`` (`structural_fidelity`), ``pgb_queries`` (`pgb_comparison`: one row per query with its real and
    released values and error measure) and ``graph_mmd`` (`graph_mmd`); ``plots/degree.png`` and
    ``plots/clustering.png``. The public seed of Louvain and of the distance sources is the first evaluation seed."""

    name = "fidelity"
    accepts = (GraphRelease,)

    def evaluate(self, release: GraphRelease, inputs: EvaluationInputs) -> Evaluation:  # type: ignore[override]
        released, real = release.data, inputs.dataset.data
        return Evaluation(
            {"fidelity": structural_fidelity(released, real),
             "pgb_queries": pgb_comparison(released, real, seed=inputs.settings.seed_list[0]),
             "graph_mmd": graph_mmd(released, real)},
            {"plots/degree.png": partial(plot_degree_distributions, released, real),
             "plots/clustering.png": partial(plot_clustering_by_degree, released, real)})
