"""The `sampler:` block of a method's parameters, and building a `SubgraphSet` from it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from torch import Tensor
from torch_geometric.data import Data

from dpgraph.config.validation import StrictModel
from dpgraph.errors import DPGraphError
from dpgraph.privacy.randomness import SecretRandomness
from dpgraph.sampling.registry import SAMPLERS
from dpgraph.sampling.subgraphs import SubgraphSet


def training_roots(data: Data) -> Tensor:
    """The subgraph roots: labelled training nodes (which nodes are in the training split is public)."""
    return (data.train_mask & (data.y >= 0)).nonzero().flatten()


class SamplerParams(StrictModel):
    """``kind: ego`` (node-stable; ``hops``, ``fanout``, and under the node unit a public ``max_degree`` promise when
    hops >= 1) or ``kind: random-walk`` (``max_size``, ``walk_length``, ``restart_prob``, ``walks_per_root``,
    ``occurrence_bound``; NOT node-stable, so refused in node-level private runs). Under the attributes unit
    (public edges) both are sound without a promise, with K the set's observed maximum occurrence."""

    kind: Literal["ego", "random-walk"] = "ego"
    hops: int = Field(default=0, ge=0, le=3)
    fanout: int = Field(default=10, ge=1)
    max_degree: int | None = Field(default=None, ge=1)
    max_size: int = Field(default=32, ge=1)
    walk_length: int = Field(default=8, ge=0)
    restart_prob: float = Field(default=0.2, ge=0, lt=1)
    walks_per_root: int = Field(default=4, ge=1)
    occurrence_bound: int = Field(default=4, ge=1)

    @property
    def max_subgraph_size(self) -> int:
        """S, the most nodes one subgraph can hold: sum_{i <= hops} fanout^i (ego) or ``max_size`` (random walk)."""
        return SAMPLERS.get(self.kind).max_size(self)

    def dense_batch_bytes(self, num_roots: int, num_features: int) -> int:
        """Float32 bytes of the dense batch of ``num_roots`` subgraphs: features [N, S, F] and adjacency [N, S, S]
        (counted twice for the build's temporaries)."""
        size = self.max_subgraph_size
        return 4 * num_roots * size * (num_features + 2 * size)

    def check_private(self, edge_index: Tensor, num_nodes: int, unit: str = "node") -> None:
        """Refuse, before any private computation and under the node unit, samplers whose occurrence bound does not
        survive removing a node, an ego sampler without its degree promise, and graphs that break the promise (the
        message names the promise only). The attributes unit needs neither (its edges are public)."""
        if unit == "attributes":
            return
        problem = self.node_unit_problem()
        if problem is not None:
            raise DPGraphError(problem)
        SAMPLERS.get(self.kind).check_promise(self, edge_index, num_nodes)

    def node_unit_problem(self) -> str | None:
        """Why K would not bound a node's occurrences across node-level neighbours (None: it does, given the degree
        promise is kept)."""
        if not SAMPLERS.get(self.kind).node_stable:
            return (f"sampler.kind={self.kind} is not node-stable (removing a node changes subgraphs that do not "
                    "contain it), so its K does not bound the privacy loss; use sampler.kind: ego in node-level "
                    "private runs, or privacy.unit: attributes if the edges are public")
        if self.kind == "ego" and self.hops >= 1 and self.max_degree is None:
            return ("an ego sampler with hops >= 1 needs sampler.max_degree under the node unit (a public promise "
                    "that bounds how many subgraphs a node can reach); set it or use hops: 0")
        return None

    def build(self, edge_index: Tensor, num_nodes: int, roots: Tensor, randomness: SecretRandomness,
              unit: str = "node") -> SubgraphSet:
        """The subgraphs of ``roots``, keyed by ``randomness``; the observed maximum occurrence is checked against K,
        and under the attributes unit K is that observed maximum (:meth:`SubgraphSet.with_observed_bound`)."""
        result = SAMPLERS.get(self.kind).build(self, edge_index, num_nodes, roots, randomness)
        result.check_bound(num_nodes)
        return result.with_observed_bound(num_nodes) if unit == "attributes" else result
