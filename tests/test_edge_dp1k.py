"""edge-dp1k: the degree vector's sensitivity checked by deleting every edge of graphs with hubs, the post-processing
to a graphical sequence, the ledger against a closed form, the refused unit, the randomness, and the release (real
nodes kept, degrees tracking the real ones at large epsilon)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from edge_release_checks import assert_keeps_real_nodes
from hub_graphs import HUB_GRAPHS, edge_deletions, messy
from privacy_reference import closed_form_gaussians_epsilon, dp_accounting_gaussians_epsilon
from torch_geometric.data import Data

from dpgraph.config.sections import PrivacySection
from dpgraph.data.graph import GraphDataset
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_degrees, simple_pairs
from dpgraph.mechanisms import MECHANISMS, ReleaseContext
from dpgraph.mechanisms.edge_dp1k import DEGREE_SENSITIVITY, graphical_degrees
from dpgraph.privacy import GaussianEvent
from dpgraph.privacy.randomness import GeneratorRandomness

DELTA = 1e-5


def _degrees(edge_index: torch.Tensor, n: int) -> np.ndarray:
    return simple_degrees(Data(edge_index=edge_index, num_nodes=n))


@pytest.mark.parametrize("make", HUB_GRAPHS)
def test_deleting_any_edge_moves_exactly_two_degrees_by_one(make):
    edge_index = make()
    n = int(edge_index.max()) + 1
    given = messy(edge_index)
    full = _degrees(given, n)
    assert full.sum() == 2 * simple_pairs(given, n).size(1)
    worst = 0.0
    for u, w, kept in edge_deletions(given, n):
        change = full - _degrees(kept, n)
        assert sorted(np.flatnonzero(change).tolist()) == sorted([u, w]) and change[[u, w]].tolist() == [1, 1]
        worst = max(worst, float(np.linalg.norm(change)))
    assert worst == pytest.approx(DEGREE_SENSITIVITY)  # L2 sqrt(2), attained by every edge (L1 2)


def test_post_processing_gives_an_even_sum_of_integers_in_range():
    generator = torch.Generator().manual_seed(0)
    noisy = torch.tensor([-3.2, 0.4, 1.6, 2.5, 9.7, 4.49])  # n = 6: degrees at most 5
    degrees = graphical_degrees(noisy, generator)
    rounded = np.array([0, 0, 2, 2, 5, 4])  # round half to even, clamp to [0, 5]; sum 13 is odd
    assert degrees.dtype == np.int64 and degrees.sum() % 2 == 0
    assert degrees.min() >= 0 and degrees.max() <= 5
    bumped = degrees - rounded
    assert sorted(bumped.tolist()) == [0, 0, 0, 0, 0, 1] and rounded[bumped == 1][0] < 5  # +1 below n - 1
    even = torch.tensor([1.0, 1.2, 3.0, 0.7])
    assert graphical_degrees(even, generator).tolist() == [1, 1, 3, 1]  # already even: only rounded
    # the +1 goes to a node drawn with the public generator
    picks = {int(np.argmax(graphical_degrees(torch.tensor([1.0, 0.0, 0.0, 0.0, 0.0]), torch.Generator().manual_seed(s))
                           - np.array([1, 0, 0, 0, 0]))) for s in range(40)}
    assert len(picks) > 2


def _sbm_graph(num_nodes: int = 300) -> GraphDataset:
    data = random_split(make_sbm_graph(SBMParams(num_nodes=num_nodes)), (0.6, 0.2, 0.2), seed=0)
    return GraphDataset(name="sbm", data=data, num_classes=3)


def _context(epsilon: float, secret: int, public: int = 0) -> ReleaseContext:
    privacy = PrivacySection(epsilon=epsilon, delta=DELTA, unit="edge", randomness="reproducible")
    context = ReleaseContext.create(privacy, MECHANISMS.get("edge-dp1k")(), seed=public)
    context.secret = GeneratorRandomness.seeded(secret)
    return context


def _run(graph: GraphDataset, context: ReleaseContext):
    mechanism = MECHANISMS.get("edge-dp1k")()
    return mechanism.release(graph, mechanism.Params(), context).data


@pytest.mark.parametrize("epsilon", [1.0, 4.0])
def test_ledger_is_one_gaussian_meeting_the_target(epsilon):
    context = _context(epsilon, secret=0)
    _run(_sbm_graph(), context)
    ledger = context.budget.ledger
    [(stage, event)] = ledger.events
    assert stage == "degrees" and isinstance(event, GaussianEvent)
    exact = closed_form_gaussians_epsilon([event.noise_multiplier], DELTA)  # Balle & Wang's analytic Gaussian
    assert ledger.epsilon() == pytest.approx(exact, rel=1e-6)
    assert 0.99 * epsilon <= ledger.epsilon() <= epsilon
    assert dp_accounting_gaussians_epsilon([event.noise_multiplier], DELTA) > ledger.epsilon()  # RDP is looser


def test_a_node_level_run_is_refused():
    graph, mechanism = _sbm_graph(), MECHANISMS.get("edge-dp1k")()
    with pytest.raises(DPGraphError, match="supports privacy.unit edge, not 'node'") as err:
        mechanism.check(PrivacySection(epsilon=1.0, unit="node"), graph, mechanism.Params())
    assert "\n" not in str(err.value)
    mechanism.check(PrivacySection(epsilon=1.0, unit="edge"), graph, mechanism.Params())


def test_release_keeps_the_real_nodes_and_noise_comes_from_the_secret_source():
    graph = _sbm_graph()
    released = _run(graph, _context(2.0, secret=3, public=0))
    assert_keeps_real_nodes(released, graph)
    edges = released.edge_index
    assert torch.equal(edges, _run(graph, _context(2.0, secret=3, public=0)).edge_index)
    other_secret = _degrees(_run(graph, _context(2.0, secret=4, public=0)).edge_index, graph.num_nodes)
    assert not np.array_equal(_degrees(edges, graph.num_nodes), other_secret)  # the noise is the secret source's


def test_degrees_track_the_real_ones_at_large_epsilon():
    graph = _sbm_graph()
    n, real = graph.num_nodes, simple_degrees(graph.data)
    errors = []
    for epsilon in (1.0, 8.0, 200.0):
        released = _degrees(_run(graph, _context(epsilon, secret=1)).edge_index, n)
        errors.append(np.abs(released - real).mean())
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.05  # sigma * sqrt(2) < 0.5: rounding recovers nearly every degree, wired nearly exactly
    assert errors[0] > 1.0  # at epsilon 1 the noise (std about 5) is visible
    assert math.isclose(_degrees(_run(graph, _context(200.0, secret=1)).edge_index, n).sum(), real.sum(), rel_tol=0.01)


def test_deconvolved_degree_estimate_spends_the_same_and_keeps_the_edge_count():
    graph, mechanism = _sbm_graph(), MECHANISMS.get("edge-dp1k")()
    real = simple_degrees(graph.data).sum()
    counts = {}
    for estimate in ("rounded", "deconvolved"):
        context = _context(1.0, secret=2)
        released = mechanism.release(graph, mechanism.Params(degree_estimate=estimate), context).data
        [(stage, event)] = context.budget.ledger.events  # post-processing only: the same single Gaussian
        assert stage == "degrees" and isinstance(event, GaussianEvent)
        counts[estimate] = _degrees(released.edge_index, graph.num_nodes).sum()
    assert abs(counts["deconvolved"] - real) < abs(counts["rounded"] - real)  # clamping at 0 inflates the count
