"""PGB's queries against networkx (and hand computations) on small graphs, and their comparison."""

from __future__ import annotations

import json
import math
from itertools import chain

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.metrics import normalized_mutual_info_score
from torch_geometric.data import Data

from dpgraph.evaluation.pgb import distribution_kl, pgb_comparison, pgb_queries, relative_error


def _data(graph: nx.Graph, y: list[int] | None = None) -> Data:
    """`graph` (nodes 0..n-1) as a PyG graph with both directions of each edge."""
    n = graph.number_of_nodes()
    pairs = torch.tensor(list(graph.edges), dtype=torch.long).reshape(-1, 2).t()
    labels = torch.tensor(y if y is not None else [0] * n, dtype=torch.long)
    return Data(x=torch.ones(n, 1), edge_index=torch.cat([pairs, pairs.flip(0)], dim=1), y=labels, num_nodes=n)


def _canonical(graph: nx.Graph) -> nx.Graph:
    """`graph` unweighted, nodes 0..n-1 and edges (u < v) inserted in sorted order, as `pgb_queries` builds it
    (Louvain's seeded visiting order then agrees)."""
    canonical = nx.Graph()
    canonical.add_nodes_from(range(graph.number_of_nodes()))
    canonical.add_edges_from(sorted((min(u, v), max(u, v)) for u, v in graph.edges))
    return canonical


def _two_components() -> nx.Graph:
    return nx.disjoint_union(nx.complete_graph(4), nx.path_graph(5))


GRAPHS = {
    "karate": nx.karate_club_graph,
    "path": lambda: nx.path_graph(7),
    "complete": lambda: nx.complete_graph(6),
    "star": lambda: nx.star_graph(8),
    "two_components": _two_components,
    "random": lambda: nx.gnp_random_graph(60, 0.08, seed=3),
    "edgeless": lambda: nx.empty_graph(5),
    "empty": lambda: nx.empty_graph(0),
}


def _reachable_distances(graph: nx.Graph) -> list[int]:
    """Hop distances of every ordered pair of distinct nodes joined by a path."""
    lengths = dict(nx.all_pairs_shortest_path_length(graph))
    return [d for u, row in lengths.items() for v, d in row.items() if u != v]


@pytest.mark.parametrize("name", GRAPHS)
def test_every_query_equals_networkx(name):
    graph = _canonical(GRAPHS[name]())
    n = graph.number_of_nodes()
    q = pgb_queries(_data(graph), seed=0)
    degrees = np.array([d for _, d in sorted(graph.degree())])
    assert q["nodes"] == n and q["edges"] == graph.number_of_edges()
    assert q["triangles"] == sum(nx.triangles(graph).values()) // 3
    assert q["degree_dist"].tolist() == nx.degree_histogram(graph)
    assert q["avg_degree"] == (pytest.approx(degrees.mean()) if n else None)
    assert q["degree_var"] == (pytest.approx(np.var(degrees, ddof=1)) if n > 1 else None)
    assert q["transitivity"] == pytest.approx(nx.transitivity(graph))
    assert q["avg_clustering"] == (nx.average_clustering(graph) if n else None)  # the same float
    distances = _reachable_distances(graph)
    if distances:  # PGB: largest component diameter, mean over reachable pairs
        assert q["diameter"] == max(nx.diameter(graph.subgraph(c)) for c in nx.connected_components(graph))
        assert q["avg_path"] == pytest.approx(np.mean(distances))
        assert q["distance_dist"].tolist() == np.bincount(distances, minlength=1).tolist()
    else:
        assert q["diameter"] is None and q["avg_path"] is None and q["distance_dist"].sum() == 0
    assert q["distance_sources"] == n
    if graph.number_of_edges() and np.std([degrees[u] for u, v in graph.edges] + [degrees[v] for u, v in graph.edges]):
        assert q["assortativity"] == pytest.approx(nx.degree_assortativity_coefficient(graph))
    else:
        assert q["assortativity"] is None  # no edges, or every edge end of one degree: undefined
    if n:
        expected = sorted(nx.eigenvector_centrality(graph, max_iter=10000).values(), reverse=True)
        assert q["eigenvector"] == pytest.approx(expected, abs=1e-9)
    else:
        assert q["eigenvector"] is None
    if graph.number_of_edges():
        communities = nx.community.louvain_communities(graph, seed=0)
        assert q["communities"] == len(communities)
        assert q["modularity"] == pytest.approx(nx.community.modularity(graph, communities))
    else:
        assert q["modularity"] is None and q["label_nmi"] is None


