"""An independent, one-subgraph-at-a-time dense batch builder (PyG ``subgraph`` + ``to_dense_adj``): the reference
the vectorised ``SubgraphSet.dense_batch`` is checked against."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.utils import subgraph, to_dense_adj

from dpgraph.graphops import normalized_dense
from dpgraph.sampling.dense_batch import DenseSubgraphBatch


def dense_batch_one_by_one(x: Tensor, edge_index: Tensor, y: Tensor, subgraphs: Sequence[Tensor],
                           max_size: int) -> DenseSubgraphBatch:
    """Induced subgraphs on each node list (root first), padded to ``max_size``; edges taken as undirected."""
    count, num_nodes = len(subgraphs), x.size(0)
    feats = x.new_zeros(count, max_size, x.size(1))
    adj = x.new_zeros(count, max_size, max_size)
    mask = torch.zeros(count, max_size, dtype=torch.bool)
    for i, nodes in enumerate(subgraphs):
        sub_edges, _ = subgraph(nodes, edge_index, relabel_nodes=True, num_nodes=num_nodes)
        if sub_edges.numel() > 0:
            dense = to_dense_adj(sub_edges, max_num_nodes=max_size)[0]
            adj[i] = ((dense + dense.T) > 0).to(x.dtype).fill_diagonal_(0.0)
        feats[i, : nodes.numel()] = x[nodes]
        mask[i, : nodes.numel()] = True
    roots = torch.stack([nodes[0] for nodes in subgraphs])
    return DenseSubgraphBatch(feats, normalized_dense(adj, mask), mask, torch.zeros(count, dtype=torch.long),
                              y[roots])
