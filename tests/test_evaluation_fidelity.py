from math import comb

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from dpgraph.evaluation import structural_fidelity

KEYS = {
    "degree_ks",
    "avg_clustering_real",
    "avg_clustering_released",
    "edge_homophily_real",
    "edge_homophily_released",
    "triangles_real",
    "triangles_released",
    "triangle_rel_error",
    "num_nodes_real",
    "num_nodes_released",
    "num_edges_real",
    "num_edges_released",
}


def _graph(pairs: list[tuple[int, int]], y: list[int]) -> Data:
    edge_index = to_undirected(torch.tensor(pairs).t(), num_nodes=len(y))
    return Data(x=torch.ones(len(y), 2), edge_index=edge_index, y=torch.tensor(y))


def _complete(n: int, y: list[int]) -> Data:
    return _graph([(i, j) for i in range(n) for j in range(i + 1, n)], y)


def _cycle(n: int, y: list[int]) -> Data:
    return _graph([(i, (i + 1) % n) for i in range(n)], y)


def test_identical_graphs_match_exactly():
    y = [0, 0, 1, 1, 0, 1, 2]
    graph = _graph([(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 3), (5, 6)], y)
    metrics = structural_fidelity(graph, graph.clone())
    assert set(metrics) == KEYS
    assert metrics["degree_ks"] == 0.0
    assert metrics["triangle_rel_error"] == 0.0
    assert metrics["triangles_real"] == metrics["triangles_released"] == 2
    assert metrics["edge_homophily_real"] == metrics["edge_homophily_released"] == pytest.approx(3 / 8)
    assert metrics["avg_clustering_real"] == metrics["avg_clustering_released"]
    assert metrics["num_edges_real"] == metrics["num_edges_released"] == 8
    assert metrics["num_nodes_real"] == metrics["num_nodes_released"] == 7


def test_triangle_free_cycle_against_complete_graph():
    n = 8
    real = _complete(n, [0] * 4 + [1] * 4)
    released = _cycle(n, [0, 1] * 4)
    metrics = structural_fidelity(released, real)
    assert metrics["triangles_real"] == comb(n, 3)
    assert metrics["triangles_released"] == 0
    assert metrics["triangle_rel_error"] == 1.0
    assert metrics["degree_ks"] == 1.0  # every degree is n - 1 versus every degree 2
    assert metrics["avg_clustering_real"] == 1.0 and metrics["avg_clustering_released"] == 0.0
    assert metrics["num_edges_real"] == comb(n, 2) and metrics["num_edges_released"] == n
    assert metrics["edge_homophily_real"] == pytest.approx(2 * comb(4, 2) / comb(n, 2))
    assert metrics["edge_homophily_released"] == 0.0  # alternating labels around the cycle


def test_released_homophily_uses_only_edges_between_labelled_nodes():
    real = _cycle(6, [0, 0, 1, 1, 0, 0])
    partly = structural_fidelity(_cycle(6, [0, 0, 1, -1, -1, 0]), real)
    assert partly["edge_homophily_released"] == pytest.approx(2 / 3)  # edges 0-1, 1-2, 5-0
    assert structural_fidelity(_cycle(6, [-1] * 6), real)["edge_homophily_released"] is None


def test_isolated_nodes_count_and_relative_error_is_floored_at_one_real_triangle():
    real = _graph([(0, 1), (1, 2)], [0, 0, 0, 0])  # node 3 isolated, no triangle
    released = _complete(4, [0, 0, 0, 0])
    metrics = structural_fidelity(released, real)
    assert metrics["num_nodes_real"] == 4 and metrics["num_edges_real"] == 2
    assert metrics["triangles_released"] == comb(4, 3)
    assert metrics["triangle_rel_error"] == comb(4, 3)
    assert metrics["degree_ks"] == 1.0
