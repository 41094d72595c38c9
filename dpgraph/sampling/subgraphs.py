"""`SubgraphSet`: the output of every sampler, a fixed list of rooted subgraphs plus what the accountant needs.

``nodes`` [N, S] holds node ids (``-1`` pads a short subgraph); column 0 is always the root. The set states the
occurrence bound ``K`` it guarantees (every node id appears in at most K rows) and whether the sampler is
*node-stable*: for a graph G and G' = G minus one node v, under the sampler's coupling of its randomness, only
the rows that contain v differ. Node-stability plus ``K`` is exactly the precondition of the K-occurrence
accountant (:mod:`dpgraph.privacy.k_occurrence`) under the node unit; ``singleton`` sets (S = 1, one row per node)
are the one-example-per-unit case of plain DP-SGD.

Under the attributes unit the edges are public and every sampler reads only them (and its own randomness), so
neighbouring datasets share the whole set: replacing node v's attributes modifies exactly the rows that contain v,
at most the set's observed maximum occurrence of them, whatever the sampler (node-stable or not).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

from dpgraph.graphops import normalized_dense
from dpgraph.sampling.dense_batch import DenseSubgraphBatch

PAD = -1


@dataclass(frozen=True)
class SubgraphSet:
    """``N`` rooted subgraphs of at most ``S`` nodes each; see the module docstring for the contract."""

    nodes: Tensor
    occurrence_bound: int
    node_stable: bool
    sampler: str

    def __post_init__(self) -> None:
        if self.nodes.dim() != 2 or self.nodes.dtype != torch.long or self.nodes.size(1) < 1:
            raise ValueError("nodes must be a long tensor [N, S] with S >= 1")
        if bool((self.nodes[:, 0] < 0).any()):
            raise ValueError("column 0 of nodes must hold each subgraph's root")

    def __len__(self) -> int:
        return self.nodes.size(0)

    @property
    def roots(self) -> Tensor:
        return self.nodes[:, 0]

    @property
    def max_size(self) -> int:
        return self.nodes.size(1)

    @property
    def singleton(self) -> bool:
        """One node per subgraph and each node at most once: removing a node removes its (only) subgraph."""
        return self.max_size == 1 and self.occurrence_bound == 1

    def sizes(self) -> Tensor:
        return (self.nodes != PAD).sum(1)

    def occurrences(self, num_nodes: int) -> Tensor:
        """How many subgraphs each node id occurs in, [num_nodes]."""
        ids = self.nodes[self.nodes != PAD]
        return torch.bincount(ids, minlength=num_nodes)

    def stats(self, num_nodes: int) -> dict[str, Any]:
        """The summary `dpgraph sample --stats` prints."""
        sizes = self.sizes().double()
        occ = self.occurrences(num_nodes)
        return {
            "sampler": self.sampler,
            "num_subgraphs": len(self),
            "max_size": self.max_size,
            "mean_size": round(float(sizes.mean()), 4) if len(self) else 0.0,
            "max_occurrence": int(occ.max()) if occ.numel() else 0,
            "occurrence_bound": self.occurrence_bound,
            "node_stable": self.node_stable,
            "nodes_covered": int((occ > 0).sum()),
        }

    def with_observed_bound(self, num_nodes: int) -> SubgraphSet:
        """This set with K = its observed maximum occurrence (at least 1): the bound of the attributes unit, where
        neighbours share the set (module docstring)."""
        observed = int(self.occurrences(num_nodes).max()) if len(self) else 0
        return replace(self, occurrence_bound=max(observed, 1))

    def accounting_occurrences(self, unit: str) -> int | None:
        """What a DP-SGD step over these rows is accounted with: ``None`` (add/remove one row: plain Poisson DP-SGD)
        for one-node rows under the node unit, where removing a node removes its own row only; otherwise ``K``
        (a neighbour modifies at most K rows: the K-occurrence step), e.g. one-node rows under the replace-one
        attributes unit (K = 1)."""
        return None if self.singleton and unit == "node" else self.occurrence_bound

    def check_bound(self, num_nodes: int) -> None:
        """Raise if the observed maximum occurrence exceeds the promised bound (a sampler bug, never user error)."""
        observed = int(self.occurrences(num_nodes).max()) if len(self) else 0
        if observed > self.occurrence_bound:
            raise AssertionError(f"sampler {self.sampler} broke its occurrence bound: {observed} > "
                                 f"{self.occurrence_bound}")

    def dense_batch(self, x: Tensor, edge_index: Tensor, y: Tensor, chunk: int = 4096) -> DenseSubgraphBatch:
        """Features [N,S,F], normalised induced adjacency [N,S,S], mask, root (position 0) and root labels.

        The induced adjacency is looked up for all S x S position pairs at once (sorted edge keys +
        ``searchsorted``), ``chunk`` subgraphs at a time to bound memory; edges are taken as undirected."""
        n = x.size(0)
        nodes = self.nodes.to(x.device)
        mask = nodes != PAD
        safe = nodes.clamp_min(0)
        src, dst = edge_index.to(x.device)
        keys = torch.cat([src * n + dst, dst * n + src]).unique()
        adj_parts = []
        for start in range(0, len(self), chunk):
            part, part_mask = safe[start:start + chunk], mask[start:start + chunk]
            query = part.unsqueeze(2) * n + part.unsqueeze(1)
            pos = torch.searchsorted(keys, query.flatten()).clamp_max(max(keys.numel() - 1, 0))
            hit = (keys[pos] == query.flatten()).view_as(query) if keys.numel() else torch.zeros_like(query,
                                                                                                      dtype=torch.bool)
            both = part_mask.unsqueeze(2) & part_mask.unsqueeze(1)
            eye = torch.eye(self.max_size, dtype=torch.bool, device=x.device)
            adj_parts.append((hit & both & ~eye).to(x.dtype))
        adj = torch.cat(adj_parts) if adj_parts else x.new_zeros(0, self.max_size, self.max_size)
        feats = x[safe] * mask.unsqueeze(-1).to(x.dtype)
        root = torch.zeros(len(self), dtype=torch.long, device=x.device)
        return DenseSubgraphBatch(feats, normalized_dense(adj, mask), mask, root, y.to(x.device)[nodes[:, 0]])

    def pyg_batch(self, x: Tensor, edge_index: Tensor, y: Tensor) -> Batch:
        """The same subgraphs as a PyG ``Batch`` of induced subgraphs (``root_index``: the root's local index 0,
        ``n_id``: original node ids), for sparse models."""
        from torch_geometric.utils import subgraph

        graphs = []
        for row in self.nodes:
            ids = row[row != PAD]
            sub_edges, _ = subgraph(ids, edge_index, relabel_nodes=True, num_nodes=x.size(0))
            graphs.append(Data(x=x[ids], edge_index=sub_edges, y=y[ids[:1]], n_id=ids, root_index=torch.tensor([0])))
        return Batch.from_data_list(graphs)
