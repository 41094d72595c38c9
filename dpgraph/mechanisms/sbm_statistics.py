"""The statistics `dp-sbm` releases, each with its node-level L2 sensitivity (add/remove one labelled node).

Notation: L is the set of labelled training nodes (public membership), L_c those of class c, C classes,
D the public degree cap, R the public feature clip norm.

* `class_counts`: n_c = |L_c|. Removing a node lowers one entry by 1, so Delta_2 = 1.
* `feature_sums`: s_c = sum_{u in L_c} clip_R(x_u), clip_R(x) = x * min(1, R / ||x||_2). One row loses one
  vector of norm <= R, so Delta_2 = R.
* `capped_pair_edges`: for classes a <= b, e_ab = number of edges between L_a and L_b. Plain degree truncation
  is not node-stable (removing a hub can free capacity at every neighbour, which then keeps other edges), so
  we release the flow Lipschitz extension (Kasiviswanathan et al. 2013; Raskhodnikova & Smith 2016):
  f_ab = max flow in the network source -> u (capacity D) for u in L_a, u -> w (capacity 1) for each a-b edge,
  w -> sink (capacity D) for w in L_b; for a = b both sides are copies of L_a, every edge is an arc both ways,
  and we release f_aa / 2. If every node has at most D neighbours in each class, f_ab = e_ab exactly.
  Removing a node v of class a deletes its source arc and/or its sink arc (each of capacity D); the flow through
  them is at most D each, and the rest of any flow stays feasible, so f_ab drops by at most D (a != b) and
  f_aa / 2 by at most D; adding a node is the reverse. Only the C entries (a, b) touching v's class move, so
  Delta_2 = D * sqrt(C).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow
from torch import Tensor


def class_counts(y: Tensor, num_classes: int) -> Tensor:
    """n_c for labelled nodes y (values in 0..C-1)."""
    return torch.bincount(y, minlength=num_classes).double()


def feature_sums(x: Tensor, y: Tensor, num_classes: int, clip_norm: float) -> Tensor:
    """Per-class sums of feature vectors clipped to L2 norm `clip_norm`, shape [C, F]."""
    norms = x.double().norm(dim=1, keepdim=True).clamp_min(1e-12)
    clipped = x.double() * (clip_norm / norms).clamp(max=1.0)
    sums = torch.zeros(num_classes, x.size(1), dtype=torch.float64)
    return sums.index_add_(0, y, clipped)


def _max_flow(left: np.ndarray, right: np.ndarray, src: np.ndarray, dst: np.ndarray, cap: int) -> int:
    """Max flow of source -> left (cap) -> right via arcs src->dst (1) -> sink (cap); indices are positions."""
    n_left, n_right = len(left), len(right)
    if len(src) == 0:
        return 0
    source, sink = 0, 1 + n_left + n_right
    rows = np.concatenate([np.zeros(n_left, dtype=np.int64), 1 + src, 1 + n_left + np.arange(n_right)])
    cols = np.concatenate([1 + np.arange(n_left), 1 + n_left + dst, np.full(n_right, sink)])
    caps = np.concatenate([np.full(n_left, cap), np.ones(len(src), dtype=np.int64), np.full(n_right, cap)])
    graph = csr_matrix((caps.astype(np.int32), (rows, cols)), shape=(sink + 1, sink + 1))
    return int(maximum_flow(graph, source, sink).flow_value)


def capped_pair_edges(edge_index: Tensor, y: Tensor, labelled: Tensor, num_classes: int, degree_cap: int) -> Tensor:
    """Flow extension of the class-pair edge counts among labelled nodes, entries (a, b) for a <= b in row-major
    order of the upper triangle. `edge_index` holds both directions of each undirected edge; `y` is read only on
    `labelled` nodes."""
    src, dst = edge_index
    keep = labelled[src] & labelled[dst] & (src != dst)
    src, dst = src[keep].numpy(), dst[keep].numpy()
    ys, yd = y[torch.from_numpy(src)].numpy(), y[torch.from_numpy(dst)].numpy()
    labelled_idx = torch.nonzero(labelled).flatten()
    members = [labelled_idx[y[labelled_idx] == c].numpy() for c in range(num_classes)]
    out = []
    for a in range(num_classes):
        pos_a = {int(u): i for i, u in enumerate(members[a])}
        for b in range(a, num_classes):
            pos_b = {int(u): i for i, u in enumerate(members[b])}
            arc = (ys == a) & (yd == b)  # both directions are present, so a == b arcs appear twice, as intended
            s = np.array([pos_a[int(u)] for u in src[arc]], dtype=np.int64)
            t = np.array([pos_b[int(w)] for w in dst[arc]], dtype=np.int64)
            flow = _max_flow(members[a], members[b], s, t, degree_cap)
            out.append(flow / 2 if a == b else flow)
    return torch.tensor(out, dtype=torch.float64)


def pair_edges_sensitivity(degree_cap: int, num_classes: int) -> float:
    """Delta_2 of `capped_pair_edges` under node add/remove: D * sqrt(C)."""
    return degree_cap * math.sqrt(num_classes)
