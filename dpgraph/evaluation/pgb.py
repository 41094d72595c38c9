"""The 15 queries of PGB (Liu et al. 2024, "PGB: benchmarking differentially private synthetic graph generation
algorithms") on one graph, and their comparison between a released and the real graph with PGB's error measures.

Analyst-side evaluation: computed on the real graph outside the privacy ledger, NOT differentially private, never part
of a release. Every graph is read as simple and undirected (`simple_pairs`), isolated nodes kept.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph
from sklearn.metrics import normalized_mutual_info_score
from torch_geometric.data import Data

from dpgraph.graphops.pairs import simple_pairs
from dpgraph.graphops.triangles import triangles_per_node

#: public cap on the breadth-first-search sources of the distance queries: all nodes up to it, a seeded sample above
DISTANCE_SOURCES = 4096
#: distance-matrix entries computed per chunk of sources (bounds memory to a few hundred MB)
_DISTANCES_PER_CHUNK = 1 << 24
#: networkx.eigenvector_centrality's stopping rule (PGB calls it with max_iter=10000)
_EVC_MAX_ITER, _EVC_TOL = 10_000, 1e-6


def local_clustering(degree: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Per-node clustering 2 t_i / (d_i (d_i - 1)), 0 where d_i < 2 (networkx's `clustering`)."""
    wedges = degree * (degree - 1)
    return np.where(triangles > 0, 2 * triangles / np.maximum(wedges, 1), 0.0)


def average_clustering(local: np.ndarray) -> float | None:
    """Mean of `local` over all nodes, summed in node order as networkx's `average_clustering` does (so the same
    float); None for a graph without nodes."""
    return sum(local.tolist()) / local.size if local.size else None


def degrees_and_clustering(data: Data) -> tuple[np.ndarray, np.ndarray]:
    """Node degrees and local clustering coefficients of the simple undirected graph of `data`."""
    n = int(data.num_nodes)
    pairs = simple_pairs(data.edge_index.cpu(), n)
    degree = np.bincount(pairs.flatten().numpy(), minlength=n)
    return degree, local_clustering(degree, triangles_per_node(pairs, n))


