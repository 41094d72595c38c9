"""edge-tmf: the count's and the matrix's sensitivities checked by deleting every edge of graphs with hubs, theta
against the expected passing count, the linear-cost filter against the law of the thresholded full noisy matrix,
the ledger against closed forms and dp_accounting, the refused unit, the secret randomness, and the release."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
import torch
from dp_accounting.pld import privacy_loss_distribution as pld
from dp_accounting.pld.common import DifferentialPrivacyParameters
from edge_release_checks import assert_keeps_real_nodes
from hub_graphs import HUB_GRAPHS, edge_deletions, messy
from scipy.optimize import brentq
from scipy.stats import binom, chisquare, laplace
from torch_geometric.data import Data

from dpgraph.config.sections import PrivacySection
from dpgraph.data.graph import GraphDataset
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_pairs
from dpgraph.mechanisms import MECHANISMS, ReleaseContext
from dpgraph.mechanisms.edge_tmf import num_pairs, thresholded_adjacency, tmf_threshold, uniform_non_edges
from dpgraph.privacy import PureDPEvent
from dpgraph.privacy.laplace import laplace_event
from dpgraph.privacy.randomness import GeneratorRandomness

DELTA = 1e-5


def _upper_triangle(edge_index: torch.Tensor, n: int) -> torch.Tensor:
    """The N upper-triangle entries of the adjacency matrix TmF adds noise to, in row-major order."""
    dense = torch.zeros(n, n)
    pairs = simple_pairs(edge_index, n)
    dense[pairs[0], pairs[1]] = 1.0
    rows, cols = torch.triu_indices(n, n, 1)
    return dense[rows, cols]


@pytest.mark.parametrize("make", HUB_GRAPHS)
def test_deleting_any_edge_changes_the_count_by_one_and_one_matrix_entry(make):
    edge_index = make()
    n = int(edge_index.max()) + 1
    given = messy(edge_index)
    pairs = simple_pairs(given, n)
    full = _upper_triangle(given, n)
    assert full.numel() == num_pairs(n) and float(full.sum()) == pairs.size(1)
    for _, _, kept in edge_deletions(given, n):
        assert pairs.size(1) - simple_pairs(kept, n).size(1) == 1  # the count: Delta_1 = 1
        change = full - _upper_triangle(kept, n)
        assert change.abs().sum() == 1 and change.max() == 1  # the matrix: one entry by 1, Delta_1 = 1


def expected_passing(theta: float, scale: float, ones: float, total: int) -> float:
    return (total - ones) * laplace.sf(theta, scale=scale) + ones * laplace.sf(theta - 1, scale=scale)


@pytest.mark.parametrize(("scale", "ones", "total"), [
    (0.2, 5278, 3_665_278), (1.1, 5278, 3_665_278), (0.05, 40, 100), (3.0, 40, 100), (0.5, 70, 100),
    (4.0, 95, 100), (0.3, 50, 100), (1 / math.log(99), 1, 100),  # the boundary theta = 1 of the two sparse forms
])
def test_theta_makes_the_expected_passing_count_the_noisy_count(scale, ones, total):
    theta = tmf_threshold(scale, ones, total)
    assert expected_passing(theta, scale, ones, total) == pytest.approx(ones, rel=1e-9)
    # an independent root of the same equation
    root = brentq(lambda t: expected_passing(t, scale, ones, total) - ones, -200.0, 200.0, xtol=1e-13)
    assert theta == pytest.approx(root, abs=1e-9)


def test_theta_in_the_sparse_regime_is_the_closed_form():
    n, m, eps = 2708, 5278, 0.9
    total = n * (n - 1) // 2
    assert tmf_threshold(1 / eps, m, total) == pytest.approx(
        1 / eps * math.log(n * (n - 1) / (4 * m) + (math.exp(eps) - 1) / 2), rel=1e-12)
    eps = 20.0
    assert tmf_threshold(1 / eps, m, total) == pytest.approx(0.5 + math.log(n * (n - 1) / (2 * m) - 1) / (2 * eps))
    with pytest.raises(DPGraphError, match="strictly between 0 and"):
        tmf_threshold(1.0, 0, total)


class RecordingSpend:
    """A spend at a fixed noise multiplier that keeps what is recorded (many runs without a budget)."""

    def __init__(self, noise_multiplier: float) -> None:
        self.noise_multiplier, self.events = noise_multiplier, []

    def record(self, event) -> None:
        self.events.append(event)


def test_linear_cost_filter_has_the_law_of_the_thresholded_noisy_matrix():
    # every entry of A + Lap(b) passes theta independently: an edge with P[Lap > theta - 1], a non-edge with
    # P[Lap > theta]; so each pair's frequency and the number of passing non-edges (binomial) must match
    n, runs, b, theta = 9, 3000, 0.8, 1.2
    edge_index = torch.tensor([[0, 0, 0, 0, 1, 2, 5], [1, 2, 3, 4, 2, 6, 7]])
    pairs = simple_pairs(edge_index, n)
    total, m = num_pairs(n), pairs.size(1)
    spend, randomness, adjacency = RecordingSpend(b), GeneratorRandomness.seeded(5), _adjacency(pairs, n)
    frequency, non_edge_counts = torch.zeros(n, n), []
    for _ in range(runs):
        out = thresholded_adjacency(pairs, n, theta, spend, randomness)
        assert (out[0] < out[1]).all() and torch.unique(out[0] * n + out[1]).numel() == out.size(1)
        frequency[out[0], out[1]] += 1
        non_edge_counts.append(out.size(1) - int(adjacency[out[0], out[1]].sum()))
    assert spend.events == [PureDPEvent(1 / b)] * runs
    is_edge = adjacency.bool()
    rows, cols = torch.triu_indices(n, n, 1)
    p_edge, p_non_edge = laplace.sf(theta - 1, scale=b), laplace.sf(theta, scale=b)
    expected = torch.where(is_edge[rows, cols], p_edge, p_non_edge).double()
    observed = frequency[rows, cols].double() / runs
    z = (observed - expected) / torch.sqrt(expected * (1 - expected) / runs)
    assert z.abs().max() < 4.5  # 36 pairs, each a binomial frequency
    counts = np.bincount(non_edge_counts, minlength=total - m + 1)
    law = binom.pmf(np.arange(total - m + 1), total - m, p_non_edge)
    live = law * runs >= 5
    observed_cells = np.append(counts[live], counts[~live].sum())
    assert chisquare(observed_cells, np.append(law[live], law[~live].sum()) * runs).pvalue > 1e-3


def _adjacency(pairs: torch.Tensor, n: int) -> torch.Tensor:
    dense = torch.zeros(n, n)
    dense[pairs[0], pairs[1]] = 1.0
    return dense


def test_uniform_non_edges_is_a_uniform_subset_of_the_non_edges():
    n, runs = 7, 4000
    pairs = simple_pairs(torch.tensor([[0, 0, 1, 3], [1, 2, 2, 6]]), n)
    randomness = GeneratorRandomness.seeded(2)
    counts = torch.zeros(n, n)
    for _ in range(runs):
        out = uniform_non_edges(pairs, n, 5, randomness)
        assert out.shape == (2, 5) and (out[0] < out[1]).all() and torch.unique(out[0] * n + out[1]).numel() == 5
        counts[out[0], out[1]] += 1
    assert not counts[pairs[0], pairs[1]].any()
    rows, cols = torch.triu_indices(n, n, 1)
    free = ~_adjacency(pairs, n).bool()[rows, cols]
    observed = counts[rows, cols][free].numpy()
    assert observed.sum() == 5 * runs
    assert chisquare(observed).pvalue > 1e-3  # every non-edge equally likely
    # every non-edge, or none; more is refused
    assert uniform_non_edges(pairs, n, 0, randomness).shape == (2, 0)
    assert uniform_non_edges(pairs, n, int(free.sum()), randomness).size(1) == int(free.sum())
    with pytest.raises(DPGraphError, match="cannot draw 18 distinct non-edges from 17"):
        uniform_non_edges(pairs, n, 18, randomness)


def _sbm_graph(num_nodes: int = 300) -> GraphDataset:
    data = random_split(make_sbm_graph(SBMParams(num_nodes=num_nodes)), (0.6, 0.2, 0.2), seed=0)
    return GraphDataset(name="sbm", data=data, num_classes=3)


def _context(epsilon: float, secret: int, public: int = 0, unit: str = "edge") -> ReleaseContext:
    mechanism = MECHANISMS.get("edge-tmf")()
    privacy = PrivacySection(epsilon=epsilon, delta=DELTA, unit=unit, randomness="reproducible")
    context = ReleaseContext.create(privacy, mechanism, seed=public)
    context.secret = GeneratorRandomness.seeded(secret)
    return context


def _run(graph: GraphDataset, context: ReleaseContext):
    mechanism = MECHANISMS.get("edge-tmf")()
    return mechanism.release(graph, mechanism.Params(), context).data


def two_pure_epsilon(eps1: float, eps2: float, delta: float) -> float:
    """The least eps with hockey-stick <= delta for RR_eps1 x RR_eps2: the four outcomes (each bit true or flipped),
    (P(o) - e^eps Q(o))_+ summed, P the product of the bits' probabilities and Q the same with the bits swapped."""

    def hockey(eps: float) -> float:
        total = 0.0
        for flips in product((0, 1), repeat=2):
            p = q = 1.0
            for flipped, e in zip(flips, (eps1, eps2), strict=True):
                keep, flip = 1 / (1 + math.exp(-e)), 1 / (1 + math.exp(e))
                p, q = p * (flip if flipped else keep), q * (keep if flipped else flip)
            total += max(0.0, p - math.exp(eps) * q)
        return total

    return brentq(lambda eps: hockey(eps) - delta, 0.0, eps1 + eps2, xtol=1e-13)


