"""Exact per-node triangle counts of a simple undirected graph, by sparse matrix products on a degree-ordered
orientation (each triangle found once, wedges bounded by the orientation)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from torch import Tensor

# rows of the left factor per product chunk are chosen so that a chunk expands at most this many wedges
_WEDGES_PER_CHUNK = 1 << 24


def _chunks(work: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive row ranges whose summed `work` stays near `_WEDGES_PER_CHUNK` (a heavier row gets its own)."""
    ends = np.searchsorted(np.cumsum(work), np.arange(1, int(work.sum()) // _WEDGES_PER_CHUNK + 1) * _WEDGES_PER_CHUNK)
    bounds = np.unique(np.concatenate([[0], np.minimum(ends + 1, work.size), [work.size]]))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def _masked_row_sums(left: sp.csr_matrix, right: sp.csr_matrix, mask: sp.csr_matrix, work: np.ndarray,
                     col_sums: np.ndarray | None = None) -> np.ndarray:
    """Row sums of ``(left @ right) ∘ mask``, in row chunks; adds its column sums into `col_sums` when given."""
    rows = np.zeros(left.shape[0], dtype=np.int64)
    for start, stop in _chunks(work):
        masked = (left[start:stop] @ right).multiply(mask[start:stop]).tocsr()
        rows[start:stop] = np.asarray(masked.sum(axis=1)).ravel()
        if col_sums is not None:
            col_sums += np.bincount(masked.indices, weights=masked.data, minlength=col_sums.size).astype(np.int64)
    return rows


def triangles_per_node(pairs: Tensor, num_nodes: int) -> np.ndarray:
    """int64 [n]: the number of triangles through each node, for the simple graph of `pairs` (`simple_pairs`).

    Edges are oriented from the lower to the higher (degree, id) rank, L the oriented adjacency: a triangle u < v < w
    in rank is counted once, at u by row sums and at w by column sums of (L L) ∘ L, and at v by row sums of
    (L^T L) ∘ L. Out-degrees in L are at most sqrt(2m), which bounds the wedges each product expands."""
    u, w = pairs[0].numpy(), pairs[1].numpy()
    degree = np.bincount(u, minlength=num_nodes) + np.bincount(w, minlength=num_nodes)
    rank = np.empty(num_nodes, dtype=np.int64)
    rank[np.lexsort((np.arange(num_nodes), degree))] = np.arange(num_nodes)
    flip = rank[u] > rank[w]
    src, dst = np.where(flip, w, u), np.where(flip, u, w)
    ones = np.ones(src.size, dtype=np.int64)
    lower = sp.csr_matrix((ones, (src, dst)), shape=(num_nodes, num_nodes))
    out_degree = np.diff(lower.indptr)
    # wedges of a row: for each entry (i, j) of the left factor, row j of L is expanded
    highest = np.zeros(num_nodes, dtype=np.int64)
    lowest = _masked_row_sums(lower, lower, lower, np.bincount(src, weights=out_degree[dst], minlength=num_nodes),
                              highest)
    middle = _masked_row_sums(lower.T.tocsr(), lower, lower,
                              np.bincount(dst, weights=out_degree[src], minlength=num_nodes))
    return lowest + middle + highest
