"""Padded dense batches of rooted subgraphs, with the GCN-normalised adjacency of each subgraph."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.utils import subgraph, to_dense_adj


@dataclass(frozen=True)
class DenseSubgraphBatch:
    """``B`` subgraphs padded to ``S`` nodes.

    ``x`` [B, S, F] features (padding rows 0); ``adj`` [B, S, S] = D^-1/2 (A + I) D^-1/2 over the valid nodes
    (padding rows/cols 0); ``mask`` [B, S] valid nodes; ``root`` [B] position of the root; ``y`` [B] root labels.
    """

    x: Tensor
    adj: Tensor
    mask: Tensor
    root: Tensor
    y: Tensor

    def __len__(self) -> int:
        return self.y.size(0)

    def index(self, idx: Tensor) -> DenseSubgraphBatch:
        """The subgraphs at ``idx`` (a 1-D long tensor of positions), in that order."""
        idx = idx.to(self.y.device)
        return DenseSubgraphBatch(self.x[idx], self.adj[idx], self.mask[idx], self.root[idx], self.y[idx])

    def to(self, device: torch.device | str) -> DenseSubgraphBatch:
        """A copy on ``device``."""
        return DenseSubgraphBatch(*(t.to(device) for t in (self.x, self.adj, self.mask, self.root, self.y)))


def normalized_adjacency(adj: Tensor, mask: Tensor) -> Tensor:
    """D^-1/2 (A + I) D^-1/2 for a 0/1 adjacency [..., S, S] without self-loops, restricted to ``mask`` [..., S]."""
    valid = mask.to(adj.dtype)
    a_hat = (adj + torch.diag_embed(valid)) * valid.unsqueeze(-1) * valid.unsqueeze(-2)
    deg = a_hat.sum(-1)
    inv_sqrt = torch.where(deg > 0, deg.clamp_min(1e-12).rsqrt(), torch.zeros_like(deg))
    return inv_sqrt.unsqueeze(-1) * a_hat * inv_sqrt.unsqueeze(-2)


def dense_batch_from_node_lists(
    x: Tensor,
    edge_index: Tensor,
    y: Tensor,
    subgraphs: Sequence[Tensor],
    roots: Sequence[int],
    max_size: int,
) -> DenseSubgraphBatch:
    """Induced subgraphs of the graph ``(x, edge_index)`` on each node list, padded to ``max_size`` nodes.

    Node ``subgraphs[i][j]`` goes to position ``j``; ``roots[i]`` is a node id of the graph and its position is
    its index in ``subgraphs[i]``. Edges are taken as undirected and simple (symmetrised, 0/1, self-loops
    dropped before adding I). Raises ValueError if a list is longer than ``max_size`` or lacks its root.
    """
    if len(subgraphs) != len(roots):
        raise ValueError(f"got {len(subgraphs)} node lists but {len(roots)} roots")
    num_nodes, num_features = x.shape
    count = len(subgraphs)
    feats = x.new_zeros(count, max_size, num_features)
    adj = x.new_zeros(count, max_size, max_size)
    mask = torch.zeros(count, max_size, dtype=torch.bool, device=x.device)
    root_pos = torch.zeros(count, dtype=torch.long, device=x.device)
    for i, (nodes, root) in enumerate(zip(subgraphs, roots, strict=True)):
        nodes = torch.as_tensor(nodes, dtype=torch.long, device=x.device)
        size = nodes.numel()
        if size > max_size:
            raise ValueError(f"subgraph {i} has {size} nodes, more than max_size={max_size}")
        hits = (nodes == int(root)).nonzero()
        if hits.numel() == 0:
            raise ValueError(f"root {int(root)} of subgraph {i} is not in its node list")
        root_pos[i] = hits[0, 0]
        sub_edges, _ = subgraph(nodes, edge_index, relabel_nodes=True, num_nodes=num_nodes)
        if sub_edges.numel() > 0:
            dense = to_dense_adj(sub_edges, max_num_nodes=max_size)[0]
            adj[i] = ((dense + dense.T) > 0).to(x.dtype).fill_diagonal_(0.0)
        feats[i, :size] = x[nodes]
        mask[i, :size] = True
    root_ids = torch.as_tensor([int(r) for r in roots], dtype=torch.long, device=y.device)
    return DenseSubgraphBatch(feats, normalized_adjacency(adj, mask), mask, root_pos, y[root_ids])
