"""``utility``: models trained only on a released graph, scored on the real graph's target nodes (over the real edges,
or over the released ones with ``evaluate.infer_on: released``)."""

from __future__ import annotations

from functools import partial

from dpgraph.config.sections import EvaluateSection
from dpgraph.evaluation.evaluators.base import EVALUATORS, Evaluation, EvaluationInputs, Evaluator
from dpgraph.evaluation.models import MODELS
from dpgraph.evaluation.plots import plot_utility
from dpgraph.evaluation.utility import TrainSettings, evaluate_utility, with_released_edges
from dpgraph.releases import GraphRelease


@EVALUATORS.register("utility")
class GraphUtility(Evaluator):
    """``{"utility": {model: {test_acc_mean, test_acc_std, per_seed}}}`` (see
    :func:`~dpgraph.evaluation.utility.evaluate_utility`), and ``plots/utility.png``."""

    name = "utility"
    accepts = (GraphRelease,)
    defaults = {"models": ["gcn", "mlp"], "epochs": 200}

    @classmethod
    def check_settings(cls, settings: EvaluateSection) -> None:
        for model in settings.models or ():
            MODELS.get(model)

    def evaluate(self, release: GraphRelease, inputs: EvaluationInputs) -> Evaluation:  # type: ignore[override]
        ev = inputs.settings
        settings = TrainSettings(epochs=ev.epochs, lr=ev.lr, weight_decay=ev.weight_decay, hidden=ev.hidden,
                                 dropout=ev.dropout, normalize_features=ev.normalize_features,
                                 val_fraction=ev.val_fraction)
        target = inputs.target if ev.infer_on == "real" else with_released_edges(inputs.target, release.data)
        utility = evaluate_utility(release.data, target, ev.models, ev.seed_list, settings, inputs.num_classes,
                                   device=inputs.device, progress=inputs.progress)
        return Evaluation({"utility": utility},
                          {"plots/utility.png": partial(plot_utility, utility, nodes=ev.score_on)})
