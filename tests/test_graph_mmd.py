"""GraphRNN's Gaussian-EMD MMD: closed forms, an independent EMD, and its behaviour on graphs."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from dpgraph.evaluation.graph_mmd import gaussian_emd_kernel, graph_mmd, histogram_emd, mmd_squared


def _data(graph: nx.Graph) -> Data:
    n = graph.number_of_nodes()
    pairs = torch.tensor(list(graph.edges), dtype=torch.long).reshape(-1, 2).t()
    return Data(edge_index=torch.cat([pairs, pairs.flip(0)], dim=1), y=torch.zeros(n, dtype=torch.long), num_nodes=n)


def _cdf_emd(p: np.ndarray, q: np.ndarray, width: float) -> float:
    """W1 on a line by its closed form: sum over bins of |CDF_p - CDF_q| times the bin width."""
    size = max(p.size, q.size)
    p, q = (np.pad(h / h.sum(), (0, size - h.size)) for h in (p, q))
    return float(np.abs(np.cumsum(p) - np.cumsum(q))[:-1].sum() * width)


def test_emd_of_a_shifted_histogram_is_the_shift():
    hist = np.array([2.0, 5, 1, 0, 3])
    for shift in range(4):
        shifted = np.concatenate([np.zeros(shift), hist])
        assert histogram_emd(hist, shifted, 1.0) == pytest.approx(shift)
        assert histogram_emd(hist, shifted, 0.01) == pytest.approx(0.01 * shift)


def test_emd_equals_the_cdf_closed_form():
    rng = np.random.default_rng(0)
    for _ in range(5):
        p, q = rng.integers(0, 9, size=7).astype(float), rng.integers(0, 9, size=11).astype(float)
        assert histogram_emd(p, q, 0.01) == pytest.approx(_cdf_emd(p, q, 0.01))


def test_kernel_and_single_sample_mmd_closed_forms():
    p, q = np.array([1.0, 0, 0]), np.array([0.0, 0, 1])  # W1 = 2
    assert gaussian_emd_kernel(p, q, sigma=1.0, bin_width=1.0) == pytest.approx(math.exp(-2.0))
    assert mmd_squared([p], [q], 1.0, 1.0) == pytest.approx(2 - 2 * math.exp(-2.0))
    assert mmd_squared([p], [p * 3], 1.0, 1.0) == pytest.approx(0.0)  # histograms read as pmfs


def test_multi_sample_mmd_matches_its_definition():
    a = [np.array([1.0, 2, 0]), np.array([0.0, 1, 1])]
    b = [np.array([0.0, 0, 4, 1])]
    k = lambda x, y: gaussian_emd_kernel(x, y, 0.5, 1.0)  # noqa: E731
    expected = (np.mean([k(x, y) for x in a for y in a]) + k(b[0], b[0])
                - 2 * np.mean([k(x, b[0]) for x in a]))
    assert mmd_squared(a, b, 0.5, 1.0) == pytest.approx(expected)
    assert mmd_squared(a, a, 0.5, 1.0) == pytest.approx(0.0, abs=1e-12)


def test_identical_graphs_have_zero_mmd():
    data = _data(nx.karate_club_graph())
    assert graph_mmd(data, data.clone()) == {"degree_mmd": 0.0, "degree_emd": 0.0,
                                             "clustering_mmd": 0.0, "clustering_emd": 0.0}


def test_graph_mmd_is_symmetric_and_matches_networkx_histograms():
    a, b = nx.karate_club_graph(), nx.gnp_random_graph(50, 0.1, seed=4)
    forward, backward = graph_mmd(_data(a), _data(b)), graph_mmd(_data(b), _data(a))
    assert forward == pytest.approx(backward)
    degree_emd = _cdf_emd(np.array(nx.degree_histogram(a), float), np.array(nx.degree_histogram(b), float), 1.0)
    assert forward["degree_emd"] == pytest.approx(degree_emd)
    assert forward["degree_mmd"] == pytest.approx(2 - 2 * math.exp(-degree_emd**2 / 2))  # sigma 1
    hists = [np.histogram(list(nx.clustering(g).values()), bins=100, range=(0, 1))[0].astype(float) for g in (a, b)]
    clustering_emd = _cdf_emd(*hists, 0.01)
    assert forward["clustering_emd"] == pytest.approx(clustering_emd)
    assert forward["clustering_mmd"] == pytest.approx(2 - 2 * math.exp(-clustering_emd**2 / (2 * 0.1**2)))


def test_mmd_grows_with_a_degree_shift():
    real = nx.random_regular_graph(3, 40, seed=0)
    values = [graph_mmd(_data(nx.random_regular_graph(d, 40, seed=0)), _data(real))["degree_mmd"] for d in (3, 4, 5)]
    assert values[0] == 0.0 < values[1] < values[2] < 2
    # clustering 1 everywhere against 0 everywhere: the last bin against the first, 99 bins of width 1/100 apart
    assert graph_mmd(_data(nx.complete_graph(6)), _data(nx.cycle_graph(6)))["clustering_emd"] == pytest.approx(0.99)


def test_graph_without_nodes_gives_none():
    metrics = graph_mmd(_data(nx.empty_graph(0)), _data(nx.path_graph(4)))
    assert set(metrics.values()) == {None}
