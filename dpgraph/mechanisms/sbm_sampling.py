"""Post-processing for `dp-sbm`: turn released (noisy) statistics into a sampled synthetic graph."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data

from dpgraph.data.sbm import sample_blocks
from dpgraph.mechanisms.base import numpy_generator


def apportion(weights: Tensor, total: int) -> list[int]:
    """Split `total` into integer parts proportional to `weights` (largest remainder), each part >= 1."""
    c = len(weights)
    share = weights / weights.sum() * (total - c)
    parts = share.floor().long()
    remainder = (share - parts).argsort(descending=True)[: (total - c) - int(parts.sum())]
    parts[remainder] += 1
    return (parts + 1).tolist()


def block_probabilities(counts: Tensor, pair_edges: Tensor, scale: float) -> Tensor:
    """p_ab = e_ab / #pairs(a, b) from noisy counts (clamped to >= 1), times `scale`, clamped to [0, 1]."""
    c = len(counts)
    n = counts.clamp_min(1.0)
    probs = torch.zeros(c, c, dtype=torch.float64)
    rows, cols = torch.triu_indices(c, c)
    pairs = torch.where(rows == cols, n[rows] * (n[rows] - 1).clamp_min(1.0) / 2, n[rows] * n[cols])
    probs[rows, cols] = (pair_edges.clamp_min(0.0) / pairs * scale).clamp(0.0, 1.0)
    return torch.maximum(probs, probs.T)


def sample_sbm_graph(counts: Tensor, pair_edges: Tensor, sums: Tensor, num_nodes: int | None,
                     generator: torch.Generator) -> Data:
    """A synthetic graph with class proportions from `counts`, SBM edge probabilities from `pair_edges` (rescaled
    so expected degrees match when `num_nodes` differs from the noisy node count) and Bernoulli features with
    per-class means sums_c / n_c clamped to [0, 1]."""
    rng = numpy_generator(generator)
    n_hat = counts.clamp_min(1.0)
    total = num_nodes if num_nodes is not None else max(len(counts), int(round(float(n_hat.sum()))))
    sizes = apportion(n_hat, total)
    probs = block_probabilities(counts, pair_edges, scale=float(n_hat.sum()) / total)
    y = torch.cat([torch.full((s,), c, dtype=torch.long) for c, s in enumerate(sizes)])
    means = (sums.clamp_min(0.0) / n_hat[:, None]).clamp(0.0, 1.0).float()
    x = torch.bernoulli(means[y], generator=generator)
    return Data(x=x, edge_index=sample_blocks(sizes, probs, rng), y=y, num_nodes=total)
