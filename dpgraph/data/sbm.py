"""Stochastic block models: the sparse edge sampler (shared with `dp-sbm`) and a synthetic SBM dataset with
class-informative binary features (no files needed)."""

from __future__ import annotations

import numpy as np
import torch
from pydantic import Field, model_validator
from torch import Tensor
from torch_geometric.data import Data

from dpgraph.config.validation import Seed, StrictModel
from dpgraph.graphops import simple_undirected
from dpgraph.resources import check_memory

# peak bytes per drawn edge: two int64 ends, their stacked copy, both directions, and the sort inside coalesce
BYTES_PER_EDGE = 128
# peak bytes per feature entry of the dataset: the on-probabilities, the topic mask and the sampled features
_BYTES_PER_FEATURE = 16


def _block_pairs(sizes: list[int]) -> np.ndarray:
    """[C, C] number of node pairs per block pair (within a block: unordered pairs of distinct nodes)."""
    s = np.asarray(sizes, dtype=np.float64)
    pairs = np.outer(s, s)
    np.fill_diagonal(pairs, s * (s - 1) / 2)
    return pairs


def expected_edges(sizes: list[int], probs: Tensor) -> float:
    """The expected number of edges drawn by :func:`sample_blocks` (from the sizes and probabilities alone)."""
    return float(np.triu(_block_pairs(sizes) * probs.double().numpy()).sum())


def sample_blocks(sizes: list[int], probs: Tensor, rng: np.random.Generator) -> Tensor:
    """Undirected SBM edges on blocks of `sizes` (nodes numbered block by block), block pair (a, b) with edge
    probability probs[a, b]: Binomial(#pairs, p) edges drawn uniformly, self-loops dropped and duplicates merged
    (so slightly fewer than Binomial when p is large). Cost scales with the number of edges rather than n^2;
    a request whose edges would not fit in memory is refused before anything is drawn."""
    check_memory(BYTES_PER_EDGE * expected_edges(sizes, probs),
                 f"sampling a block model with about {expected_edges(sizes, probs):.3g} edges",
                 "ask for fewer nodes or lower edge probabilities")
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    pairs = _block_pairs(sizes)
    chunks = []
    for a in range(len(sizes)):
        for b in range(a, len(sizes)):
            m = rng.binomial(int(pairs[a, b]), float(probs[a, b])) if pairs[a, b] > 0 else 0
            u = offsets[a] + rng.integers(0, sizes[a], m)
            w = offsets[b] + rng.integers(0, sizes[b], m)
            chunks.append(np.stack([u, w]))
    return simple_undirected(torch.from_numpy(np.concatenate(chunks, axis=1)), int(offsets[-1]))


class SBMParams(StrictModel):
    """Block sizes are equal; class c's 'topic' features (a block of F // C columns) are on with `p_topic`,
    every other feature with `p_other`; edges within a class with `p_in`, across classes with `p_out`."""

    num_nodes: int = Field(default=600, ge=10)
    num_classes: int = Field(default=3, ge=2)
    num_features: int = Field(default=48, ge=2)
    p_in: float = Field(default=0.04, ge=0, le=1)
    p_out: float = Field(default=0.004, ge=0, le=1)
    p_topic: float = Field(default=0.3, ge=0, le=1)
    p_other: float = Field(default=0.03, ge=0, le=1)
    graph_seed: Seed = 0

    @model_validator(mode="after")
    def _every_class_has_nodes_and_topic(self) -> SBMParams:
        if self.num_nodes < self.num_classes or self.num_features < self.num_classes:
            raise ValueError("num_nodes and num_features must each be at least num_classes (every class needs "
                             "nodes and its own topic features)")
        return self

    def sizes(self) -> list[int]:
        c = self.num_classes
        return [self.num_nodes // c + (1 if i < self.num_nodes % c else 0) for i in range(c)]

    def block_probabilities(self) -> Tensor:
        probs = torch.full((self.num_classes, self.num_classes), self.p_out, dtype=torch.float64)
        return probs.fill_diagonal_(self.p_in)


def make_sbm_graph(params: SBMParams) -> Data:
    """Sample the graph deterministically from `graph_seed`; refuse, before sampling, one that would not fit in
    memory."""
    sizes, probs = params.sizes(), params.block_probabilities()
    feature_bytes = _BYTES_PER_FEATURE * params.num_nodes * params.num_features
    check_memory(feature_bytes + BYTES_PER_EDGE * expected_edges(sizes, probs),
                 f"the sbm dataset ({params.num_nodes} nodes, {params.num_features} features, about "
                 f"{expected_edges(sizes, probs):.3g} edges)",
                 "lower dataset.num_nodes, dataset.num_features or dataset.p_in / p_out")
    edge_index = sample_blocks(sizes, probs, np.random.default_rng(params.graph_seed))
    c = params.num_classes
    y = torch.cat([torch.full((s,), i, dtype=torch.long) for i, s in enumerate(sizes)])
    block = params.num_features // c
    topic = torch.zeros(c, params.num_features, dtype=torch.bool)
    for i in range(c):
        topic[i, i * block:(i + 1) * block] = True
    p = torch.where(topic[y], params.p_topic, params.p_other)
    x = torch.bernoulli(p, generator=torch.Generator().manual_seed(params.graph_seed))
    return Data(x=x, edge_index=edge_index, y=y, num_nodes=params.num_nodes)