def test_assortativity_sign_on_known_graphs():
    assert pgb_queries(_data(nx.star_graph(6)), 0)["assortativity"] == pytest.approx(-1.0)  # hub to leaves only
    assert pgb_queries(_data(nx.complete_graph(5)), 0)["assortativity"] is None  # regular: 0 / 0


def test_modularity_and_label_nmi_of_two_cliques_by_hand():
    graph = nx.disjoint_union(nx.complete_graph(4), nx.complete_graph(4))
    q = pgb_queries(_data(graph, [0, 0, 0, 0, 1, 1, 1, 1]), seed=0)
    assert q["communities"] == 2
    # Q = sum_c L_c / m - (d_c / 2m)^2 = 2 (6/12 - (12/24)^2)
    assert q["modularity"] == pytest.approx(0.5)
    assert q["label_nmi"] == pytest.approx(1.0)
    # labels independent of the communities: half of each clique in each class
    assert pgb_queries(_data(graph, [0, 0, 1, 1, 0, 0, 1, 1]), seed=0)["label_nmi"] == pytest.approx(0.0, abs=1e-12)


def test_label_nmi_skips_unlabelled_nodes():
    karate = nx.karate_club_graph()
    clubs = [int(karate.nodes[v]["club"] == "Officer") for v in karate]
    graph = _canonical(karate)
    labels = [-1 if v % 5 == 0 else c for v, c in enumerate(clubs)]
    membership = np.empty(34, dtype=int)
    for index, members in enumerate(nx.community.louvain_communities(graph, seed=7)):
        membership[list(members)] = index
    kept = [v for v in range(34) if labels[v] >= 0]
    expected = normalized_mutual_info_score(np.array(labels)[kept], membership[kept])
    assert pgb_queries(_data(graph, labels), seed=7)["label_nmi"] == pytest.approx(expected)
    assert pgb_queries(_data(graph, [-1] * 34), seed=7)["label_nmi"] is None


def test_distances_from_a_seeded_sample_of_sources():
    graph = nx.path_graph(60)
    exact = pgb_queries(_data(graph), seed=0)
    assert exact["diameter"] == 59 and exact["avg_path"] == pytest.approx(61 / 3)  # (n + 1) / 3 on a path
    sampled = pgb_queries(_data(graph), seed=0, max_sources=10)
    assert sampled["distance_sources"] == 10
    assert sampled["diameter"] <= 59  # a lower bound
    assert sampled["distance_dist"].sum() == 10 * 59  # every node reachable from each of the 10 sources
    assert pgb_queries(_data(graph), seed=0, max_sources=10)["distance_dist"].tolist() == \
        sampled["distance_dist"].tolist()  # the seed fixes the sample
    assert pgb_queries(_data(graph), seed=0, max_sources=60)["distance_dist"].tolist() == \
        exact["distance_dist"].tolist()


def test_relative_error_by_hand():
    assert relative_error(3, 4) == 0.25 and relative_error(5, 4) == 0.25
    assert relative_error(-0.05, -0.1) == pytest.approx(0.5)
    assert relative_error(0, 0) == 0.0 and relative_error(1, 0) is None
    assert relative_error(None, 1) is None and relative_error(1, None) is None


