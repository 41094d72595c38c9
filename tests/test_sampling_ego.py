"""Ego sampler and SubgraphSet: occurrence bound, node-stability under node removal, batches, CLI stats."""

from __future__ import annotations

import json
import re

import networkx as nx
import pytest
import torch
from click.testing import CliRunner
from dense_reference import dense_batch_one_by_one
from hypothesis import given, settings
from hypothesis import strategies as st

from dpgraph.cli import main
from dpgraph.errors import DPGraphError
from dpgraph.privacy.randomness import GeneratorRandomness
from dpgraph.sampling import PAD, SubgraphSet
from dpgraph.sampling.ego import ego_occurrence_bound, ego_subgraphs
from dpgraph.sampling.params import SamplerParams


def random_graph(n: int, p: float, seed: int) -> torch.Tensor:
    g = nx.gnp_random_graph(n, p, seed=seed)
    edges = torch.tensor(list(g.edges), dtype=torch.long).T.reshape(2, -1)
    return torch.cat([edges, edges.flip(0)], dim=1)


def max_degree(edge_index: torch.Tensor, n: int) -> int:
    return int(torch.bincount(edge_index[0], minlength=n).max()) if edge_index.numel() else 0


def rows_as_sets(subgraphs: SubgraphSet) -> dict[int, tuple[int, ...]]:
    return {int(r[0]): tuple(int(v) for v in r if v != PAD) for r in subgraphs.nodes}


graphs = st.tuples(st.integers(4, 30), st.floats(0.05, 0.5), st.integers(0, 10_000))


