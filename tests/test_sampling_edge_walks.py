"""Walks on the mutual top-f view as edge-level DP-SGD units: the occurrence bound K checked by deleting every edge
of graphs with hubs and counting the walks that change under the coupled randomness (same view key, same
uniforms), and the K-occurrence event of the mechanism's ``examples: walks``."""

from __future__ import annotations

import pytest
import torch
from hub_graphs import HUB_GRAPHS, edge_deletions, messy

from dpgraph.config.sections import PrivacySection
from dpgraph.data.graph import GraphDataset
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.mechanisms import MECHANISMS, ReleaseContext
from dpgraph.privacy import SelfComposedEvent, SubgraphSampledGaussianEvent
from dpgraph.sampling.edge_walks import ball_size, view_walks, walk_occurrence_bound


def test_ball_sizes_and_the_bound():
    assert [ball_size(3, r) for r in range(4)] == [1, 4, 10, 22]
    assert walk_occurrence_bound(1000, 3, 2, 1) == 2 * 4  # L = 1: the walks of the four changed nodes
    assert walk_occurrence_bound(1000, 3, 2, 3) == 2 * 4 * 10
    assert walk_occurrence_bound(20, 5, 2, 4) == 2 * 20  # never more than all N = n R walks
    with pytest.raises(ValueError, match="walk_length"):
        walk_occurrence_bound(10, 3, 1, 0)


def _walks(edge_index: torch.Tensor, n: int, f: int, walks_per_node: int, length: int) -> torch.Tensor:
    return view_walks(edge_index, n, f, 7, walks_per_node, length, torch.Generator().manual_seed(3))


@pytest.mark.parametrize("make", HUB_GRAPHS)
@pytest.mark.parametrize(("f", "walks_per_node", "length"), [(3, 2, 1), (2, 1, 2), (3, 1, 3)])
def test_deleting_any_edge_changes_at_most_k_walks(make, f, walks_per_node, length):
    edge_index = messy(make())
    n = int(edge_index.max()) + 1
    bound = walk_occurrence_bound(n, f, walks_per_node, length)
    full = _walks(edge_index, n, f, walks_per_node, length)
    assert full.shape == (n * walks_per_node, length + 1)
    assert torch.equal(full[:, 0], torch.arange(n).repeat_interleave(walks_per_node))
    worst = 0
    for _, _, kept in edge_deletions(edge_index, n):
        changed = int((full != _walks(kept, n, f, walks_per_node, length)).any(1).sum())
        assert changed <= bound
        worst = max(worst, changed)
    assert worst > 0  # deletions do move walks: the check is not vacuous


def test_the_walk_examples_are_accounted_as_k_occurrence_dp_sgd():
    data = make_sbm_graph(SBMParams(num_nodes=200, num_classes=3, num_features=16, p_in=0.05, p_out=0.005))
    graph = GraphDataset("sbm", random_split(data, (0.75, 0.1, 0.15), seed=0), num_classes=3)
    mechanism = MECHANISMS.get("edge-link-generator")()
    privacy = PrivacySection(epsilon=4.0, delta=1e-5, unit="edge", randomness="reproducible")
    context = ReleaseContext.create(privacy, mechanism, seed=0, progress=False)
    params = mechanism.Params(examples="walks", num_edges=300, steps=5, sample_rate=0.2, svd_rank=8, hidden=8,
                              embedding=4, view_degree=3, walks_per_node=2, walk_length=1)
    released = mechanism.release(graph, params, context).data
    [(stage, event)] = context.budget.ledger.events
    step = event.event
    assert stage == "train" and isinstance(event, SelfComposedEvent) and event.count == 5
    assert isinstance(step, SubgraphSampledGaussianEvent)
    assert (step.occurrences, step.num_subgraphs, step.sampling_probability) == (8, 400, 0.2)
    assert 0.99 * 4.0 <= context.budget.ledger.epsilon() <= 4.0 and released.edge_index.size(1) == 600
