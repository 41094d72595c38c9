"""Post-processing: a simple graph with given target degrees whose edges prefer high-score pairs, from an inner-product
scorer ``s(u, w) = <h_u, h_w> + b_u + b_w`` and public randomness (reads no private data).

Degree-constrained Gumbel matching, in up to ``MATCHING_ROUNDS`` rounds over the nodes with free stubs (residual
degree r_u > 0): each such node u lists its ``ceil(c r_u)`` best partners among the other free nodes by the key
``s(u, w) / tau + log r_u + log r_w + G_uw`` (G_uw i.i.d. standard Gumbel from the public generator; pairs already
wired excluded); the listed pairs, each at its larger key, are accepted greedily in decreasing key order while both
ends have a free stub. The key is the Gumbel-max form of a score-weighted configuration model, pair weight
``r_u r_w exp(s(u, w) / tau)``: the first accepted pair is drawn with probability proportional to it among the
listed ones, and the ``log r`` terms let nodes with many free stubs (hubs) wire before their partners fill up, which
the score alone would not. The stubs still free after the rounds are
wired uniformly by :func:`~dpgraph.mechanisms.dcsbm_sampling.wire_stubs` (a configuration model avoiding the pairs
already wired), which drops only its few unrepairable stubs. So node u ends with at most d_u edges, exactly d_u up to
those dropped stubs, and high-score partners are preferred. Scores are computed in row blocks: memory
O(block n + n c d_max), never n x n (hand-written: no library offers a score-weighted degree-constrained sampler).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_undirected
from dpgraph.mechanisms.base import numpy_generator
from dpgraph.mechanisms.dcsbm_sampling import wire_stubs

MATCHING_ROUNDS = 3  # rounds of Gumbel candidate lists among the nodes with free stubs before the uniform fallback
BLOCK_ROWS = 256  # score rows computed at once


def _gumbel(shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
    return -torch.log(-torch.log(torch.rand(shape, generator=generator).clamp_min(1e-12)))


def _candidate_pairs(h: Tensor, b: Tensor, free: np.ndarray, residual: np.ndarray, wired: set[int], candidates: float,
                     temperature: float, generator: torch.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(u, w, key)`` with u < w: each free node's ``ceil(candidates r_u)`` best free partners by Gumbel key (module
    docstring), pairs in ``wired`` (keys u n + w) excluded, each pair once at its larger key."""
    n, nodes = h.size(0), torch.from_numpy(free)
    position = torch.full((n,), -1, dtype=torch.long)
    position[nodes] = torch.arange(free.size)
    wanted = torch.from_numpy(np.minimum(np.ceil(candidates * residual[free]).astype(np.int64), free.size - 1))
    width = int(wanted.max())
    weight = torch.from_numpy(np.log(residual[free])).float()
    wired_pairs = torch.tensor(sorted(wired), dtype=torch.long)
    low, high = wired_pairs // n, wired_pairs % n
    ends = torch.cat([torch.stack([low, high]), torch.stack([high, low])], 1)
    ends = ends[:, (position[ends[0]] >= 0) & (position[ends[1]] >= 0)]  # wired pairs between free nodes
    firsts, seconds, keys = [], [], []
    for start in range(0, free.size, BLOCK_ROWS):
        rows = nodes[start:start + BLOCK_ROWS]
        block = (h[rows] @ h[nodes].T + b[rows, None] + b[None, nodes]) / temperature
        block += weight[start:start + rows.numel(), None] + weight[None, :] + _gumbel(tuple(block.shape), generator)
        local = torch.arange(rows.numel())
        block[local, start + local] = -torch.inf
        mine = (position[ends[0]] >= start) & (position[ends[0]] < start + rows.numel())
        block[position[ends[0, mine]] - start, position[ends[1, mine]]] = -torch.inf
        top, index = block.topk(width, dim=1)
        keep = (torch.arange(width)[None, :] < wanted[start:start + rows.numel(), None]) & torch.isfinite(top)
        firsts.append(rows[:, None].expand(-1, width)[keep])
        seconds.append(nodes[index[keep]])
        keys.append(top[keep])
    u, w, key = torch.cat(firsts).numpy(), torch.cat(seconds).numpy(), torch.cat(keys).double().numpy()
    low, high = np.minimum(u, w), np.maximum(u, w)
    order = np.argsort(-key, kind="stable")
    _, first = np.unique((low * n + high)[order], return_index=True)
    kept = order[np.sort(first)]  # each pair at its larger key, in decreasing key order
    return low[kept], high[kept], key[kept]


def scored_stub_matching(h: Tensor, b: Tensor, degrees: np.ndarray, temperature: float, candidates: float,
                         generator: torch.Generator) -> Tensor:
    """Edge index (both directions, simple) in which node u has at most ``degrees[u]`` edges, exactly that up to the
    fallback's dropped stubs, drawn by degree-constrained Gumbel matching on ``s(u, w) / temperature`` (module
    docstring); ``h`` [n, k], ``b`` [n] the scorer's encodings, ``candidates`` c >= 1 partners listed per free stub."""
    n = h.size(0)
    residual = np.asarray(degrees).astype(np.int64)
    if residual.shape != (n,) or np.any(residual < 0) or residual.sum() % 2:
        raise DPGraphError("target degrees must be one non-negative integer per node with an even sum: pass "
                           "graphical_degrees' output")
    if not candidates >= 1 or not math.isfinite(candidates):
        raise DPGraphError(f"candidates must be a finite number >= 1, got {candidates!r}: list at least one partner "
                           "per free stub")
    h, b = h.detach().float(), b.detach().float()
    wired: set[int] = set()
    for _ in range(MATCHING_ROUNDS):
        free = np.flatnonzero(residual > 0)
        if free.size < 2:
            break
        for u, w, _ in zip(*_candidate_pairs(h, b, free, residual, wired, candidates, temperature, generator),
                           strict=True):
            if residual[u] and residual[w]:
                residual[u] -= 1
                residual[w] -= 1
                wired.add(int(u) * n + int(w))
    pairs = np.array(sorted(wired), dtype=np.int64)
    matched = np.stack([pairs // n, pairs % n])
    rest = wire_stubs(np.zeros(n, dtype=np.int64), residual, np.array([[residual.sum() / 2]]),
                      numpy_generator(generator), avoid=matched)
    return simple_undirected(torch.from_numpy(np.concatenate([matched, rest], 1)), n)
