"""``evaluate.infer_on: released``: the trained models predict over the released edges, for releases of the real
nodes only."""

from __future__ import annotations

import pytest
import torch

from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.errors import DPGraphError
from dpgraph.evaluation.utility import TrainSettings, evaluate_utility, with_released_edges


def _real():
    data = make_sbm_graph(SBMParams(num_nodes=300, num_classes=3, num_features=24, p_in=0.08, p_out=0.002,
                                    p_topic=0.12, p_other=0.08))
    return random_split(data, (0.6, 0.2, 0.2), seed=0)


def test_the_inference_graph_is_the_real_nodes_over_the_released_edges():
    real = _real()
    released = real.clone()
    released.edge_index = torch.tensor([[0, 1], [1, 0]])
    target = with_released_edges(real, released)
    assert torch.equal(target.edge_index, released.edge_index)
    assert torch.equal(target.x, real.x) and torch.equal(target.y, real.y)
    assert torch.equal(target.test_mask, real.test_mask)
    assert real.edge_index.size(1) > 2  # the real graph itself is untouched


def test_a_release_of_other_nodes_is_refused():
    real = _real()
    other = real.clone()
    other.x = 1.0 - other.x
    with pytest.raises(DPGraphError, match="needs a release of the real nodes"):
        with_released_edges(real, other)
    with pytest.raises(DPGraphError, match="needs a release of the real nodes"):
        with_released_edges(real, real.subgraph(torch.arange(100)))


def test_inference_over_edgeless_released_structure_loses_what_the_real_edges_give():
    real = _real()
    released = real.clone()
    released.y = torch.where(real.train_mask, real.y, -1)
    released.edge_index = torch.empty(2, 0, dtype=torch.long)
    settings = TrainSettings(epochs=60)
    on_real = evaluate_utility(released, real, ["gcn"], [0, 1], settings, 3, progress=False)["gcn"]
    on_released = evaluate_utility(released, with_released_edges(real, released), ["gcn"], [0, 1], settings, 3,
                                   progress=False)["gcn"]
    assert on_real["test_acc_mean"] > on_released["test_acc_mean"] + 0.1
