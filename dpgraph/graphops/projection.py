"""The theta-projection by edge addition (Day, Li, Lyu, SIGMOD 2016): a greedy b-matching of the simple graph with
capacity theta at every node, its edges visited in a public order that deleting a node does not disturb."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
from torch import Tensor

from dpgraph.errors import DPGraphError
from dpgraph.graphops.pairs import simple_pairs


def check_theta(theta: int) -> None:
    """Fail with a `DPGraphError` unless theta is an integer >= 1."""
    if isinstance(theta, bool) or not isinstance(theta, Integral) or theta < 1:
        raise DPGraphError(f"theta must be an integer >= 1, got {theta!r}: set a positive projection degree")


def _stream_order(pairs: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Positions of `pairs` sorted by (rank of the later-ranked endpoint, rank of the earlier-ranked endpoint): nodes
    arrive in rank order, each bringing its edges to earlier nodes. Removing a node keeps the others' order."""
    ranked = rank[pairs]
    return np.lexsort((ranked.min(axis=0), ranked.max(axis=0)))


def theta_projection(edge_index: Tensor, num_nodes: int, theta: int, rank: Tensor) -> Tensor:
    """[2, m'] pairs (u < w, each once, in `simple_pairs` order) kept by the projection: in the stream order an edge
    is kept iff both endpoints have fewer than `theta` kept edges so far. `rank` [num_nodes] holds distinct public
    keys (a data-independent permutation); with theta >= the maximum degree every edge is kept."""
    check_theta(theta)
    keys = torch.as_tensor(rank).long().numpy()
    if keys.shape != (num_nodes,) or np.unique(keys).size != num_nodes:
        raise DPGraphError("rank must hold num_nodes distinct public keys: pass a permutation of the node ids")
    pairs = simple_pairs(edge_index, num_nodes)
    ends = pairs.numpy()
    order = _stream_order(ends, keys)
    # greedy b-matching in a fixed order is inherently sequential and no library offers it: a plain loop
    load = [0] * num_nodes
    kept = np.zeros(ends.shape[1], dtype=bool)
    for position, u, w in zip(order.tolist(), ends[0, order].tolist(), ends[1, order].tolist(), strict=True):
        if load[u] < theta and load[w] < theta:
            load[u] += 1
            load[w] += 1
            kept[position] = True
    return pairs[:, torch.from_numpy(kept)]


def projected_degrees(pairs: Tensor, num_nodes: int) -> np.ndarray:
    """int64 [num_nodes]: each node's number of edges among `pairs` ([2, m], each undirected edge once)."""
    ends = pairs.numpy()
    return np.bincount(ends[0], minlength=num_nodes) + np.bincount(ends[1], minlength=num_nodes)
