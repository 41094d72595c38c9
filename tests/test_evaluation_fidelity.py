import json
from math import comb
from pathlib import Path

import networkx as nx
import pytest
import torch
from scipy.stats import ks_2samp
from torch_geometric.data import Data
from torch_geometric.utils import to_networkx, to_undirected

from dpgraph.evaluation import structural_fidelity
from dpgraph.evaluation.pgb import pgb_comparison
from dpgraph.graphops import triangles
from dpgraph.graphops.pairs import simple_pairs
from dpgraph.graphops.triangles import triangles_per_node
from dpgraph.pipeline import run_pipeline
from dpgraph.pipeline.config import load_config

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMOKE = Path(__file__).resolve().parents[1] / "pipelines" / "sbm-smoke.yaml"

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


def _networkx_reference(data: Data) -> dict:
    """The metrics of `data` computed independently with networkx (the simple undirected graph, isolated nodes kept)."""
    graph = to_networkx(Data(edge_index=data.edge_index, num_nodes=data.num_nodes), to_undirected=True,
                        remove_self_loops=True)
    labelled = [(u, v) for u, v in graph.edges if data.y[u] >= 0 and data.y[v] >= 0]
    same = sum(int(data.y[u] == data.y[v]) for u, v in labelled)
    triangles = nx.triangles(graph)
    return {
        "triangles": sum(triangles.values()) // 3,
        "per_node": [triangles[v] for v in range(data.num_nodes)],
        "avg_clustering": nx.average_clustering(graph) if len(graph) else 0.0,
        "edge_homophily": same / len(labelled) if labelled else None,
        "num_nodes": graph.number_of_nodes(),
        "num_edges": graph.number_of_edges(),
        "degrees": [d for _, d in graph.degree()],
    }


def _random_graph(gen: torch.Generator, n: int, edges: int) -> Data:
    """Directed random pairs: duplicates, both directions, self-loops and isolated nodes all occur."""
    edge_index = torch.randint(0, max(n // 2, 1), (2, edges), generator=gen)  # upper half of the ids isolated
    edge_index = torch.cat([edge_index, edge_index[:, : edges // 4].flip(0), torch.arange(3).repeat(2, 1)], dim=1)
    return Data(edge_index=edge_index % n, y=torch.randint(-1, 3, (n,), generator=gen), num_nodes=n)


@pytest.mark.parametrize(("n", "edges"), [(1, 0), (3, 6), (12, 40), (40, 300), (60, 120), (200, 2500)])
def test_every_metric_equals_networkx_on_non_simple_random_graphs(n, edges):
    gen = torch.Generator().manual_seed(n)
    real, released = _random_graph(gen, n, edges), _random_graph(gen, n, 2 * edges)
    metrics = structural_fidelity(released, real)
    refs = {"real": _networkx_reference(real), "released": _networkx_reference(released)}
    for key, ref in refs.items():
        assert metrics[f"triangles_{key}"] == ref["triangles"]
        assert metrics[f"avg_clustering_{key}"] == ref["avg_clustering"]  # the same float, not just close
        assert metrics[f"num_nodes_{key}"] == ref["num_nodes"] and metrics[f"num_edges_{key}"] == ref["num_edges"]
        assert metrics[f"edge_homophily_{key}"] == ref["edge_homophily"]
    assert metrics["degree_ks"] == ks_2samp(refs["released"]["degrees"], refs["real"]["degrees"]).statistic
    tri_real, tri_released = refs["real"]["triangles"], refs["released"]["triangles"]
    assert metrics["triangle_rel_error"] == abs(tri_released - tri_real) / max(tri_real, 1)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("chunk", [1, 97, 1 << 24])  # wedges per product chunk: many chunks down to one
def test_triangles_per_node_equal_networkx(seed, chunk, monkeypatch):
    monkeypatch.setattr(triangles, "_WEDGES_PER_CHUNK", chunk)
    gen = torch.Generator().manual_seed(seed)
    graph = _random_graph(gen, 300, 3000)
    pairs = simple_pairs(graph.edge_index, 300)
    expected = _networkx_reference(graph)["per_node"]
    assert triangles_per_node(pairs, 300).tolist() == expected
    assert sum(expected) > 0


def test_fidelity_evaluator_end_to_end_writes_both_plots_and_renders_every_table(tmp_path):
    config = load_config(SMOKE, ["evaluate.evaluators=[fidelity]"])
    result = run_pipeline(config, out_dir=tmp_path / "run", progress=False)
    for plot in ("plots/degree.png", "plots/clustering.png"):
        assert (result.out_dir / plot).read_bytes()[:8] == PNG_MAGIC, plot
    metrics = json.loads((result.out_dir / "metrics.json").read_text())
    assert set(metrics["fidelity"]) == KEYS
    pgb = metrics["pgb_queries"]
    assert pgb["nodes"]["real"] == 600 and pgb["distance_sources"]["real"] == 600  # exact below the source cap
    assert pgb["triangles"]["real"] == metrics["fidelity"]["triangles_real"]
    assert set(metrics["graph_mmd"]) == {"degree_mmd", "degree_emd", "clustering_mmd", "clustering_emd"}
    report = (result.out_dir / "report.md").read_text()
    triangles = pgb["triangles"]
    for row in ("| degree_ks |", f"| triangles | {triangles['real']} | {triangles['released']} |", "| degree_dist |",
                "| evc_top |", "| clustering_mmd |", "| metric | real | released |",
                "![plots/clustering.png](plots/clustering.png)"):
        assert row in report, row
    assert "{" not in report  # every metric a cell of its own, no dict printed into a cell


def test_pgb_comparison_agrees_with_structural_fidelity():
    gen = torch.Generator().manual_seed(5)
    real, released = _random_graph(gen, 200, 2500), _random_graph(gen, 200, 1200)
    fidelity, pgb = structural_fidelity(released, real), pgb_comparison(released, real, seed=0)
    for key in ("real", "released"):
        assert pgb["triangles"][key] == fidelity[f"triangles_{key}"]
        assert pgb["avg_clustering"][key] == fidelity[f"avg_clustering_{key}"]
        assert pgb["edges"][key] == fidelity[f"num_edges_{key}"] and pgb["nodes"][key] == fidelity[f"num_nodes_{key}"]
