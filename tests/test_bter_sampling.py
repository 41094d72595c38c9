"""Class-aware BTER sampling (post-processing): affinity blocks, clustering rising with block_density while the
realised degrees and class-pair counts still match their targets up to a few dropped stubs, the exact reduction to
DC-SBM at density 0, edge cases, determinism, refusals."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from test_dcsbm_sampling import classes, heavy_tailed_pmfs, pair_matrix, realised_degrees

from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_pairs, simple_undirected
from dpgraph.mechanisms.bter_sampling import affinity_blocks, sample_bter
from dpgraph.mechanisms.dcsbm_sampling import block_edge_targets, draw_degrees, sample_dcsbm
from dpgraph.resources import ENV_VAR

PAIR_COUNTS = torch.tensor([900.0, 80.0, 40.0, 700.0, 60.0, 500.0])


def transitivity(edge_index: torch.Tensor, n: int) -> float:
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(simple_pairs(edge_index, n).T.tolist())
    return nx.transitivity(graph)


def synthetic_targets(seed: int) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    y = classes([1200, 1000, 800])
    degrees = draw_degrees(y, heavy_tailed_pmfs(3), np.random.default_rng(seed))
    return y, degrees, block_edge_targets(PAIR_COUNTS, np.bincount(y.numpy(), weights=degrees, minlength=3))


def test_affinity_blocks_partition_each_class_by_degree():
    labels = np.array([0] * 8 + [1] * 6)
    degrees = np.array([3, 1, 2, 3, 2, 0, 3, 5, 2, 2, 2, 2, 4, 1])
    blocks = affinity_blocks(labels, degrees, 2, np.random.default_rng(0))
    assert [degrees[b].tolist() for b in blocks] == [[2, 2, 3], [3, 3, 5], [2, 2, 2], [2, 4]]
    assert sorted(np.concatenate(blocks).tolist()) == np.flatnonzero(degrees >= 2).tolist()
    assert all(len(set(labels[b])) == 1 for b in blocks)


def test_clustering_rises_with_block_density_while_degrees_and_mixing_track_targets():
    y, degrees, targets = synthetic_targets(0)
    n = y.numel()
    dcsbm = transitivity(sample_dcsbm(y, degrees, targets, np.random.default_rng(1)), n)
    clustering = []
    for density in [0.25, 0.5, 0.75]:
        edges = sample_bter(y, degrees, targets, density, np.random.default_rng(1))
        assert torch.equal(edges, simple_undirected(edges, n))
        clustering.append(transitivity(edges, n))
        realised = realised_degrees(edges, n)
        assert np.all(realised <= degrees)  # phase 2 wires exactly the stubs phase 1 left; stubs are only dropped
        assert np.sum(realised != degrees) <= 6  # at most 0.2% of the nodes miss their target
        # every class pair within 4 edges of its target: phase 1's within-class edges plus phase 2's refit
        np.testing.assert_allclose(pair_matrix(edges, y, 3), np.triu(targets), atol=4)
    assert dcsbm < clustering[0] < clustering[1] < clustering[2]
    assert clustering[1] > 3 * dcsbm and clustering[2] > 8 * dcsbm


def test_zero_density_is_exactly_the_degree_corrected_block_model():
    y, degrees, targets = synthetic_targets(2)
    assert torch.equal(sample_bter(y, degrees, targets, 0.0, np.random.default_rng(3)),
                       sample_dcsbm(y, degrees, targets, np.random.default_rng(3)))


def test_full_density_on_equal_degrees_gives_disjoint_cliques():
    y = classes([50, 25])  # degree 4: blocks of 5 nodes, each a K5 that uses up every node's degree
    degrees = np.full(75, 4)
    targets = block_edge_targets(torch.tensor([100.0, 5.0, 50.0]), np.bincount(y.numpy(), weights=degrees))
    edges = sample_bter(y, degrees, targets, 1.0, np.random.default_rng(4))
    assert np.array_equal(realised_degrees(edges, 75), degrees)
    assert transitivity(edges, 75) == 1.0 and (y[edges[0]] == y[edges[1]]).all()


def test_edge_cases():
    rng = np.random.default_rng(5)
    y = classes([300, 0, 200])  # class 1 has no nodes
    degrees = draw_degrees(y, heavy_tailed_pmfs(3), rng)
    targets = block_edge_targets(torch.zeros(6), np.bincount(y.numpy(), weights=degrees, minlength=3))
    realised = realised_degrees(sample_bter(y, degrees, targets, 0.5, rng), 500)
    assert np.all(realised <= degrees) and np.sum(realised != degrees) <= 2
    assert sample_bter(y, np.zeros(500, dtype=np.int64), targets, 0.5, rng).shape == (2, 0)
    ones = np.ones(500, dtype=np.int64)  # no node of degree >= 2: no blocks, a perfect matching from phase 2
    ones_targets = block_edge_targets(torch.zeros(6), np.bincount(y.numpy(), weights=ones, minlength=3))
    assert np.array_equal(realised_degrees(sample_bter(y, ones, ones_targets, 0.5, rng), 500), ones)
    odd = sample_bter(classes([5]), np.ones(5, dtype=np.int64), np.array([[2.5]]), 0.5, rng)  # one stub unpaired
    assert np.sort(realised_degrees(odd, 5)).tolist() == [0, 1, 1, 1, 1]
    single = classes([400])
    degrees = draw_degrees(single, heavy_tailed_pmfs(1), rng)
    edges = sample_bter(single, degrees, block_edge_targets(torch.ones(1), np.array([degrees.sum()])), 0.5, rng)
    assert np.sum(realised_degrees(edges, 400) != degrees) <= 1


def test_same_seed_same_graph_and_other_seed_other_graph():
    y, degrees, targets = synthetic_targets(7)
    first = sample_bter(y, degrees, targets, 0.5, np.random.default_rng(8))
    assert torch.equal(first, sample_bter(y, degrees, targets, 0.5, np.random.default_rng(8)))
    assert not torch.equal(first, sample_bter(y, degrees, targets, 0.5, np.random.default_rng(9)))


@pytest.mark.parametrize("density", [-0.1, 1.5, float("nan")])
def test_block_density_outside_unit_interval_is_refused(density):
    with pytest.raises(DPGraphError, match=r"block_density must be in \[0, 1\]"):
        sample_bter(classes([3]), np.ones(3), np.ones((1, 1)), density, np.random.default_rng(0))


def test_fractional_degrees_and_oversized_requests_are_refused_before_drawing(monkeypatch):
    rng = np.random.default_rng(6)
    state = rng.bit_generator.state
    with pytest.raises(DPGraphError, match="non-negative integer per node"):
        sample_bter(classes([3]), np.full(3, 2.5), np.ones((1, 1)), 0.5, rng)
    monkeypatch.setenv(ENV_VAR, "1")
    with pytest.raises(DPGraphError, match="GiB of memory") as err:
        sample_bter(classes([10, 10]), np.full(20, 10**9), np.array([[5e9, 0.0], [0.0, 5e9]]), 0.5, rng)
    assert "\n" not in str(err.value)
    assert rng.bit_generator.state == state