def _distance_histogram(adjacency: sp.csr_matrix, seed: int, max_sources: int) -> tuple[np.ndarray, int]:
    """Counts h[k] of ordered pairs (s, v), s a source and v != s reachable from it, at hop distance k (h[0] = 0),
    by breadth-first search from every node, or from `max_sources` nodes drawn with `seed` when there are more; and
    the number of sources."""
    n = adjacency.shape[0]
    sources = np.arange(n) if n <= max_sources else np.sort(
        np.random.default_rng(seed).choice(n, size=max_sources, replace=False))
    histogram = np.zeros(1, dtype=np.int64)
    step = max(1, _DISTANCES_PER_CHUNK // max(n, 1))
    for start in range(0, sources.size, step):
        # `adjacency` is symmetric: its directed distances are the undirected ones, without scipy symmetrising it
        dist = csgraph.shortest_path(adjacency, directed=True, unweighted=True, indices=sources[start:start + step])
        dist[np.isinf(dist)] = 0  # unreachable pairs land in bin 0, emptied below with the self-distances
        counts = np.bincount(dist.astype(np.int64).ravel())
        histogram = np.pad(histogram, (0, max(0, counts.size - histogram.size)))
        histogram[:counts.size] += counts
    histogram[0] = 0  # a node's distance to itself
    return histogram, int(sources.size)


def _eigenvector_centrality(adjacency: sp.csr_matrix) -> np.ndarray | None:
    """networkx.eigenvector_centrality: power iteration x <- (A + I) x / ||(A + I) x||_2 from the uniform vector,
    stopped once ||x - x_last||_1 < n tol; None for an empty graph or without convergence. Written as sparse products
    because networkx iterates in pure Python."""
    n = adjacency.shape[0]
    if n == 0:
        return None
    x = np.full(n, 1.0 / n)
    for _ in range(_EVC_MAX_ITER):
        last = x
        x = last + adjacency @ last
        x = x / (np.linalg.norm(x) or 1.0)
        if np.abs(x - last).sum() < n * _EVC_TOL:
            return x
    return None


def _communities(graph: nx.Graph, labels: np.ndarray | None, seed: int) -> dict[str, Any]:
    """Louvain communities (networkx, `seed`), their modularity (None without edges) and their NMI with `labels`
    over the nodes labelled >= 0 (arithmetic normalisation, scikit-learn's default; None without labelled nodes)."""
    if graph.number_of_edges() == 0:
        return {"communities": graph.number_of_nodes(), "modularity": None, "label_nmi": None}
    communities = nx.community.louvain_communities(graph, seed=seed)
    membership = np.empty(graph.number_of_nodes(), dtype=np.int64)
    for index, members in enumerate(communities):
        membership[list(members)] = index
    nmi = None
    if labels is not None and (labels >= 0).any():
        labelled = labels >= 0
        nmi = float(normalized_mutual_info_score(labels[labelled], membership[labelled]))
    return {"communities": len(communities), "modularity": float(nx.community.modularity(graph, communities)),
            "label_nmi": nmi}


def _assortativity(graph: nx.Graph) -> float | None:
    """networkx's degree assortativity (Pearson correlation of the degrees at the two ends of an edge); None without
    edges or when every edge end has the same degree."""
    if graph.number_of_edges() == 0:
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        value = float(nx.degree_assortativity_coefficient(graph))
    return value if np.isfinite(value) else None


def pgb_queries(data: Data, seed: int, max_sources: int = DISTANCE_SOURCES) -> dict[str, Any]:
    """PGB's 15 queries on one graph (simple, undirected, isolated nodes kept); None where undefined.

    Scalars: `nodes`, `edges`, `triangles`, `avg_degree` (2m/n), `degree_var` (sample variance, ddof=1 as PGB),
    `diameter`, `avg_path`, `transitivity` (3 triangles / connected triples, 0 without triangles as networkx),
    `avg_clustering`, `modularity` of the Louvain communities (networkx `louvain_communities` with `seed`; their
    count in `communities`), `label_nmi` (NMI between those communities and the node labels y >= 0), `assortativity`
    (degree).
    Arrays: `degree_dist` (node counts per degree 0..max), `distance_dist` (pair counts per hop distance, index 0
    empty), `eigenvector` (networkx's eigenvector centrality, unit L2 norm, sorted descending).

    Distances are over reachable pairs of distinct nodes of the graph as given, as PGB computes them (its diameter is
    the largest component diameter, its average path the mean over pairs within components); PGB's distance histogram
    also counts each node's zero distance to itself, this one does not. With more than `max_sources` nodes the
    breadth-first searches start from a `seed`-drawn sample of `max_sources` nodes (`distance_sources` says how many):
    `avg_path` and `distance_dist` are then estimates and `diameter` a lower bound.
    """
    n = int(data.num_nodes)
    pairs = simple_pairs(data.edge_index.cpu(), n)
    u, w = pairs.numpy()
    degree = np.bincount(pairs.flatten().numpy(), minlength=n)
    triangles = triangles_per_node(pairs, n)
    adjacency = sp.csr_matrix((np.ones(2 * u.size), (np.r_[u, w], np.r_[w, u])), shape=(n, n))
    distances, sources = _distance_histogram(adjacency, seed, max_sources)
    reachable = int(distances.sum())
    connected_triples = int((degree * (degree - 1)).sum()) // 2
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(u.tolist(), w.tolist(), strict=True))
    evc = _eigenvector_centrality(adjacency)
    labels = data.y.cpu().numpy() if getattr(data, "y", None) is not None else None
    return {
        "nodes": n,
        "edges": int(u.size),
        "triangles": int(triangles.sum()) // 3,
        "avg_degree": 2 * u.size / n if n else None,
        "degree_var": float(np.var(degree, ddof=1)) if n > 1 else None,
        "degree_dist": np.bincount(degree),
        "diameter": distances.size - 1 if reachable else None,
        "avg_path": float(np.arange(distances.size) @ distances) / reachable if reachable else None,
        "distance_dist": distances,
        "distance_sources": sources,
        "transitivity": int(triangles.sum()) / connected_triples if triangles.any() else 0.0,
        "avg_clustering": average_clustering(local_clustering(degree, triangles)),
        **_communities(graph, labels, seed),
        "assortativity": _assortativity(graph),
        "eigenvector": None if evc is None else np.sort(evc)[::-1],
    }


