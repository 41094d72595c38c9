"""``model-accuracy``: a released node classifier's own accuracy on the real graph's target nodes."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn
from torch_geometric.data import Data

from dpgraph.evaluation.evaluators.base import EVALUATORS, Evaluation, EvaluationInputs, Evaluator
from dpgraph.evaluation.plots import plot_utility
from dpgraph.graphops import identity_adjacency, normalized_sparse_adjacency, unit_rows
from dpgraph.releases import NodeClassifierRelease


@torch.no_grad()
def node_classifier_accuracies(model: nn.Module, target: Data) -> dict[str, float]:
    """Accuracy on ``target.test_mask`` with whole-graph inference over the real graph (``graph``) and with each node
    on its own (``self``)."""
    device = next(model.parameters()).device
    x = unit_rows(target.x.float()).to(device)
    y, test = target.y.to(device), target.test_mask.to(device)
    out = {}
    for mode, adj in (("graph", normalized_sparse_adjacency(target.edge_index, target.num_nodes)),
                      ("self", identity_adjacency(target.num_nodes))):
        pred = model.eval().forward_all(x, adj.to(device)).argmax(-1)
        out[mode] = (pred[test] == y[test]).float().mean().item()
    return out


@EVALUATORS.register("model-accuracy")
class ModelAccuracy(Evaluator):
    """``{"utility": {"<method>/<mode>": {test_acc_mean, test_acc_std: 0, per_seed: [acc]}}}``, one trained model
    (hence std 0), one entry per inference mode; and ``plots/utility.png``."""

    name = "model-accuracy"
    accepts = (NodeClassifierRelease,)

    def evaluate(self, release: NodeClassifierRelease, inputs: EvaluationInputs) -> Evaluation:  # type: ignore[override]
        utility = {f"{inputs.method}/{mode}": {"test_acc_mean": acc, "test_acc_std": 0.0, "per_seed": [acc]}
                   for mode, acc in node_classifier_accuracies(release.module, inputs.target).items()}
        return Evaluation({"utility": utility},
                          {"plots/utility.png": partial(plot_utility, utility, nodes=inputs.settings.score_on)})