@settings(max_examples=40, deadline=None)
@given(graphs, st.integers(0, 3), st.integers(1, 4), st.integers(0, 100))
def test_occurrences_never_exceed_the_degree_bound(graph, hops, fanout, seed):
    n, p, gseed = graph
    edge_index = random_graph(n, p, gseed)
    d = max(max_degree(edge_index, n), 1)
    roots = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[: max(1, n // 2)]
    result = ego_subgraphs(edge_index, n, roots, hops, fanout, GeneratorRandomness.seeded(seed), max_degree=d)
    expected_k = min(len(roots), sum(d**i for i in range(hops + 1)))
    assert result.occurrence_bound == expected_k
    assert int(result.occurrences(n).max()) <= expected_k
    assert torch.equal(result.roots, roots)
    for row in result.nodes:  # distinct ids, padding only at the end, size <= sum fanout^i, all within `hops`
        ids = row[row != PAD]
        assert ids.unique().numel() == ids.numel() and bool((row[ids.numel():] == PAD).all())
        assert ids.numel() <= sum(fanout**i for i in range(hops + 1))
        g = nx.Graph(edge_index.T.tolist())
        g.add_nodes_from(range(n))
        dist = nx.single_source_shortest_path_length(g, int(row[0]), cutoff=hops)
        assert all(int(v) in dist for v in ids)


@settings(max_examples=40, deadline=None)
@given(graphs, st.integers(1, 3), st.integers(1, 3), st.integers(0, 100))
def test_removing_a_node_changes_only_rows_that_contained_it(graph, hops, fanout, seed):
    """Node-stability, checked by actually deleting node v (its edges and its row) with the same seed."""
    n, p, gseed = graph
    edge_index = random_graph(n, p, gseed)
    v = seed % n
    kept = (edge_index[0] != v) & (edge_index[1] != v)
    roots = torch.arange(n)
    before = rows_as_sets(ego_subgraphs(edge_index, n, roots, hops, fanout, GeneratorRandomness.seeded(seed),
                                        max_degree=n))
    after = rows_as_sets(ego_subgraphs(edge_index[:, kept], n, roots[roots != v], hops, fanout,
                                       GeneratorRandomness.seeded(seed), max_degree=n))
    changed = [r for r in after if after[r] != before[r]]
    assert all(v in before[r] for r in changed)


def test_hops_zero_is_one_node_per_subgraph_without_a_promise():
    edge_index = random_graph(10, 0.5, 0)
    result = ego_subgraphs(edge_index, 10, torch.arange(10), 0, 3, GeneratorRandomness.seeded(0))
    assert result.singleton and result.node_stable and result.nodes.shape == (10, 1)


def test_ego_refuses_graphs_that_break_the_degree_promise():
    edge_index = random_graph(20, 0.5, 1)
    with pytest.raises(DPGraphError, match="max_degree"):
        ego_subgraphs(edge_index, 20, torch.arange(5), 1, 3, GeneratorRandomness.seeded(0), max_degree=2)
    with pytest.raises(ValueError, match="distinct"):
        ego_subgraphs(edge_index, 20, torch.tensor([1, 1]), 0, 3, GeneratorRandomness.seeded(0))


def test_occurrence_bound_formula():
    assert ego_occurrence_bound(0, 7, 100) == 1
    assert ego_occurrence_bound(2, 3, 100) == 1 + 3 + 9
    assert ego_occurrence_bound(2, 30, 100) == 100


def test_dense_batch_equals_the_per_subgraph_builder():
    edge_index = random_graph(25, 0.2, 3)
    x, y = torch.randn(25, 6), torch.randint(3, (25,))
    result = ego_subgraphs(edge_index, 25, torch.arange(0, 25, 2), 2, 3, GeneratorRandomness.seeded(1),
                           max_degree=25)
    fast = result.dense_batch(x, edge_index, y, chunk=4)
    lists = [row[row != PAD] for row in result.nodes]
    slow = dense_batch_one_by_one(x, edge_index, y, lists, result.max_size)
    for a, b in zip((fast.x, fast.adj, fast.mask, fast.root, fast.y), (slow.x, slow.adj, slow.mask, slow.root, slow.y),
                    strict=True):
        assert torch.allclose(a.float(), b.float())
    batch = result.pyg_batch(x, edge_index, y)
    assert batch.num_graphs == len(result) and torch.equal(batch.y, y[result.roots])
    assert int(batch.num_nodes) == int(result.sizes().sum())


def test_check_bound_catches_a_broken_promise():
    broken = SubgraphSet(torch.tensor([[0, 2], [1, 2]]), occurrence_bound=1, node_stable=True, sampler="t")
    with pytest.raises(AssertionError, match="occurrence bound"):
        broken.check_bound(3)


def test_sampler_params_refuse_unstable_samplers_in_private_runs():
    path = torch.tensor([[0, 1, 2], [1, 2, 3]])
    with pytest.raises(DPGraphError, match="not node-stable"):
        SamplerParams(kind="random-walk").check_private(path, 4)
    SamplerParams(kind="ego", hops=1, max_degree=4).check_private(path, 4)
    with pytest.raises(DPGraphError, match="max_degree"):
        SamplerParams(kind="ego", hops=1).check_private(path, 4)


def test_attributes_unit_accepts_every_sampler_without_a_promise():
    """Public edges: no node-stability or degree promise is needed, and K is the set's observed maximum."""
    star = torch.stack([torch.zeros(30, dtype=torch.long), torch.arange(1, 31)])
    for params in (SamplerParams(kind="random-walk", occurrence_bound=3), SamplerParams(kind="ego", hops=1)):
        assert params.node_unit_problem() is not None  # refused under the node unit ...
        params.check_private(star, 31, "attributes")  # ... accepted under the attributes unit
        result = params.build(star, 31, torch.arange(31), GeneratorRandomness.seeded(0), "attributes")
        observed = int(result.occurrences(31).max())
        assert result.occurrence_bound == observed >= 2
        assert result.accounting_occurrences("attributes") == observed
    ego = SamplerParams(kind="ego", hops=1, fanout=40)
    hub_rows = ego.build(star, 31, torch.arange(31), GeneratorRandomness.seeded(0), "attributes")
    assert hub_rows.occurrence_bound == 31  # the hub is in every leaf's ego net and its own
    single = SamplerParams().build(star, 31, torch.arange(31), GeneratorRandomness.seeded(0), "attributes")
    assert single.singleton and single.accounting_occurrences("attributes") == 1
    assert single.accounting_occurrences("node") is None  # add/remove of a one-node row: plain DP-SGD


def test_degree_promise_refusal_names_the_promise_and_no_private_number():
    hub_degree = 37
    star = torch.stack([torch.zeros(hub_degree, dtype=torch.long), torch.arange(1, hub_degree + 1)])
    with pytest.raises(DPGraphError) as refusal:
        SamplerParams(kind="ego", hops=1, max_degree=5).check_private(star, hub_degree + 1)
    numbers = {int(n) for n in re.findall(r"\d+", str(refusal.value))}
    assert "max_degree=5" in str(refusal.value)
    assert numbers <= {5, 0}  # the promise and "hops: 0"; never the hub's degree or its id


def sbm_gnn_config(**sampler) -> dict:
    return {
        "name": "sample", "seed": 0,
        "dataset": {"name": "sbm", "split": "random", "num_nodes": 200},
        "privacy": {"epsilon": 4.0, "delta": 1e-5, "unit": "node"},
        "method": {"name": "dp-gnn", "sampler": sampler, "steps": 5},
    }


def test_cli_sample_stats(write_pipeline):
    path = write_pipeline(sbm_gnn_config(kind="ego", hops=1, fanout=4, max_degree=200))
    out = CliRunner().invoke(main, ["sample", str(path), "--stats"])
    assert out.exit_code == 0, out.output
    stats = json.loads(out.output)
    assert stats["max_occurrence"] <= stats["occurrence_bound"] == min(stats["num_subgraphs"], 201)
    assert set(stats) >= {"num_subgraphs", "max_occurrence", "mean_size", "occurrence_bound"}
    walk = write_pipeline(sbm_gnn_config(kind="random-walk", occurrence_bound=3), "walk.yaml")
    refused = CliRunner().invoke(main, ["sample", str(walk), "--stats"])
    assert refused.exit_code == 2 and "not node-stable" in refused.output
    open_run = CliRunner().invoke(main, ["sample", str(walk), "--stats", "--set", "privacy.epsilon=null"])
    assert open_run.exit_code == 0 and json.loads(open_run.output)["max_occurrence"] <= 3