@pytest.mark.parametrize("epsilon", [1.0, 4.0])
def test_ledger_meets_the_target_with_two_pure_events(epsilon):
    context = _context(epsilon, secret=1)
    _run(_sbm_graph(), context)
    ledger = context.budget.ledger
    (count_stage, count), (matrix_stage, matrix) = ledger.events
    assert (count_stage, matrix_stage) == ("count", "matrix")
    assert isinstance(count, PureDPEvent) and isinstance(matrix, PureDPEvent)
    alone = count.epsilon + math.log1p(-DELTA * (1 + math.exp(-count.epsilon)))  # one pure event's closed form
    assert 0.99 * 0.1 * epsilon <= alone <= 0.1 * epsilon  # the count's share of the budget
    exact = two_pure_epsilon(count.epsilon, matrix.epsilon, DELTA)
    assert ledger.epsilon() == pytest.approx(exact, rel=1e-7)
    assert 0.99 * epsilon <= ledger.epsilon() <= epsilon
    assert ledger.epsilon() < count.epsilon + matrix.epsilon  # tighter than the basic sum ...
    reference = pld.from_privacy_parameters(DifferentialPrivacyParameters(count.epsilon, 0.0)).compose(
        pld.from_privacy_parameters(DifferentialPrivacyParameters(matrix.epsilon, 0.0)))
    assert ledger.epsilon() <= reference.get_epsilon_for_delta(DELTA) + 1e-6  # ... and within dp_accounting's PLD
    assert laplace_event(1 / matrix.epsilon) == matrix