def test_kl_by_hand():
    eps = np.finfo(np.float64).eps
    assert distribution_kl(np.array([3, 1, 0]), np.array([3, 1])) == 0.0
    assert distribution_kl(np.array([1, 1]), np.array([1, 3])) == pytest.approx(
        0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75))
    # a bin the released graph misses: finite through the smoothing, and large
    missing = distribution_kl(np.array([1, 1]), np.array([2]))
    assert missing == pytest.approx(0.5 * math.log((0.5 + eps) / eps) + 0.5 * math.log((0.5 + eps) / (1 + eps)))
    assert missing > 10
    assert distribution_kl(np.array([0]), np.array([1])) is None


def _columns(rows: dict) -> set[str]:
    return set(chain.from_iterable(rows.values()))


def test_identical_graphs_have_no_error():
    data = _data(nx.karate_club_graph())
    rows = pgb_comparison(data, data.clone(), seed=0)
    assert list(rows)[:15] == ["nodes", "edges", "triangles", "avg_degree", "degree_var", "degree_dist", "diameter",
                               "avg_path", "distance_dist", "transitivity", "avg_clustering", "label_nmi",
                               "modularity", "assortativity", "evc_top"]
    for name, row in rows.items():
        for measure in ("rel_error", "kl", "mae"):
            if measure in row:
                assert row[measure] == 0.0, name
    assert json.dumps(rows, allow_nan=False)  # plain JSON: no numpy scalars, no NaN


def test_different_graphs_errors_by_hand():
    real, released = nx.karate_club_graph(), nx.complete_graph(34)
    rows = pgb_comparison(_data(released), _data(real), seed=0)
    assert rows["triangles"] == {"real": 45, "released": math.comb(34, 3), "rel_error": (math.comb(34, 3) - 45) / 45}
    assert rows["edges"]["rel_error"] == pytest.approx((561 - 78) / 78)
    assert rows["nodes"]["rel_error"] == 0.0
    assert rows["transitivity"]["rel_error"] == pytest.approx(abs(1 - nx.transitivity(real)) / nx.transitivity(real))
    assert rows["degree_dist"]["kl"] > 1 and rows["distance_dist"]["kl"] > 0
    assert rows["diameter"] == {"real": 5, "released": 1, "rel_error": 0.8}
    # k = max(1, 34 // 100) = 1: the largest centralities compared
    top_real = max(nx.eigenvector_centrality(real, max_iter=10000).values())
    assert rows["evc_top"]["real"] == pytest.approx(top_real)
    assert rows["evc_top"]["mae"] == pytest.approx(abs(top_real - 1 / math.sqrt(34)))
    assert rows["assortativity"]["released"] is None and rows["assortativity"]["rel_error"] is None


def test_top_k_centrality_error_uses_one_percent_of_the_real_nodes():
    real, released = nx.gnp_random_graph(250, 0.04, seed=1), nx.gnp_random_graph(300, 0.03, seed=2)
    rows = pgb_comparison(_data(released), _data(real), seed=0)
    tops = [np.sort(list(nx.eigenvector_centrality(g, max_iter=10000).values()))[::-1][:2] for g in (real, released)]
    assert rows["evc_top"]["mae"] == pytest.approx(np.abs(tops[0] - tops[1]).mean(), abs=1e-9)
    assert rows["evc_top"]["real"] == pytest.approx(tops[0].mean(), abs=1e-9)


@pytest.mark.parametrize("released", [nx.empty_graph(0), nx.empty_graph(20), nx.path_graph(3)])
def test_degenerate_released_graphs_give_none_not_errors(released):
    rows = pgb_comparison(_data(released), _data(nx.karate_club_graph()), seed=0)
    assert json.dumps(rows, allow_nan=False)
    assert rows["nodes"]["released"] == released.number_of_nodes()
    if released.number_of_edges() == 0:
        assert rows["diameter"]["released"] is None and rows["diameter"]["rel_error"] is None
        assert rows["modularity"]["released"] is None and rows["distance_dist"]["kl"] is None
    if released.number_of_nodes() == 0:
        assert rows["degree_dist"]["kl"] is None and rows["evc_top"]["mae"] is None
        assert rows["avg_clustering"]["released"] is None
    else:
        assert rows["degree_dist"]["kl"] > 0
