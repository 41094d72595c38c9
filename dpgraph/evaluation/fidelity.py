"""Structural fidelity of a released graph to the real one (analyst-side, not private)."""

from __future__ import annotations

import numpy as np
from scipy.stats import ks_2samp
from torch import Tensor
from torch_geometric.data import Data

from dpgraph.evaluation.pgb import average_clustering, local_clustering
from dpgraph.graphops.pairs import simple_pairs
from dpgraph.graphops.triangles import triangles_per_node


def _labelled_edge_homophily(pairs: Tensor, y: Tensor) -> float | None:
    """Fraction of edges joining equal labels, over edges whose endpoints both have `y >= 0`; None if none."""
    a, b = y[pairs[0]], y[pairs[1]]
    labelled = (a >= 0) & (b >= 0)
    count = int(labelled.sum())
    return int((labelled & (a == b)).sum()) / count if count else None


def structural_fidelity(released: Data, real: Data) -> dict[str, float | None]:
    """Compare degree distribution, clustering, edge homophily, triangles and sizes of two graphs.

    Graphs are read as simple and undirected (`simple_pairs`). `degree_ks` is the two-sample Kolmogorov-Smirnov
    statistic between degree sequences; average clustering counts nodes of degree < 2 (isolated included) as 0 (None
    without nodes); triangle counts are exact (`triangles_per_node`); `triangle_rel_error` is |released - real| /
    max(real, 1); edge homophily uses only edges whose two endpoints are labelled (None if there is none). Edge counts
    are undirected. These numbers are computed on the real graph for the analyst's evaluation only: they are NOT
    differentially private and must never be part of the release. PGB's queries and GraphRNN's MMDs are in
    :mod:`dpgraph.evaluation.pgb` and :mod:`dpgraph.evaluation.graph_mmd`.
    """
    stats = {}
    for key, data in (("real", real), ("released", released)):
        n = int(data.num_nodes)
        pairs = simple_pairs(data.edge_index.cpu(), n)
        degree = np.bincount(pairs.flatten().numpy(), minlength=n)
        triangles = triangles_per_node(pairs, n)
        stats[key] = {
            "degree": degree,
            f"avg_clustering_{key}": average_clustering(local_clustering(degree, triangles)),
            f"edge_homophily_{key}": _labelled_edge_homophily(pairs, data.y.cpu()),
            f"triangles_{key}": int(triangles.sum()) // 3,
            f"num_nodes_{key}": n,
            f"num_edges_{key}": int(pairs.size(1)),
        }
    real_triangles, released_triangles = stats["real"]["triangles_real"], stats["released"]["triangles_released"]
    metrics: dict[str, float | None] = {
        "degree_ks": float(ks_2samp(stats["released"].pop("degree"), stats["real"].pop("degree")).statistic),
        "triangle_rel_error": abs(released_triangles - real_triangles) / max(real_triangles, 1),
    }
    for key in ("real", "released"):
        metrics.update(stats[key])
    return metrics
