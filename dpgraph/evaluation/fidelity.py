"""Structural fidelity of a released graph to the real one (analyst-side, not private)."""

from __future__ import annotations

import networkx as nx
from scipy.stats import ks_2samp
from torch_geometric.data import Data
from torch_geometric.utils import homophily, to_networkx

from dpgraph.graphops import simple_degrees


def _labelled_edge_homophily(data: Data) -> float | None:
    """Fraction of edges joining equal labels, over edges whose endpoints both have `y >= 0`; None if none."""
    row, col = data.edge_index
    keep = (data.y[row] >= 0) & (data.y[col] >= 0)
    if not bool(keep.any()):
        return None
    return float(homophily(data.edge_index[:, keep], data.y, method="edge"))


def _simple_graph(data: Data) -> nx.Graph:
    """The graph as an undirected networkx graph without self-loops; isolated nodes kept."""
    bare = Data(edge_index=data.edge_index, num_nodes=data.num_nodes)
    return to_networkx(bare, to_undirected=True, remove_self_loops=True)


def structural_fidelity(released: Data, real: Data) -> dict[str, float | None]:
    """Compare degree distribution, clustering, edge homophily, triangles and sizes of two graphs.

    Graphs are read as simple and undirected. `degree_ks` is the two-sample Kolmogorov-Smirnov statistic
    between degree sequences; average clustering counts isolated nodes as 0; triangle counts are exact;
    `triangle_rel_error` is |released - real| / max(real, 1); edge homophily uses only edges whose two
    endpoints are labelled (None if there is none). Edge counts are undirected.
    These numbers are computed on the real graph for the analyst's evaluation only: they are NOT
    differentially private and must never be part of the release.
    """
    graphs = {"real": _simple_graph(real), "released": _simple_graph(released)}
    triangles = {k: sum(nx.triangles(g).values()) // 3 for k, g in graphs.items()}
    metrics: dict[str, float | None] = {
        "degree_ks": float(ks_2samp(simple_degrees(released), simple_degrees(real)).statistic),
        "triangle_rel_error": abs(triangles["released"] - triangles["real"]) / max(triangles["real"], 1),
    }
    for key, data in (("real", real), ("released", released)):
        graph = graphs[key]
        metrics[f"avg_clustering_{key}"] = float(nx.average_clustering(graph)) if len(graph) else 0.0
        metrics[f"edge_homophily_{key}"] = _labelled_edge_homophily(data)
        metrics[f"triangles_{key}"] = triangles[key]
        metrics[f"num_nodes_{key}"] = graph.number_of_nodes()
        metrics[f"num_edges_{key}"] = graph.number_of_edges()
    return metrics
