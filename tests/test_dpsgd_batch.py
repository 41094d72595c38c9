"""Dense subgraph batches (`SubgraphSet.dense_batch`): GCN normalisation on valid nodes, zero padding, roots, errors."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import to_dense_adj

from dpgraph.sampling import PAD, SubgraphSet

# path 0-1-2-3-4 plus chord 1-3 (both directions), a self-loop on 2 and a duplicated edge 0-1
EDGES = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 1, 3, 2, 0], [1, 0, 2, 1, 3, 2, 4, 3, 3, 1, 2, 1]])
X = torch.arange(15, dtype=torch.float).reshape(5, 3)
Y = torch.tensor([0, 1, 2, 0, 1])


def gcn_dense(local_edges: torch.Tensor, n: int) -> torch.Tensor:
    edge_index, weight = gcn_norm(local_edges, num_nodes=n, add_self_loops=True)
    return to_dense_adj(edge_index, edge_attr=weight, max_num_nodes=n)[0]


def batch_of(rows: list[list[int]]):
    return SubgraphSet(torch.tensor(rows), occurrence_bound=2, node_stable=True, sampler="t").dense_batch(X, EDGES, Y)


def test_adjacency_is_gcn_normalised_with_zero_padding_and_roots() -> None:
    batch = batch_of([[1, 3, 2, PAD], [0, 4, PAD, PAD]])
    assert batch.x.shape == (2, 4, 3) and batch.adj.shape == (2, 4, 4)
    # subgraph 0 = nodes (1, 3, 2) at positions (0, 1, 2): local edges 0-1, 0-2, 1-2 (a triangle)
    triangle = torch.tensor([[0, 1, 0, 2, 1, 2], [1, 0, 2, 0, 2, 1]])
    torch.testing.assert_close(batch.adj[0, :3, :3], gcn_dense(triangle, 3))
    torch.testing.assert_close(batch.adj[0, :3, :3], torch.full((3, 3), 1 / 3))  # closed form: degree 3 each
    # subgraph 1 = nodes (0, 4): no edge between them, so A + I = I
    torch.testing.assert_close(batch.adj[1, :2, :2], torch.eye(2))
    assert torch.equal(batch.adj, batch.adj.transpose(1, 2))
    assert batch.adj[0, 3].abs().sum() == 0 and batch.adj[0, :, 3].abs().sum() == 0
    assert batch.adj[1, 2:].abs().sum() == 0 and batch.adj[1, :, 2:].abs().sum() == 0
    assert batch.mask.tolist() == [[True, True, True, False], [True, True, False, False]]
    assert batch.root.tolist() == [0, 0]
    assert batch.y.tolist() == [1, 0]
    torch.testing.assert_close(batch.x[0, :3], X[[1, 3, 2]])
    assert batch.x[0, 3].abs().sum() == 0 and batch.x[1, 2:].abs().sum() == 0
    sub = batch.index(torch.tensor([1]))
    assert sub.y.tolist() == [0] and torch.equal(sub.adj[0], batch.adj[1])


def test_path_subgraph_matches_gcn_norm() -> None:
    batch = batch_of([[2, 0, 1, 3, 4, PAD]])
    # positions: 2->0, 0->1, 1->2, 3->3, 4->4; edges 0-1, 1-2, 2-3, 3-4, 1-3 of the real graph
    local = torch.tensor([[1, 2, 2, 0, 0, 3, 3, 4, 2, 3], [2, 1, 0, 2, 3, 0, 4, 3, 3, 2]])
    torch.testing.assert_close(batch.adj[0, :5, :5], gcn_dense(local, 5))
    assert batch.root.tolist() == [0] and batch.y.tolist() == [Y[2].item()]


def test_errors() -> None:
    with pytest.raises(ValueError, match="column 0"):
        SubgraphSet(torch.tensor([[PAD, 1, 2]]), occurrence_bound=1, node_stable=True, sampler="t")
    with pytest.raises(ValueError, match=r"\[N, S\]"):
        SubgraphSet(torch.tensor([0, 1, 2]), occurrence_bound=1, node_stable=True, sampler="t")