def relative_error(released: float | None, real: float | None) -> float | None:
    """|released - real| / |real|; 0 when both are equal, None when either is None or only real is 0."""
    if released is None or real is None:
        return None
    if released == real:
        return 0.0
    return abs(released - real) / abs(real) if real != 0 else None


def distribution_kl(real: np.ndarray, released: np.ndarray) -> float | None:
    """KL(P || Q) of two count histograms on 0..K (the shorter padded with zeros), P from `real`, with PGB's
    smoothing: sum_k p_k log((p_k + e) / (q_k + e)), e the float64 machine epsilon, so a bin the released graph
    misses costs p_k log(p_k / e) instead of infinity. None when either histogram is empty."""
    if real.sum() == 0 or released.sum() == 0:
        return None
    size = max(real.size, released.size)
    p = np.pad(real / real.sum(), (0, size - real.size))
    q = np.pad(released / released.sum(), (0, size - released.size))
    eps = np.finfo(np.float64).eps
    return float(np.sum(p * np.log((p + eps) / (q + eps))))


def _top_centralities(real: dict[str, Any], released: dict[str, Any]) -> dict[str, float | None]:
    """The k = max(1, n_real // 100) largest eigenvector centralities of each graph (k public: n is; PGB takes
    1% of n): their means side by side and PGB's error, the mean absolute difference of the two sorted top-k vectors.
    No node correspondence is needed. None where a graph has fewer than k nodes or no centrality."""
    k = max(1, real["nodes"] // 100)
    tops = [None if q["eigenvector"] is None or q["eigenvector"].size < k else q["eigenvector"][:k]
            for q in (real, released)]
    means = [None if top is None else float(top.mean()) for top in tops]
    mae = None if None in means else float(np.abs(tops[0] - tops[1]).mean())
    return {"real": means[0], "released": means[1], "mae": mae}


#: PGB's 15 queries in its order, each with its error measure
_QUERIES = (("nodes", "rel_error"), ("edges", "rel_error"), ("triangles", "rel_error"), ("avg_degree", "rel_error"),
            ("degree_var", "rel_error"), ("degree_dist", "kl"), ("diameter", "rel_error"), ("avg_path", "rel_error"),
            ("distance_dist", "kl"), ("transitivity", "rel_error"), ("avg_clustering", "rel_error"),
            ("label_nmi", "rel_error"), ("modularity", "rel_error"), ("assortativity", "rel_error"),
            ("evc_top", "mae"))


def pgb_comparison(released: Data, real: Data, seed: int, max_sources: int = DISTANCE_SOURCES) -> dict[str, dict]:
    """PGB's 15 queries (`pgb_queries`) of both graphs side by side with PGB's error measure, one dict per query in
    PGB's order (`_QUERIES`): scalars as {"real", "released", "rel_error"} (`relative_error`), `degree_dist` and
    `distance_dist` as {"kl"} (`distribution_kl`, P the real graph's), `evc_top` as `_top_centralities`; then, to
    read them by, `communities` (Louvain community counts) and `distance_sources` (sources of the distance queries:
    equal to `nodes` when exact) as {"real", "released"}.

    PGB's community NMI aligns the two partitions node by node, which a synthetic graph's nodes do not allow: here
    `label_nmi` is, per graph, the NMI of its own Louvain communities with its own node labels. `seed` (public) drives
    Louvain and the source sample; NOT private (reads the real graph), never part of a release.
    """
    queries = {"real": pgb_queries(real, seed, max_sources), "released": pgb_queries(released, seed, max_sources)}
    rows: dict[str, dict] = {}
    for name, measure in _QUERIES:
        if measure == "kl":
            rows[name] = {"kl": distribution_kl(queries["real"][name], queries["released"][name])}
        elif measure == "mae":
            rows[name] = _top_centralities(queries["real"], queries["released"])
        else:
            real_value, released_value = queries["real"][name], queries["released"][name]
            rows[name] = {"real": real_value, "released": released_value,
                          "rel_error": relative_error(released_value, real_value)}
    for name in ("communities", "distance_sources"):
        rows[name] = {side: queries[side][name] for side in ("real", "released")}
    return rows
