"""A synthetic stochastic-block-model graph with class-informative binary features (no files needed)."""

from __future__ import annotations

import torch
from pydantic import Field
from torch_geometric.data import Data
from torch_geometric.utils import stochastic_blockmodel_graph

from dpgraph.config.validation import StrictModel


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
    graph_seed: int = 0


def make_sbm_graph(params: SBMParams) -> Data:
    """Sample the graph deterministically from `graph_seed`."""
    gen = torch.Generator().manual_seed(params.graph_seed)
    c = params.num_classes
    sizes = [params.num_nodes // c + (1 if i < params.num_nodes % c else 0) for i in range(c)]
    probs = torch.full((c, c), params.p_out)
    probs.fill_diagonal_(params.p_in)
    torch.manual_seed(params.graph_seed)  # PyG's sampler takes no generator
    edge_index = stochastic_blockmodel_graph(sizes, probs, directed=False)
    y = torch.cat([torch.full((s,), i, dtype=torch.long) for i, s in enumerate(sizes)])
    block = params.num_features // c
    topic = torch.zeros(c, params.num_features, dtype=torch.bool)
    for i in range(c):
        topic[i, i * block:(i + 1) * block] = True
    p = torch.where(topic[y], params.p_topic, params.p_other)
    x = torch.bernoulli(p, generator=gen)
    return Data(x=x, edge_index=edge_index, y=y, num_nodes=params.num_nodes)
