"""edge-privgraph: every statistic's and score's sensitivity checked by deleting every edge of graphs with hubs, the
consistency step, the ledger against a closed form, the refused unit, the secret randomness, inter-community edges
between the right communities, and the noiseless ceiling."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from edge_release_checks import assert_keeps_real_nodes
from hub_graphs import HUB_GRAPHS, edge_deletions, messy
from scipy.optimize import brentq
from scipy.stats import ks_2samp

from dpgraph.config.sections import PrivacySection
from dpgraph.data.graph import GraphDataset
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_degrees, simple_pairs
from dpgraph.mechanisms import MECHANISMS, ReleaseContext
from dpgraph.mechanisms.edge_bter import group_pair_edges, predicted_groups
from dpgraph.mechanisms.edge_privgraph import (
    STATISTICS_SENSITIVITY,
    community_statistics,
    inter_community_edges,
    intra_degrees,
    privgraph_edges,
)
from dpgraph.mechanisms.privgraph_communities import (
    SCORE_SENSITIVITY,
    SUPERNODE_PAIR_SENSITIVITY,
    adjust_communities,
    norm_sub,
    num_supernodes,
    supernode_groups,
)
from dpgraph.privacy import SelfComposedEvent
from dpgraph.privacy.pure import PureDPEvent
from dpgraph.privacy.randomness import GeneratorRandomness

C = 3
K = 3  # communities of the hub graphs


def _recorded_scores(edge_index: torch.Tensor, initial: np.ndarray, order: np.ndarray,
                     draws: np.ndarray) -> list[np.ndarray]:
    """Score vectors the adjustment pass computes, node by node, when the draws are fixed (given earlier draws)."""
    seen: list[np.ndarray] = []

    def choose(scores: torch.Tensor) -> int:
        seen.append(scores.numpy().copy())
        return int(draws[len(seen) - 1])

    adjust_communities(edge_index, initial, K, order, choose)
    return seen


@pytest.mark.parametrize("make", HUB_GRAPHS)
def test_deleting_any_edge_moves_one_supernode_count_two_scores_and_the_statistics_by_their_bounds(make):
    edge_index = messy(make())
    n = int(edge_index.max()) + 1
    rng = np.random.default_rng(n)
    groups, num_groups = supernode_groups(n, 4, rng), num_supernodes(n, 4)
    communities = torch.from_numpy(rng.integers(0, K, n))
    initial, order, draws = rng.integers(0, K, n), rng.permutation(n), rng.integers(0, K, n)
    full_counts = group_pair_edges(edge_index, groups, num_groups)
    full_statistics = community_statistics(edge_index, communities, K)
    full_scores = _recorded_scores(edge_index, initial, order, draws)
    position = {int(v): i for i, v in enumerate(order)}
    current = initial.copy()
    current[order] = draws  # every node's community once the pass is over
    assert float(full_counts.sum()) == simple_pairs(edge_index, n).size(1)
    worst = [0.0, 0.0, 0.0]
    for u, w, kept in edge_deletions(edge_index, n):
        count_change = full_counts - group_pair_edges(kept, groups, num_groups)
        statistics_change = full_statistics - community_statistics(kept, communities, K)
        assert count_change.abs().sum() == 1 and count_change.max() == 1
        assert statistics_change.abs().sum() == 2 and statistics_change.min() >= 0
        scores = _recorded_scores(kept, initial, order, draws)
        changed = [i for i, (a, b) in enumerate(zip(full_scores, scores, strict=True)) if not np.array_equal(a, b)]
        assert changed == sorted([position[u], position[w]])  # only the two endpoints' scores move
        for node, other in ((u, w), (w, u)):
            # the score of the community the other endpoint holds when this node draws
            held = current[other] if position[other] < position[node] else initial[other]
            change = full_scores[position[node]] - scores[position[node]]
            assert change.nonzero()[0].tolist() == [held] and change[held] == 1
        worst = [max(worst[0], float(count_change.abs().sum())), max(worst[1], float(statistics_change.abs().sum())),
                 max(worst[2], float(np.abs(full_scores[position[u]] - scores[position[u]]).max()))]
    assert worst == [SUPERNODE_PAIR_SENSITIVITY, STATISTICS_SENSITIVITY, SCORE_SENSITIVITY]


def test_statistics_are_intra_degrees_and_doubled_inter_counts():
    edges = torch.tensor([[0, 0, 1, 2, 3, 3], [1, 2, 2, 3, 4, 0]])
    communities = torch.tensor([0, 0, 1, 1, 2])  # inside: 0-1, 2-3; between: (0,1) x2, (1,2) 1, (0,1) 3-0
    assert intra_degrees(edges, communities).tolist() == [1, 1, 1, 1, 0]
    assert inter_community_edges(edges, communities, 3).tolist() == [3, 0, 1]  # pairs (0,1) (0,2) (1,2)
    assert community_statistics(edges, communities, 3).tolist() == [1, 1, 1, 1, 0, 6, 0, 2]


def test_norm_sub_keeps_the_total_and_is_the_projection_on_the_simplex():
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.laplace(1.0, 3.0, 40)
        y = norm_sub(x)
        assert y.min() >= 0 and y.sum() == pytest.approx(max(x.sum(), 0))
        if x.sum() > 0:  # y = max(x - delta, 0) for one delta >= 0, found independently by bisection
            delta = brentq(lambda t, x=x: np.maximum(x - t, 0).sum() - x.sum(), 0, np.abs(x).max() + 1)
            np.testing.assert_allclose(y, np.maximum(x - delta, 0), atol=1e-9)
    assert np.array_equal(norm_sub(np.array([0.0, 2.0, 5.0])), [0.0, 2.0, 5.0])
    assert np.array_equal(norm_sub(np.array([-3.0, 1.0])), [0.0, 0.0])


def _graph(num_nodes: int = 400) -> GraphDataset:
    data = make_sbm_graph(SBMParams(num_nodes=num_nodes, num_classes=C, num_features=24, p_in=0.05, p_out=0.005))
    return GraphDataset("sbm", random_split(data, (0.75, 0.1, 0.15), seed=0), num_classes=C)


def _context(epsilon: float | None, secret: int = 0, public: int = 0, unit: str = "edge") -> ReleaseContext:
    mechanism = MECHANISMS.get("edge-privgraph")()
    privacy = PrivacySection(epsilon=epsilon, delta=1e-5, unit=unit, randomness="reproducible")
    context = ReleaseContext.create(privacy, mechanism, seed=public, progress=False)
    context.secret = GeneratorRandomness.seeded(secret)
    return context


def _release(graph: GraphDataset, context: ReleaseContext, **params):
    mechanism = MECHANISMS.get("edge-privgraph")()
    return mechanism.release(graph, mechanism.Params(**params), context).data


def pure_composition_epsilon(epsilons: list[float], delta: float) -> float:
    """Independent closed form: the least eps with E_L[max(0, 1 - e^(eps - L))] <= delta, L the sum of independent
    randomized-response losses +-eps_i (+ with probability e^eps_i / (1 + e^eps_i)), enumerated outcome by outcome."""
    def excess(eps: float) -> float:
        total = 0.0
        for signs in itertools.product((1, -1), repeat=len(epsilons)):
            loss = sum(s * e for s, e in zip(signs, epsilons, strict=True))
            prob = math.prod(1 / (1 + math.exp(-s * e)) for s, e in zip(signs, epsilons, strict=True))
            total += prob * max(0.0, 1 - math.exp(eps - loss))
        return total - delta
    return brentq(excess, 0.0, sum(epsilons), xtol=1e-12)


@pytest.mark.parametrize("epsilon", [1.0, 4.0])
def test_the_three_pure_stages_meet_the_target_and_a_closed_form(epsilon):
    context = _context(epsilon)
    _release(_graph(), context)
    events = context.budget.ledger.events
    assert [stage for stage, _ in events] == ["supernodes", "adjust", "statistics"]
    first, adjust, statistics = (event for _, event in events)
    assert isinstance(first, PureDPEvent) and isinstance(statistics, PureDPEvent)
    assert isinstance(adjust, SelfComposedEvent) and adjust.count == 2 and isinstance(adjust.event, PureDPEvent)
    epsilons = [first.epsilon, adjust.event.epsilon, adjust.event.epsilon, statistics.epsilon]
    exact = pure_composition_epsilon(epsilons, 1e-5)
    assert exact * (1 - 1e-6) <= context.budget.ledger.epsilon() <= exact * (1 + 1e-6)
    assert 0.99 * epsilon <= context.budget.ledger.epsilon() <= min(epsilon, sum(epsilons))  # basic composition


def test_public_classes_spend_the_whole_budget_on_the_statistics():
    context = _context(1.0)
    _release(_graph(), context, communities="public-classes")
    (stage, event), = context.budget.ledger.events
    assert stage == "statistics" and isinstance(event, PureDPEvent)
    assert pure_composition_epsilon([event.epsilon], 1e-5) == pytest.approx(context.budget.ledger.epsilon(), rel=1e-6)
    assert 0.99 <= context.budget.ledger.epsilon() <= 1.0


def test_the_node_unit_is_refused():
    mechanism = MECHANISMS.get("edge-privgraph")()
    with pytest.raises(DPGraphError, match="supports privacy.unit edge"):
        mechanism.check(PrivacySection(epsilon=1.0, unit="node"), _graph(), mechanism.Params())
    mechanism.check(PrivacySection(epsilon=1.0, unit="edge"), _graph(), mechanism.Params())


@pytest.mark.parametrize("communities", ["private", "public-classes"])
def test_the_noise_comes_from_the_secret_stream(communities):
    graph = _graph()
    edges = _release(graph, _context(2.0, secret=3), communities=communities).edge_index
    assert torch.equal(edges, _release(graph, _context(2.0, secret=3), communities=communities).edge_index)
    assert not torch.equal(edges, _release(graph, _context(2.0, secret=4), communities=communities).edge_index)


def test_inter_community_edges_join_exactly_the_requested_communities():
    communities = torch.arange(200) % 4
    between = np.zeros((4, 4), dtype=np.int64)
    between[0, 2] = between[2, 0] = 30
    between[1, 3] = between[3, 1] = 12
    degrees = np.full(200, 4)
    edges = privgraph_edges(communities, degrees, between, np.random.default_rng(0))
    src, dst = simple_pairs(edges, 200)
    a, b = communities[src], communities[dst]
    low, high = torch.minimum(a, b), torch.maximum(a, b)
    across = low != high
    assert sorted(set(zip(low[across].tolist(), high[across].tolist(), strict=True))) == [(0, 2), (1, 3)]
    assert int(((low == 0) & (high == 2)).sum()) == 30 and int(((low == 1) & (high == 3)).sum()) == 12
    assert np.array_equal(intra_degrees(edges, communities).numpy(), degrees)  # the in-community configuration


def test_the_noiseless_ceiling_keeps_intra_degrees_pair_counts_and_real_degrees():
    graph = _graph(600)
    d = graph.data
    context = _context(None)
    released = _release(graph, context, communities="public-classes")
    assert context.budget is None
    communities = predicted_groups(d.x, d.y, d.train_mask, C)
    real_inside, synthetic_inside = intra_degrees(d.edge_index, communities), intra_degrees(released.edge_index,
                                                                                             communities)
    assert float((real_inside == synthetic_inside).double().mean()) > 0.98
    real_between = inter_community_edges(d.edge_index, communities, C)
    assert torch.allclose(inter_community_edges(released.edge_index, communities, C), real_between, atol=1)
    real, synthetic = simple_degrees(d), simple_degrees(released)
    assert abs(int(synthetic.sum()) - int(real.sum())) <= 0.01 * real.sum()
    # a node's inter-community edges are uniform within its community (the paper's law), so only the intra part of
    # each degree is kept node by node; the distribution is kept too
    assert np.corrcoef(real, synthetic)[0, 1] > 0.7 and ks_2samp(real, synthetic).statistic < 0.1


def test_the_release_keeps_the_real_nodes_and_only_training_labels():
    graph = _graph()
    released = _release(graph, _context(1.0))
    assert_keeps_real_nodes(released, graph)
    assert not torch.equal(released.edge_index, graph.data.edge_index)
