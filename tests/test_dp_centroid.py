"""dp-centroid: sensitivity by node removal, what it reads, the release, and its epsilon (independent check)."""

from __future__ import annotations

import pytest
import torch
from privacy_reference import closed_form_gaussians_epsilon, dp_accounting_gaussians_epsilon

from dpgraph.config.sections import PrivacySection
from dpgraph.data.graph import GraphDataset
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.graphops import normalized_class_sums
from dpgraph.mechanisms import MECHANISMS, ReleaseContext


@pytest.mark.parametrize("seed", range(3))
def test_sum_sensitivity_is_one_when_any_node_is_removed(seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(30, 8, generator=gen) * torch.randint(0, 5, (30, 1), generator=gen)  # some all-zero rows
    y = torch.randint(0, 3, (30,), generator=gen)
    full = normalized_class_sums(x, y, 3)
    worst = max(float((full - normalized_class_sums(x[torch.arange(30) != v], y[torch.arange(30) != v], 3)).norm())
                for v in range(30))
    assert worst <= 1.0 + 1e-9 and worst > 0.99  # the bound is attained by any non-zero row


def _graph() -> GraphDataset:
    data = random_split(make_sbm_graph(SBMParams(num_nodes=300)), (0.6, 0.2, 0.2), seed=0)
    return GraphDataset(name="sbm", data=data, num_classes=3)


def _release(graph: GraphDataset, epsilon: float = 2.0):
    mechanism = MECHANISMS.get("dp-centroid")()
    context = ReleaseContext.create(PrivacySection(epsilon=epsilon, randomness="reproducible"), mechanism, seed=0)
    return mechanism.release(graph, mechanism.Params(), context).data, context.budget.ledger


def test_reads_only_training_features_and_labels():
    graph = _graph()
    released, _ = _release(graph)
    other = graph.data.clone()
    other.y[~other.train_mask] = (other.y[~other.train_mask] + 1) % 3
    other.x[~other.train_mask] = 1.0 - other.x[~other.train_mask]
    other.edge_index = other.edge_index[:, :10]
    again, _ = _release(GraphDataset(name="sbm", data=other, num_classes=3))
    assert torch.equal(released.x, again.x)


def test_release_is_one_node_per_class_and_epsilon_matches_dp_accounting():
    released, ledger = _release(_graph(), epsilon=2.0)
    assert released.num_nodes == 3 and released.y.tolist() == [0, 1, 2] and released.edge_index.numel() == 0
    assert float(released.x.min()) >= 0
    [(stage, event)] = ledger.events
    assert stage == "sums"
    exact = closed_form_gaussians_epsilon([event.noise_multiplier], 1e-5)
    assert ledger.accounted_with() == "analytic-gaussian"
    assert exact <= ledger.epsilon() <= exact * (1 + 1e-9)  # the default is the exact value, never below it
    rdp = dp_accounting_gaussians_epsilon([event.noise_multiplier], 1e-5)  # the old default: about 8% looser
    assert rdp > 1.05 * ledger.epsilon()
    assert 0.99 * 2.0 <= ledger.epsilon() <= 2.0


def test_non_private_run_releases_the_exact_sums_through_the_pipeline(smoke_config, write_pipeline, tmp_path):
    from dpgraph import load_config, run_pipeline
    from dpgraph.data.graph_io import load_graph_pt

    config = {**smoke_config, "privacy": {"epsilon": None}, "method": {"name": "dp-centroid"},
              "evaluate": {"models": ["centroid"], "seeds": 1}}  # smoke_config's graph is _graph()
    result = run_pipeline(load_config(write_pipeline(config)), out_dir=tmp_path / "run", progress=False)
    graph = _graph()
    labelled = graph.data.train_mask
    exact = normalized_class_sums(graph.data.x[labelled], graph.data.y[labelled], 3).float()
    assert torch.allclose(load_graph_pt(result.out_dir / "release" / "synthetic" / "graph.pt").x, exact)
    assert result.privacy["private"] is False and result.privacy["epsilon"] is None
    assert result.metrics["utility"]["centroid"]["test_acc_mean"] > 0.9