def test_a_node_level_run_is_refused():
    graph, mechanism = _sbm_graph(), MECHANISMS.get("edge-tmf")()
    with pytest.raises(DPGraphError, match="supports privacy.unit edge, not 'node'") as err:
        mechanism.check(PrivacySection(epsilon=1.0, unit="node"), graph, mechanism.Params())
    assert "\n" not in str(err.value)
    with pytest.raises(DPGraphError, match="differentially private"):
        mechanism.check(PrivacySection(epsilon=None, unit="edge"), graph, mechanism.Params())
    mechanism.check(PrivacySection(epsilon=1.0, unit="edge"), graph, mechanism.Params())
    pair = Data(x=torch.zeros(2, 3), edge_index=torch.tensor([[0, 1], [1, 0]]), y=torch.tensor([0, 1]), num_nodes=2)
    tiny = GraphDataset(name="tiny", data=pair, num_classes=2)
    with pytest.raises(DPGraphError, match="at least 3 nodes, got 2"):
        mechanism.check(PrivacySection(epsilon=1.0, unit="edge"), tiny, mechanism.Params())


def test_release_keeps_the_real_nodes_and_draws_only_secret_randomness():
    graph = _sbm_graph()
    state = torch.get_rng_state()
    released = _run(graph, _context(2.0, secret=3, public=0))
    assert torch.equal(torch.get_rng_state(), state)
    assert_keeps_real_nodes(released, graph)
    edges = released.edge_index
    # the edges depend on the secret source only: another public seed changes nothing, another secret does
    assert torch.equal(edges, _run(graph, _context(2.0, secret=3, public=7)).edge_index)
    assert not torch.equal(edges, _run(graph, _context(2.0, secret=4, public=0)).edge_index)


def test_output_size_is_about_m_and_kept_true_edges_grow_with_epsilon():
    graph = _sbm_graph(400)
    n = graph.num_nodes
    real = simple_pairs(graph.data.edge_index, n)
    real_keys = set((real[0] * n + real[1]).tolist())
    m = real.size(1)
    kept_share = []
    for epsilon in (0.5, 2.0, 6.0, 30.0):
        sizes, kept = [], []
        for secret in range(4):
            out = simple_pairs(_run(graph, _context(epsilon, secret)).edge_index, n)
            sizes.append(out.size(1))
            kept.append(len(real_keys & set((out[0] * n + out[1]).tolist())) / m)
        # about m~ pass in expectation; m~ = m + Lap(10 / eps) and the passes add a few sqrt(m)
        assert abs(np.mean(sizes) - m) < 3 * (10 / epsilon + math.sqrt(m)), epsilon
        kept_share.append(np.mean(kept))
    assert all(a < b for a, b in zip(kept_share, kept_share[1:], strict=False)), kept_share
    assert kept_share[-1] > 0.99 and kept_share[0] < 0.2
