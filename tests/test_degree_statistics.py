"""Degree statistics through the theta-projection: every bound of dpgraph/mechanisms/degree_statistics.py checked by
deleting (and adding) every node of graphs with hubs and a slice of Cora, and a naive truncation shown to break it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch_geometric.utils import erdos_renyi_graph, subgraph, to_undirected

from dpgraph.config.sections import DatasetSection
from dpgraph.data.spec import NoParams, load_dataset
from dpgraph.errors import DPGraphError
from dpgraph.graphops import projected_degrees, simple_pairs, theta_projection
from dpgraph.mechanisms.degree_statistics import (
    class_cumulative_histograms,
    cumulative_histogram_sensitivity,
    projected_edge_count,
    projected_edge_count_sensitivity,
    theta_score_sensitivity,
    theta_scores,
)

C = 3


def _star(n: int = 16) -> torch.Tensor:
    return to_undirected(torch.stack([torch.zeros(n - 1, dtype=torch.long), torch.arange(1, n)]))


def _two_joined_hubs(n: int = 24) -> torch.Tensor:
    """Hubs 0 and 1, joined; 2..n/2 on hub 0, the rest on hub 1, and four leaves shared by both."""
    leaves = torch.arange(2, n)
    owner = (leaves >= n // 2).long()
    shared = torch.arange(2, 6)
    src = torch.cat([torch.tensor([0]), owner, torch.ones(4, dtype=torch.long) - owner[:4]])
    dst = torch.cat([torch.tensor([1]), leaves, shared])
    return to_undirected(torch.stack([src, dst]))


def _random_with_hub(seed: int, n: int = 40) -> torch.Tensor:
    torch.manual_seed(seed)
    hub = torch.stack([torch.zeros(n - 1, dtype=torch.long), torch.arange(1, n)])
    return to_undirected(torch.cat([erdos_renyi_graph(n, 0.15), hub], 1))


GRAPHS = {"star": lambda: _star(), "two hubs": lambda: _two_joined_hubs(), "random + hub": lambda: _random_with_hub(0)}


class Graph:
    """A structure with public ranks, random labels and a random labelled set (about 3/4 of the nodes)."""

    def __init__(self, edge_index: torch.Tensor, num_nodes: int, seed: int, rank: torch.Tensor | None = None,
                 y: torch.Tensor | None = None, labelled: torch.Tensor | None = None, num_classes: int = C):
        gen = torch.Generator().manual_seed(seed)
        self.edge_index, self.n, self.num_classes = edge_index, num_nodes, num_classes
        self.rank = torch.randperm(num_nodes, generator=gen) if rank is None else rank
        self.y = torch.randint(0, C, (num_nodes,), generator=gen) if y is None else y
        self.labelled = torch.rand(num_nodes, generator=gen) < 0.75 if labelled is None else labelled
        self._degrees: dict[int, np.ndarray] = {}
        self._edge_counts: dict[int, float] = {}

    def without(self, v: int) -> Graph:
        keep = torch.arange(self.n) != v
        edges, _ = subgraph(keep, self.edge_index, relabel_nodes=True, num_nodes=self.n)
        return Graph(edges, self.n - 1, 0, self.rank[keep], self.y[keep], self.labelled[keep], self.num_classes)

    def degrees(self, theta: int) -> np.ndarray:
        if theta not in self._degrees:  # memoised: every deletion compares with the same full graph
            projected = theta_projection(self.edge_index, self.n, theta, self.rank)
            self._degrees[theta] = projected_degrees(projected, self.n)
        return self._degrees[theta]

    def edge_count(self, theta: int) -> float:
        if theta not in self._edge_counts:
            self._edge_counts[theta] = projected_edge_count(self.edge_index, self.n, theta, self.rank)
        return self._edge_counts[theta]

    def histograms(self, degrees: np.ndarray, theta: int) -> torch.Tensor:
        return class_cumulative_histograms(degrees, self.y, self.labelled, self.num_classes, theta)


def _changes(graph: Graph, v: int, theta: int, degrees_of=Graph.degrees) -> tuple[float, float, float, float, int]:
    """(sum over u != v of |degree change|, L1 and L2 change of the histograms, |E_theta| change, d~(v)) when v
    is deleted; `degrees_of` computes the (projected) degrees used in the histograms."""
    smaller = graph.without(v)
    full, reduced = degrees_of(graph, theta), degrees_of(smaller, theta)
    others = np.delete(full, v)
    change = graph.histograms(full, theta) - smaller.histograms(reduced, theta)
    edges = graph.edge_count(theta) - smaller.edge_count(theta)
    return (float(np.abs(others - reduced).sum()), float(change.abs().sum()), float(change.norm()), edges,
            int(full[v]))


def _assert_within_bounds(graph: Graph, v: int, theta: int) -> float:
    moved, l1, l2, edges, degree_v = _changes(graph, v, theta)
    assert moved <= degree_v <= theta
    assert l1 <= cumulative_histogram_sensitivity(theta) and l2 <= cumulative_histogram_sensitivity(theta)
    assert 0 <= edges <= degree_v <= projected_edge_count_sensitivity(theta)
    return l1


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("theta", [1, 2, 5, 40])
@pytest.mark.parametrize("seed", range(2))
def test_deleting_any_node_stays_within_every_bound(name, theta, seed):
    edge_index = GRAPHS[name]()
    graph = Graph(edge_index, int(edge_index.max()) + 1, seed)
    worst = max(_assert_within_bounds(graph, v, theta) for v in range(graph.n))
    assert worst >= 2  # the histograms do react to deletions


@pytest.mark.parametrize("theta", [1, 3, 6])
@pytest.mark.parametrize("attach", ["everyone", "half"])
def test_adding_a_hub_at_any_rank_stays_within_every_bound(theta, attach):
    """The reverse direction: a new node (adjacent to everyone or to a random half) arrives at every position of
    the public order; the bounds use its projected degree in the larger graph."""
    base = _random_with_hub(1)
    n = int(base.max()) + 1
    gen = torch.Generator().manual_seed(theta)
    neighbours = torch.arange(n) if attach == "everyone" else torch.nonzero(torch.rand(n, generator=gen) < 0.5)[:, 0]
    grown = to_undirected(torch.cat([base, torch.stack([torch.full_like(neighbours, n), neighbours])], 1))
    order = 2 * torch.randperm(n, generator=gen)
    for slot in range(0, n + 1, 4):
        rank = torch.cat([order, torch.tensor([2 * slot - 1])])  # an odd key slots the newcomer between the others
        graph = Graph(grown, n + 1, theta, rank=rank)
        _assert_within_bounds(graph, n, theta)


@pytest.fixture(scope="module")
def cora(planetoid_root) -> Graph:
    import dpgraph.pipeline.catalogue  # noqa: F401  (registers datasets)

    cora = load_dataset(DatasetSection(name="cora", split="random"), NoParams(), planetoid_root)
    data = cora.data
    return Graph(data.edge_index, data.num_nodes, 0, y=data.y, labelled=data.train_mask & (data.y >= 0),
                 num_classes=cora.num_classes)


@pytest.mark.parametrize("theta", [3, 10])
def test_deleting_cora_hubs_and_other_nodes_stays_within_every_bound(cora, theta):
    true_degrees = _true_degrees(cora)
    hubs = np.argsort(-true_degrees, kind="stable")[:40]
    others = np.random.default_rng(0).choice(np.setdiff1d(np.arange(cora.n), hubs), 100, replace=False)
    worst = max(_assert_within_bounds(cora, int(v), theta) for v in np.concatenate([hubs, others]))
    assert worst > 1


def _true_degrees(graph: Graph) -> np.ndarray:
    return projected_degrees(simple_pairs(graph.edge_index, graph.n), graph.n)


def _naive_truncation(graph: Graph, theta: int) -> np.ndarray:
    """Drop every edge at a node of degree > theta: the degree cap that is not node-stable."""
    pairs = simple_pairs(graph.edge_index, graph.n)
    kept = pairs[:, torch.from_numpy((_true_degrees(graph)[pairs.numpy()] <= theta).all(axis=0))]
    return projected_degrees(kept, graph.n)


@pytest.mark.parametrize("name", ["star", "two hubs"])
def test_naive_truncation_breaks_the_histogram_bound_that_the_projection_keeps(name):
    edge_index = GRAPHS[name]()
    graph = Graph(edge_index, int(edge_index.max()) + 1, 0, labelled=torch.ones(int(edge_index.max()) + 1,
                                                                                 dtype=torch.bool))
    theta = int(_true_degrees(graph).max()) - 1  # deleting one leaf uncaps a hub
    naive = max(_changes(graph, v, theta, degrees_of=_naive_truncation)[1] for v in range(graph.n))
    projected = max(_changes(graph, v, theta)[1] for v in range(graph.n))
    assert naive > cumulative_histogram_sensitivity(theta) >= projected


def test_cumulative_histograms_count_labelled_nodes_per_class():
    degrees = np.array([0, 1, 1, 2, 3])
    y = torch.tensor([0, 1, 0, 1, -1])
    labelled = torch.tensor([True, True, True, False, False])
    histograms = class_cumulative_histograms(degrees, y, labelled, 2, 3)
    assert histograms.dtype == torch.float64
    assert histograms.tolist() == [[1, 2, 2, 2], [0, 1, 1, 1]]
    relabelled = torch.tensor([0, 1, 0, 0, 1])  # labels off the labelled set are never read
    assert torch.equal(class_cumulative_histograms(degrees, relabelled, labelled, 2, 3), histograms)


def test_histograms_refuse_degrees_above_theta():
    with pytest.raises(DPGraphError, match="degrees exceed theta"):
        class_cumulative_histograms(np.array([0, 4]), torch.tensor([0, 1]), torch.tensor([True, True]), 2, 3)


def test_theta_scores_follow_the_formula_and_move_within_their_sensitivity():
    graph = Graph(_random_with_hub(2), 40, 0)
    grid, sigma = [1, 2, 4, 8], 1.5
    scores = theta_scores(graph.edge_index, graph.n, graph.rank, grid, C, sigma)
    kept = [theta_projection(graph.edge_index, graph.n, t, graph.rank).size(1) for t in grid]
    expected = [2 * k - C * (t + 1) ** 2 * sigma * math.sqrt(2 / math.pi) for k, t in zip(kept, grid, strict=True)]
    assert scores.tolist() == pytest.approx(expected)
    assert kept == sorted(kept) and kept[0] < kept[-1]  # raising theta never loses edges
    assert theta_score_sensitivity(grid) == 16.0
    worst = 0.0
    for v in range(graph.n):
        smaller = graph.without(v)
        reduced = theta_scores(smaller.edge_index, smaller.n, smaller.rank, grid, C, sigma)
        gaps = (scores - reduced).abs()
        assert (gaps <= 2 * torch.tensor(grid, dtype=torch.float64)).all()
        worst = max(worst, float(gaps.max()))
    assert 0 < worst <= theta_score_sensitivity(grid)


@pytest.mark.parametrize("call", [
    lambda: theta_score_sensitivity([]),
    lambda: theta_score_sensitivity([4, 0]),
    lambda: cumulative_histogram_sensitivity(0),
    lambda: theta_scores(_star(), 16, torch.arange(16), [2], C, -1.0),
])
def test_bad_parameters_fail_with_the_fix(call):
    with pytest.raises(DPGraphError):
        call()
