"""Degree-corrected block model sampling (post-processing): degree draws follow the class pmfs, the symmetric IPF
matches degree totals, the class-aware configuration model realises the target degrees and class-pair counts up to
a few dropped stubs, its repair swaps leave a simple graph, edge cases, determinism and refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_pairs, simple_undirected
from dpgraph.mechanisms.dcsbm_sampling import (
    PAIR_FLOOR,
    block_edge_targets,
    draw_degrees,
    partner_stub_counts,
    sample_dcsbm,
    wire_stubs,
)
from dpgraph.resources import ENV_VAR


def classes(sizes: list[int]) -> torch.Tensor:
    return torch.cat([torch.full((s,), c, dtype=torch.long) for c, s in enumerate(sizes)])


def heavy_tailed_pmfs(num_classes: int, max_degree: int = 40) -> np.ndarray:
    """Class c: p(k) proportional to (k + 1 + c)^-2.2 for k >= 1, a little mass at 0."""
    k = np.arange(max_degree + 1, dtype=np.float64)
    pmfs = np.stack([(k + 1 + c) ** -2.2 for c in range(num_classes)])
    pmfs[:, 0] *= 0.1
    return pmfs / pmfs.sum(1, keepdims=True)


def degree_sums(block_edges: np.ndarray) -> np.ndarray:
    return block_edges.sum(1) + np.diag(block_edges)


def pair_matrix(edge_index: torch.Tensor, y: torch.Tensor, num_classes: int) -> np.ndarray:
    """[C, C] realised edge counts per class pair (a <= b in the upper triangle)."""
    pairs = simple_pairs(edge_index, y.numel())
    a, b = y[pairs[0]].numpy(), y[pairs[1]].numpy()
    counts = np.zeros((num_classes, num_classes))
    np.add.at(counts, (np.minimum(a, b), np.maximum(a, b)), 1)
    return counts


def realised_degrees(edge_index: torch.Tensor, n: int) -> np.ndarray:
    return np.bincount(edge_index[0].numpy(), minlength=n)


def test_draw_degrees_follow_each_class_pmf_and_skip_empty_classes():
    pmfs = np.array([[0.0, 0.5, 0.5, 0.0], [0.25, 0.25, 0.0, 0.5], [0.0, 0.0, 0.0, 0.0]])
    y = classes([4000, 6000])  # class 2 has no nodes: its empty pmf is never read
    degrees = draw_degrees(y, pmfs * 3.0, np.random.default_rng(0))  # rows are normalised
    for c in range(2):
        frequencies = np.bincount(degrees[y.numpy() == c], minlength=4) / (y == c).sum().item()
        np.testing.assert_allclose(frequencies, pmfs[c], atol=0.025)
    with pytest.raises(DPGraphError, match="class 2 has no positive finite mass"):
        draw_degrees(classes([5, 5, 5]), pmfs, np.random.default_rng(0))
    with pytest.raises(DPGraphError, match="one pmf per class"):
        draw_degrees(classes([5, 5, 5, 5]), pmfs, np.random.default_rng(0))


def test_ipf_recovers_consistent_counts_and_matches_any_positive_totals_symmetrically():
    rng = np.random.default_rng(1)
    counts = rng.uniform(10, 500, size=15)  # C = 5, upper triangle
    rows, cols = np.triu_indices(5)
    weights = np.zeros((5, 5))
    weights[rows, cols] = counts
    weights[cols, rows] = counts
    consistent = block_edge_targets(torch.from_numpy(counts), degree_sums(weights))
    floored = weights + PAIR_FLOOR * weights.mean()
    np.testing.assert_allclose(consistent, weights, atol=2 * PAIR_FLOOR * weights.mean())  # only the floor moves it
    totals = rng.uniform(100, 20000, size=5)
    fitted = block_edge_targets(torch.from_numpy(counts), totals)
    assert np.array_equal(fitted, fitted.T) and np.all(fitted > 0)
    np.testing.assert_allclose(degree_sums(fitted), totals, rtol=1e-8)
    # the mixing is kept up to per-class scales: M_ab^2 / (M_aa M_bb) = W_ab^2 / (W_aa W_bb)
    np.testing.assert_allclose(fitted**2 / np.outer(np.diag(fitted), np.diag(fitted)),
                               floored**2 / np.outer(np.diag(floored), np.diag(floored)), rtol=1e-8)


def test_ipf_edge_cases_clamp_floor_empty_classes_and_single_class():
    # negative and zero counts: clamped, then only the floor keeps the pair possible
    noisy = torch.tensor([400.0, -50.0, 0.0, 300.0, 20.0, 200.0])  # (0,0) (0,1) (0,2) (1,1) (1,2) (2,2)
    fitted = block_edge_targets(noisy, np.array([1000.0, 800.0, 500.0]))
    np.testing.assert_allclose(degree_sums(fitted), [1000.0, 800.0, 500.0], rtol=1e-8)
    assert 0 < fitted[0, 1] < 0.01 * fitted[1, 2] and 0 < fitted[0, 2] < 0.01 * fitted[1, 2]
    # all counts zero: configuration-model mixing, M_ab^2 = M_aa M_bb
    fitted = block_edge_targets(torch.zeros(6), np.array([100.0, 300.0, 600.0]))
    np.testing.assert_allclose(fitted**2, np.outer(np.diag(fitted), np.diag(fitted)), rtol=1e-6)
    np.testing.assert_allclose(degree_sums(fitted), [100.0, 300.0, 600.0], rtol=1e-8)
    # a class of total 0 (e.g. no nodes) gets a zero row; the others still match
    fitted = block_edge_targets(noisy, np.array([1000.0, 0.0, 500.0]))
    assert not fitted[1].any() and not fitted[:, 1].any()
    np.testing.assert_allclose(degree_sums(fitted)[[0, 2]], [1000.0, 500.0], rtol=1e-8)
    # totals the counts' pattern cannot carry (only 0-1 edges, unequal totals): the floored pairs absorb the gap
    fitted = block_edge_targets(torch.tensor([0.0, 100.0, 0.0]), np.array([10.0, 1000.0]))
    np.testing.assert_allclose(degree_sums(fitted), [10.0, 1000.0], rtol=1e-8)
    assert fitted[1, 1] > 400
    np.testing.assert_allclose(block_edge_targets(torch.tensor([7.0]), np.array([90.0])), [[45.0]])
    assert not block_edge_targets(torch.ones(3), np.zeros(2)).any()
    with pytest.raises(DPGraphError, match=r"C\(C\+1\)/2 = 6 entries"):
        block_edge_targets(torch.ones(5), np.ones(3))
    with pytest.raises(DPGraphError, match="non-negative"):
        block_edge_targets(torch.ones(3), np.array([1.0, -1.0]))


def test_partner_counts_split_each_class_total_exactly_in_the_block_proportions():
    block_edges = np.array([[100.0, 30.0, 0.0], [30.0, 50.0, 10.0], [0.0, 10.0, 0.0]])
    totals = np.array([231, 140, 0])  # class 0 one stub short of 2 * 100 + 30, class 1 exact, class 2 empty
    counts = partner_stub_counts(totals, block_edges)
    assert counts.dtype == np.int64 and np.array_equal(counts.sum(1), totals)
    shares = (block_edges + np.diag(np.diag(block_edges))) / (degree_sums(block_edges)[:, None]) * totals[:, None]
    assert np.all(np.abs(counts - shares) < 1)
    assert np.array_equal(counts[1], [30, 100, 10])
    # a class whose row of M is all 0 gets no partner stubs: they are left for the pool
    assert not partner_stub_counts(np.array([10, 7]), np.array([[5.0, 0.0], [0.0, 0.0]]))[1].any()


def test_sampled_degrees_and_class_mixing_match_the_targets():
    rng = np.random.default_rng(2)
    y = classes([1200, 1000, 800])
    degrees = draw_degrees(y, heavy_tailed_pmfs(3), rng)
    totals = np.bincount(y.numpy(), weights=degrees, minlength=3)
    targets = block_edge_targets(torch.tensor([900.0, 80.0, 40.0, 700.0, 60.0, 500.0]), totals)
    edges = sample_dcsbm(y, degrees, targets, rng)
    assert torch.equal(edges, simple_undirected(edges, y.numel()))  # simple, undirected, both directions
    realised = realised_degrees(edges, y.numel())
    assert np.all(realised <= degrees)  # stubs are only ever dropped
    assert np.sum(realised != degrees) <= 3  # at most 0.1% of the nodes miss their target (an odd stub, a repair)
    # every class pair within 3 edges of its target (rounding of the partner split, the pool, dropped stubs)
    np.testing.assert_allclose(pair_matrix(edges, y, 3), np.triu(targets), atol=3)


@pytest.mark.parametrize("seed", range(5))
def test_repair_swaps_turn_forced_self_loops_into_the_only_simple_graph(seed):
    # a hub of degree 40 and 40 leaves in one class: random pairing makes ~10 hub self-loops, the only simple graph
    # with these degrees is the star; K5 is the only simple graph with five nodes of degree 4
    y = classes([41])
    star = np.array([40] + [1] * 40)
    edges = sample_dcsbm(y, star, block_edge_targets(torch.ones(1), np.array([80.0])), np.random.default_rng(seed))
    assert np.array_equal(realised_degrees(edges, 41), star) and (edges == 0).any(0).all()
    complete = sample_dcsbm(classes([5]), np.full(5, 4), np.array([[10.0]]), np.random.default_rng(seed))
    assert complete.size(1) == 20 and np.array_equal(realised_degrees(complete, 5), np.full(5, 4))


def test_avoided_pairs_are_never_wired_and_degrees_still_met():
    # 40 nodes of degree 6 avoiding the circulant graph joining each node to its 4 nearest on a ring: the random
    # pairing hits it often (it holds 10% of all node pairs), the swaps move every hit elsewhere
    ring = np.arange(40)
    avoid = np.concatenate([np.stack([ring, (ring + step) % 40]) for step in (1, 2)], axis=1)
    for seed in range(5):
        pairs = wire_stubs(np.zeros(40, dtype=np.int64), np.full(40, 6), np.array([[60.0]]),
                           np.random.default_rng(seed), avoid=avoid)
        distance = np.abs(pairs[0] - pairs[1])
        assert np.all(np.minimum(distance, 40 - distance) > 2)
        assert np.array_equal(np.bincount(pairs.ravel(), minlength=40), np.full(40, 6))
        assert np.unique(np.sort(pairs, axis=0), axis=1).shape[1] == 120


def test_degrees_no_simple_graph_can_carry_lose_stubs_but_stay_simple():
    y = classes([3])  # a node of degree 5 among three nodes: at most 2 distinct partners
    edges = sample_dcsbm(y, np.array([5, 2, 1]), np.array([[4.0]]), np.random.default_rng(0))
    assert torch.equal(edges, simple_undirected(edges, 3))
    assert np.all(realised_degrees(edges, 3) <= [2, 2, 1]) and edges.size(1) > 0


def test_sampling_edge_cases():
    rng = np.random.default_rng(3)
    y = classes([300, 0, 200])  # class 1 has no nodes
    degrees = draw_degrees(y, heavy_tailed_pmfs(3), rng)
    targets = block_edge_targets(torch.tensor([50.0, 0.0, 10.0, 0.0, 0.0, 40.0]),
                                 np.bincount(y.numpy(), weights=degrees, minlength=3))
    edges = sample_dcsbm(y, degrees, targets, rng)
    assert (realised_degrees(edges, 500) <= degrees).all() and np.sum(realised_degrees(edges, 500) != degrees) <= 2
    assert sample_dcsbm(y, np.zeros(500, dtype=np.int64), targets, rng).shape == (2, 0)
    odd = sample_dcsbm(classes([5]), np.ones(5, dtype=np.int64), np.array([[2.5]]), rng)  # 5 stubs: one unpaired
    assert odd.size(1) == 4 and np.sort(realised_degrees(odd, 5)).tolist() == [0, 1, 1, 1, 1]
    single = classes([400])
    degrees = draw_degrees(single, heavy_tailed_pmfs(1), rng)
    edges = sample_dcsbm(single, degrees, block_edge_targets(torch.zeros(1), np.array([degrees.sum()])), rng)
    assert np.sum(realised_degrees(edges, 400) != degrees) <= 1
    for bad in (-np.ones(400), np.full(400, 1.5)):
        with pytest.raises(DPGraphError, match="one non-negative integer per node"):
            sample_dcsbm(single, bad, np.ones((1, 1)), rng)
    with pytest.raises(DPGraphError, match=r"\[C, C\] matrix covering every class"):
        sample_dcsbm(y, np.ones(500), np.ones((2, 2)), rng)


def test_same_seed_same_graph_and_other_seed_other_graph():
    y = classes([300, 200])
    degrees = draw_degrees(y, heavy_tailed_pmfs(2), np.random.default_rng(7))
    targets = block_edge_targets(torch.tensor([100.0, 20.0, 80.0]), np.bincount(y.numpy(), weights=degrees))
    first = sample_dcsbm(y, degrees, targets, np.random.default_rng(8))
    assert torch.equal(first, sample_dcsbm(y, degrees, targets, np.random.default_rng(8)))
    assert not torch.equal(first, sample_dcsbm(y, degrees, targets, np.random.default_rng(9)))


def test_memory_refusal_is_one_line_before_any_draw(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "1")
    rng = np.random.default_rng(4)
    state = rng.bit_generator.state
    with pytest.raises(DPGraphError, match=r"about 1e\+10 edges needs about .* GiB of memory") as err:
        sample_dcsbm(classes([10, 10]), np.full(20, 10**9), np.array([[5e9, 0.0], [0.0, 5e9]]), rng)
    assert "\n" not in str(err.value) and rng.bit_generator.state == state
