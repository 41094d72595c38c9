"""The `sampler:` block of a method's parameters, and building a `SubgraphSet` from it."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor
from torch_geometric.data import Data

from dpgraph.config.validation import StrictModel
from dpgraph.errors import DPGraphError
from dpgraph.sampling.ego import ego_subgraphs
from dpgraph.sampling.subgraphs import SubgraphSet


def training_roots(data: Data) -> Tensor:
    """The subgraph roots: labelled training nodes (which nodes are in the training split is public)."""
    return (data.train_mask & (data.y >= 0)).nonzero().flatten()


class SamplerParams(StrictModel):
    """``kind: ego`` (node-stable; ``hops``, ``fanout``, public ``max_degree`` promise when hops >= 1) or
    ``kind: random-walk`` (``max_size``, ``walk_length``, ``restart_prob``, ``walks_per_root``,
    ``occurrence_bound``; NOT node-stable, so refused in private runs)."""

    kind: Literal["ego", "random-walk"] = "ego"
    hops: int = Field(default=0, ge=0, le=3)
    fanout: int = Field(default=10, ge=1)
    max_degree: int | None = Field(default=None, ge=1)
    max_size: int = Field(default=32, ge=1)
    walk_length: int = Field(default=8, ge=0)
    restart_prob: float = Field(default=0.2, ge=0, lt=1)
    walks_per_root: int = Field(default=4, ge=1)
    occurrence_bound: int = Field(default=4, ge=1)

    @model_validator(mode="after")
    def _promise(self) -> SamplerParams:
        if self.kind == "ego" and self.hops >= 1 and self.max_degree is None:
            raise ValueError("an ego sampler with hops >= 1 needs max_degree (a public promise that bounds how "
                             "many subgraphs a node can reach); set it or use hops: 0")
        return self

    def check_private(self) -> None:
        """Refuse samplers whose occurrence bound does not survive removing a node."""
        if self.kind != "ego":
            raise DPGraphError(f"sampler.kind={self.kind} is not node-stable (removing a node re-routes walks and "
                               "cascades through the occurrence cap), so its K does not bound the privacy loss; "
                               "use sampler.kind: ego in private runs")

    def build(self, edge_index: Tensor, num_nodes: int, roots: Tensor, generator: torch.Generator) -> SubgraphSet:
        """The subgraphs of ``roots``; the observed maximum occurrence is checked against the promised K."""
        if self.kind == "ego":
            result = ego_subgraphs(edge_index, num_nodes, roots, self.hops, self.fanout, generator, self.max_degree)
        else:
            from dpgraph.sampling.random_walk import random_walk_subgraphs

            result = random_walk_subgraphs(edge_index, num_nodes, roots, self.max_size, self.walk_length,
                                           self.restart_prob, self.walks_per_root, self.occurrence_bound, generator)
        result.check_bound(num_nodes)
        return result
