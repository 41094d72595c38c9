"""dp-sbm: sensitivities checked by deleting nodes from real graphs, exactness of the flow cap, noise scale,
and the recorded events against an independent accountant."""

from __future__ import annotations

import pytest
import torch
from privacy_reference import closed_form_gaussians_epsilon, dp_accounting_gaussians_epsilon
from torch_geometric.utils import erdos_renyi_graph, subgraph, to_undirected

from dpgraph.config.sections import PrivacySection
from dpgraph.data.graph import GraphDataset
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.mechanisms import MECHANISMS, ReleaseContext
from dpgraph.mechanisms.sbm_statistics import (
    capped_pair_edges,
    class_counts,
    feature_sums,
    pair_edges_sensitivity,
)
from dpgraph.privacy import GaussianEvent, PrivacyLedger
from dpgraph.privacy.noise import gaussian_release
from dpgraph.privacy.randomness import GeneratorRandomness
from dpgraph.privacy.spend import Budget

C = 3


def _graph_with_hub(seed: int, n: int = 40):
    """A random graph plus a hub adjacent to everyone: the case that breaks naive degree truncation."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    edge_index = erdos_renyi_graph(n, 0.15)
    hub_edges = torch.stack([torch.zeros(n - 1, dtype=torch.long), torch.arange(1, n)])
    edge_index = torch.unique(to_undirected(torch.cat([edge_index, hub_edges], 1)), dim=1)
    y = torch.randint(0, C, (n,), generator=gen)
    x = torch.bernoulli(torch.full((n, 12), 0.4), generator=gen)
    return x, edge_index, y


def _stats(x, edge_index, y, cap: int, clip: float):
    labelled = torch.ones(len(y), dtype=torch.bool)
    return (class_counts(y, C), capped_pair_edges(edge_index, y, labelled, C, cap), feature_sums(x, y, C, clip))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("cap", [1, 3])
def test_sensitivities_hold_when_any_node_is_removed(seed, cap):
    clip = 1.5
    x, edge_index, y = _graph_with_hub(seed)
    full = _stats(x, edge_index, y, cap, clip)
    bounds = (1.0, pair_edges_sensitivity(cap, C), clip)
    worst = [0.0, 0.0, 0.0]
    for v in range(len(y)):
        keep = torch.arange(len(y)) != v
        sub_edges, _ = subgraph(keep, edge_index, relabel_nodes=True, num_nodes=len(y))
        reduced = _stats(x[keep], sub_edges, y[keep], cap, clip)
        for i, (a, b) in enumerate(zip(full, reduced, strict=True)):
            worst[i] = max(worst[i], float((a - b).norm()))
    for observed, bound in zip(worst, bounds, strict=True):
        assert observed <= bound + 1e-9
    assert worst[1] > 0  # the statistic does depend on the graph


def test_flow_cap_is_exact_when_degrees_are_under_the_cap():
    x, edge_index, y = _graph_with_hub(0)
    no_hub = edge_index[:, (edge_index != 0).all(0)]
    counts = capped_pair_edges(no_hub, y, torch.ones(len(y), dtype=torch.bool), C, degree_cap=len(y))
    src, dst = no_hub[:, no_hub[0] < no_hub[1]]
    exact = [int((((y[src] == a) & (y[dst] == b)) | ((y[src] == b) & (y[dst] == a))).sum())
             for a in range(C) for b in range(a, C)]
    assert counts.tolist() == exact


def test_flow_cap_limits_a_hub():
    x, edge_index, y = _graph_with_hub(1)
    star = edge_index[:, (edge_index == 0).any(0)]
    counts = capped_pair_edges(star, y, torch.ones(len(y), dtype=torch.bool), C, degree_cap=2)
    assert float(counts.sum()) <= 2 * C  # the hub keeps at most D edges towards each class


def test_only_labelled_training_nodes_are_read():
    x, edge_index, y = _graph_with_hub(2)
    labelled = torch.zeros(len(y), dtype=torch.bool)
    labelled[:20] = True
    y_changed = y.clone()
    y_changed[20:] = (y[20:] + 1) % C
    a = capped_pair_edges(edge_index, y, labelled, C, 3)
    b = capped_pair_edges(edge_index, y_changed, labelled, C, 3)
    assert torch.equal(a, b)


def test_gaussian_release_noise_scale_and_event():
    ledger = PrivacyLedger(delta=1e-5, unit="node")
    spend = Budget(ledger, {"s": 0.5}).calibrate("s", GaussianEvent)
    noisy = gaussian_release(torch.zeros(200_000), 3.0, spend, GeneratorRandomness.seeded(0))
    assert float(noisy.std()) == pytest.approx(3.0 * spend.noise_multiplier, rel=0.01)
    assert abs(float(noisy.mean())) < 0.05
    [(stage, event)] = ledger.events
    assert stage == "s" and event == GaussianEvent(spend.noise_multiplier)


def _sbm_graph() -> GraphDataset:
    data = random_split(make_sbm_graph(SBMParams(num_nodes=300)), (0.6, 0.2, 0.2), seed=0)
    return GraphDataset(name="sbm", data=data, num_classes=3)


@pytest.mark.parametrize("epsilon", [1.0, 4.0])
def test_release_spends_exactly_the_budget_per_an_independent_accountant(epsilon):
    graph, mechanism = _sbm_graph(), MECHANISMS.get("dp-sbm")()
    privacy = PrivacySection(epsilon=epsilon, delta=1e-5, randomness="reproducible")
    context = ReleaseContext.create(privacy, mechanism, seed=0)
    ledger = context.budget.ledger
    released = mechanism.release(graph, mechanism.Params(), context).data
    assert [stage for stage, _ in ledger.events] == ["sizes", "edges", "features"]
    assert released.x.size(1) == graph.num_features and int(released.y.min()) >= 0
    sigmas = [event.noise_multiplier for _, event in ledger.events]
    exact = closed_form_gaussians_epsilon(sigmas, 1e-5)  # three Gaussians compose to one: 1/s^2 = sum 1/s_i^2
    assert exact <= ledger.epsilon() <= exact * (1 + 1e-9)
    assert 0.99 * epsilon <= ledger.epsilon() <= epsilon
    assert dp_accounting_gaussians_epsilon(sigmas, 1e-5) > ledger.epsilon()  # RDP, the fallback, is looser
