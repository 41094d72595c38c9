"""dp-graph-generator: the composed ledger against an independent accountant, what is read, the synthetic graph's
shape, and the pipeline end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from dp_accounting.pld import privacy_loss_distribution as pld
from dp_accounting.pld.common import DifferentialPrivacyParameters
from scipy.stats import ks_2samp

from dpgraph.config.sections import PrivacySection
from dpgraph.data.graph import GraphDataset
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_degrees
from dpgraph.mechanisms import MECHANISMS, ReleaseContext
from dpgraph.privacy import GaussianEvent, PureDPEvent

STAGES = ["sizes", "theta", "degrees", "edges", "features"]


def _graph(num_nodes: int = 400) -> GraphDataset:
    data = make_sbm_graph(SBMParams(num_nodes=num_nodes, num_classes=3, num_features=24, p_in=0.05, p_out=0.005))
    return GraphDataset("sbm", random_split(data, (0.75, 0.1, 0.15), seed=0), num_classes=3)


def _release(graph: GraphDataset, epsilon: float | None, seed: int = 0, **params):
    """One release; the class-means features (fast) unless ``features`` says otherwise."""
    params = {"features": {"kind": "means"}, **params}
    mechanism = MECHANISMS.get("dp-graph-generator")()
    privacy = PrivacySection(epsilon=epsilon, delta=1e-5, randomness="reproducible")
    context = ReleaseContext.create(privacy, mechanism, seed=seed, progress=False)
    released = mechanism.release(graph, mechanism.Params(**params), context).data
    return released, context


def _pld_epsilon(events: list, delta: float) -> float:
    """dp_accounting's PLD of the same composition: each Gaussian, and each pure event as an (eps, 0) mechanism."""
    composed = pld.identity()
    for event in events:
        composed = composed.compose(pld.from_gaussian_mechanism(event.noise_multiplier)
                                    if isinstance(event, GaussianEvent)
                                    else pld.from_privacy_parameters(DifferentialPrivacyParameters(event.epsilon, 0.0)))
    return composed.get_epsilon_for_delta(delta)


@pytest.mark.parametrize("epsilon", [1.0, 4.0])
def test_every_stage_spends_once_and_the_total_meets_an_independent_accountant(epsilon):
    released, context = _release(_graph(), epsilon, features={"kind": "merf", "steps": 20})
    ledger = context.budget.ledger
    assert [stage for stage, _ in ledger.events] == STAGES
    events = [event for _, event in ledger.events]
    assert isinstance(events[1], PureDPEvent) and all(isinstance(e, GaussianEvent) for i, e in enumerate(events)
                                                          if i != 1)
    assert 0.99 * epsilon <= ledger.epsilon() <= epsilon
    assert ledger.epsilon() <= _pld_epsilon(events, 1e-5) * (1 + 1e-3)  # the exact mixture is never looser than PLD
    assert _pld_epsilon(events, 1e-5) <= ledger.epsilon() * 1.02


def test_the_synthetic_graph_has_the_public_size_the_split_masks_and_every_class():
    graph = _graph()
    released, _ = _release(graph, 4.0)
    assert released.num_nodes == graph.num_nodes and released.x.shape == graph.data.x.shape
    assert set(released.x.unique().tolist()) <= {0.0, 1.0}
    assert set(released.y.tolist()) == {0, 1, 2}
    for key in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(released[key], graph.data[key])
    for c in range(3):  # the public label order: every class is cut by the training mask alike
        assert int((released.y[released.train_mask] == c).sum()) > 0.5 * int((released.y == c).sum()) * 0.75


@pytest.mark.parametrize("histograms", ["per-class", "pooled"])
def test_only_training_labels_and_features_are_read(histograms):
    graph = _graph()
    altered = graph.data.clone()
    outside = ~(graph.data.train_mask & (graph.data.y >= 0))
    altered.y[outside] = (altered.y[outside] + 1) % 3
    altered.x[outside] = 1.0 - altered.x[outside]
    first, _ = _release(graph, 4.0, degree_histograms=histograms)
    second, _ = _release(GraphDataset("sbm", altered, num_classes=3), 4.0, degree_histograms=histograms)
    assert torch.equal(first.edge_index, second.edge_index) and torch.equal(first.x, second.x)
    assert torch.equal(first.y, second.y)


def test_the_noiseless_ceiling_matches_the_real_degree_distribution_and_homophily():
    graph = _graph(600)
    released, context = _release(graph, None, structure="dcsbm")
    assert context.budget is None
    real, synthetic = simple_degrees(graph.data), simple_degrees(released)
    assert ks_2samp(real, synthetic).statistic < 0.15
    assert abs(real.mean() - synthetic.mean()) < 0.15 * real.mean()
    src, dst = released.edge_index
    homophily = float((released.y[src] == released.y[dst]).float().mean())
    real_src, real_dst = graph.data.edge_index
    real_homophily = float((graph.data.y[real_src] == graph.data.y[real_dst]).float().mean())
    assert abs(homophily - real_homophily) < 0.1


def test_bter_adds_triangles_that_the_degree_corrected_model_lacks():
    graph = _graph(600)
    counts = []
    for structure in ("dcsbm", "bter"):
        released, _ = _release(graph, None, structure=structure, block_density=0.8)
        a = torch.zeros(released.num_nodes, released.num_nodes)
        a[released.edge_index[0], released.edge_index[1]] = 1.0
        counts.append(float(torch.trace(a @ a @ a)) / 6)
    assert counts[1] > 3 * max(counts[0], 1.0)


def test_a_unit_other_than_node_and_a_bad_grid_are_refused():
    mechanism = MECHANISMS.get("dp-graph-generator")()
    with pytest.raises(DPGraphError, match="supports privacy.unit node"):
        mechanism.check(PrivacySection(epsilon=1.0, unit="edge"), _graph(), mechanism.Params())
    with pytest.raises(ValueError, match="distinct integers >= 1"):
        mechanism.Params(theta_grid=[0, 4])


def test_fresh_secret_noise_changes_the_release_but_not_the_budget():
    graph = _graph()
    mechanism = MECHANISMS.get("dp-graph-generator")()
    epsilons, degrees = [], []
    for _ in range(2):
        context = ReleaseContext.create(PrivacySection(epsilon=2.0, delta=1e-5), mechanism, seed=0, progress=False)
        released = mechanism.release(graph, mechanism.Params(features={"kind": "means"}), context).data
        epsilons.append(context.budget.ledger.epsilon())
        degrees.append(np.sort(simple_degrees(released)))
    assert math.isclose(*epsilons, rel_tol=1e-9)
    assert not np.array_equal(*degrees)
