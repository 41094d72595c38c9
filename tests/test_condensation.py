"""GCond-style condensation: synthetic graph, layer-wise distance, exact oracle, SBM end to end, determinism."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dpgraph.condensation import (
    CondenseSettings,
    ExactClassGradients,
    SyntheticGraph,
    condense,
    jittered_copies,
    layerwise_distance,
    matching_distance,
    random_features,
    real_sample_features,
)
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.errors import DPGraphError
from dpgraph.evaluation.utility import TrainSettings, evaluate_utility
from dpgraph.graphops import normalized_sparse_adjacency, propagate, propagate_roots


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("mode", ["identity", "mlp"])
def test_synthetic_graph_shapes_labels_and_release(mode):
    counts = [2, 3, 0, 1]
    graph = SyntheticGraph(random_features(counts, 8, _gen()), counts, _gen(1), adjacency=mode, hidden=16)
    assert graph.x.shape == (6, 8) and torch.bincount(graph.y, minlength=4).tolist() == counts
    assert graph.classes == [0, 1, 3] and graph.num_classes == 4
    assert torch.allclose(graph.features().abs().sum(1), torch.ones(6))
    adj = graph.adjacency()
    assert adj.shape == (6, 6) and torch.equal(adj, adj.T) and not adj.diagonal().any()
    assert ((adj >= 0) & (adj <= 1)).all() and (adj.any() if mode == "mlp" else not adj.any())
    assert graph.propagated(2).shape == (6, 8)
    if mode == "identity":
        assert torch.equal(graph.propagated(2), graph.features())
    data = graph.to_data()
    assert data.x.shape == (6, 8) and torch.equal(data.y, graph.y) and data.num_nodes == 6
    assert torch.equal(data.edge_index, (adj > 0.5).nonzero().T)


def test_real_sample_features_copies_training_rows_of_each_class():
    x, y = torch.arange(12.0).reshape(6, 2), torch.tensor([0, 0, 1, 1, 1, 0])
    train = torch.tensor([True, True, True, True, False, False])
    rows = real_sample_features(x, y, train, [1, 2], _gen())
    assert rows[0].tolist() in (x[0].tolist(), x[1].tolist())
    assert sorted(r.tolist() for r in rows[1:]) == [x[2].tolist(), x[3].tolist()]
    with pytest.raises(DPGraphError, match="class 1"):
        real_sample_features(x, y, train, [1, 3], _gen())


def test_distance_is_zero_for_identical_and_scale_invariant_per_class():
    g = _gen()
    real = {c: [torch.randn(3, 5, generator=g), torch.randn(3, generator=g)] for c in range(3)}
    syn = {c: [torch.randn(3, 5, generator=g), torch.randn(3, generator=g)] for c in range(3)}
    assert matching_distance(real, real).item() == pytest.approx(0.0, abs=1e-5)
    scaled = {c: [t * s for t in grads] for (c, grads), s in zip(real.items(), (1e-3, 7.0, 1e4), strict=True)}
    assert matching_distance(scaled, syn).item() == pytest.approx(matching_distance(real, syn).item(), abs=1e-5)
    # rows: 3 weight rows + 1 bias row, each 1 - cos; opposite gradients give 2 per row
    assert layerwise_distance(real[0], [-t for t in real[0]]).item() == pytest.approx(8.0, abs=1e-5)


def _path_graph() -> tuple[torch.Tensor, torch.Tensor]:
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    dense = torch.zeros(4, 4)
    dense[edge_index[0], edge_index[1]] = 1
    return edge_index, dense


def test_propagate_is_normalized_adjacency_power():
    edge_index, dense = _path_graph()
    a = dense + torch.eye(4)
    a_hat = a / torch.outer(a.sum(1), a.sum(1)).sqrt()
    x = torch.randn(4, 3, generator=_gen())
    assert torch.allclose(propagate(x, normalized_sparse_adjacency(edge_index, 4), 2), a_hat @ a_hat @ x, atol=1e-6)


def test_exact_oracle_matches_hand_computed_gradient():
    edge_index, _ = _path_graph()
    h = propagate(torch.randn(4, 3, generator=_gen()), normalized_sparse_adjacency(edge_index, 4), 2)
    y, train = torch.tensor([0, 1, 0, 1]), torch.tensor([True, True, True, False])
    model = nn.Linear(3, 2)
    grads = ExactClassGradients(h, y, train).class_gradients(model, [0, 1])
    for c, nodes in ((0, [0, 2]), (1, [1])):
        p = F.softmax(model(h[nodes]), dim=1).detach()
        residual = p - F.one_hot(torch.tensor([c] * len(nodes)), 2).float()  # dCE/dlogits per node
        assert torch.allclose(grads[c][0], residual.T @ h[nodes] / len(nodes), atol=1e-6)
        assert torch.allclose(grads[c][1], residual.mean(0), atol=1e-6)


def test_jittered_copies_repeat_the_clamped_rows_with_public_noise():
    rows = torch.tensor([[1.0, -2.0, 3.0], [0.5, 0.5, 0.0]])
    exact = jittered_copies(rows, [2, 3], 0.0, _gen())
    assert torch.equal(exact, torch.tensor([[1.0, 0.0, 3.0]] * 2 + [[0.5, 0.5, 0.0]] * 3))
    noisy = jittered_copies(rows, [2, 3], 0.3, _gen())
    assert noisy.shape == (5, 3) and bool((noisy >= 0).all()) and not torch.equal(noisy[0], noisy[1])
    assert not noisy[exact == 0].any()  # zeros (and clamped negatives) stay zero
    with pytest.raises(ValueError, match="one row per class"):
        jittered_copies(rows, [1, 1, 1], 0.1, _gen())


def _sbm():
    data = random_split(make_sbm_graph(SBMParams(num_nodes=300)), (0.3, 0.2, 0.5), seed=0)
    adj = normalized_sparse_adjacency(data.edge_index, 300)
    return data, ExactClassGradients(propagate(F.normalize(data.x, p=1.0, dim=1), adj, 2), data.y, data.train_mask)


_SHORT = CondenseSettings(outer_steps=15, matching_steps=5, lr_features=0.01)


def _gcn_accuracy(synthetic: SyntheticGraph, real) -> float:
    settings = TrainSettings(epochs=100)
    return evaluate_utility(synthetic.to_data(), real, ["gcn"], [0, 1], settings, 3, progress=False)["gcn"][
        "test_acc_mean"]


@pytest.mark.parametrize("seed", range(3))
def test_short_condensation_from_noise_makes_sbm_learnable(seed):
    data, oracle = _sbm()
    synthetic = SyntheticGraph(random_features([3, 3, 3], 48, _gen(seed)), [3, 3, 3], _gen(seed))
    before = _gcn_accuracy(synthetic, data)
    condense(oracle, synthetic, _SHORT, _gen(seed))
    assert before < 0.6 and _gcn_accuracy(synthetic, data) >= 0.9  # 0.97-0.99 over seeds 0-9


@pytest.mark.parametrize("mode", ["identity", "mlp"])
def test_condensation_is_deterministic(mode):
    _, oracle = _sbm()
    settings = CondenseSettings(outer_steps=3, matching_steps=2, model_steps=2, model="mlp", hidden=8)

    def run() -> SyntheticGraph:
        graph = SyntheticGraph(random_features([2, 2, 2], 48, _gen(3)), [2, 2, 2], _gen(4), adjacency=mode)
        return condense(oracle, graph, settings, _gen(5))

    a, b = run(), run()
    assert torch.equal(a.x, b.x) and torch.equal(a.adjacency(), b.adjacency())
    start = SyntheticGraph(random_features([2, 2, 2], 48, _gen(3)), [2, 2, 2], _gen(4), adjacency=mode)
    assert not torch.equal(a.x, start.x)


def test_projection_keeps_features_and_restores_unit_rows():
    graph = SyntheticGraph(random_features([2, 1], 5, _gen()), [2, 1], _gen())
    features = graph.features().detach().clone()
    with torch.no_grad():
        graph.x.mul_(torch.tensor([[3.0], [0.1], [40.0]]))
    graph.project_()
    assert torch.allclose(graph.x, features) and torch.allclose(graph.features(), features)


def test_propagate_roots_is_each_subgraphs_own_gcn_propagation():
    """Two padded subgraphs; reference: D^-1/2 (A + I) D^-1/2 written out per subgraph, powered, root row."""
    a_path = torch.tensor([[0.0, 1, 0], [1, 0, 1], [0, 1, 0]])  # path 0-1-2
    a_pair = torch.tensor([[0.0, 1, 0], [1, 0, 0], [0, 0, 0]])  # edge 0-1, position 2 is padding

    def norm(a, valid):
        a = (a + torch.eye(3)) * valid.unsqueeze(0) * valid.unsqueeze(1)
        d = a.sum(1).clamp_min(1e-12).rsqrt() * valid
        return d.unsqueeze(1) * a * d.unsqueeze(0)

    valid = torch.tensor([[1.0, 1, 1], [1, 1, 0]])
    adj = torch.stack([norm(a_path, valid[0]), norm(a_pair, valid[1])])
    x = torch.randn(2, 3, 4, generator=_gen()) * valid.unsqueeze(-1)
    root = torch.tensor([0, 1])
    out = propagate_roots(x, adj, root, 2)
    for b in range(2):
        assert torch.allclose(out[b], (adj[b] @ adj[b] @ x[b])[root[b]], atol=1e-6)
    assert torch.allclose(out[0], (torch.tensor([1 / 2, 6 ** -0.5, 0]) @ adj[0]) @ x[0], atol=1e-6)
