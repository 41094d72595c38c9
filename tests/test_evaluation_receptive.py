"""Receptive fields, CSR blocks and the GCN / SAGE operators the batched evaluation models apply."""

import pytest
import torch
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import erdos_renyi_graph

from dpgraph.graphops import sparse_adjacency
from dpgraph.graphops.conv_operators import gcn_operator, mean_operator
from dpgraph.graphops.receptive import SparseBlock, csr_rows, receptive_field


@pytest.fixture
def adj_t() -> torch.Tensor:
    torch.manual_seed(0)
    edge_index = torch.cat([erdos_renyi_graph(30, 0.1, directed=True), torch.tensor([[2, 4, 4], [2, 9, 9]])], dim=1)
    return sparse_adjacency(edge_index[:, (edge_index < 27).all(0)], 30)  # 27, 28, 29 isolated


def test_gcn_operator_is_gcn_norm_and_mean_operator_averages_in_neighbours(adj_t):
    expected, _ = gcn_norm(adj_t, add_self_loops=True)
    assert torch.equal(gcn_operator(adj_t).to_dense(), expected.to_dense())
    dense = adj_t.to_dense()
    mean = dense / dense.sum(1, keepdim=True).clamp_min(1)
    assert torch.allclose(mean_operator(adj_t).to_dense(), mean)


def test_receptive_field_is_the_targets_and_their_stored_columns(adj_t):
    targets = torch.tensor([1, 4, 28])
    dense = adj_t.to_dense()
    expected = (dense[targets].sum(0) > 0).nonzero().flatten().tolist()
    assert receptive_field(adj_t, targets).tolist() == sorted(set(expected) | {1, 4, 28})
    everything = torch.arange(30)
    assert torch.equal(receptive_field(adj_t, everything), everything)


def test_csr_rows_slices_rows_and_relabels_columns(adj_t):
    rows = torch.tensor([0, 4, 5, 29])
    cols = receptive_field(adj_t, rows)
    assert torch.equal(csr_rows(adj_t, rows, cols).to_dense(), adj_t.to_dense()[rows][:, cols])
    assert torch.equal(csr_rows(adj_t, rows).to_dense(), adj_t.to_dense()[rows])


def test_sparse_block_product_and_gradient_match_dense(adj_t):
    op = gcn_operator(adj_t)
    block = SparseBlock(csr_rows(op, torch.tensor([3, 4, 7]), receptive_field(op, torch.tensor([3, 4, 7]))))
    dense = block.matrix.to_dense()
    h = torch.randn(dense.size(1), 5, requires_grad=True)
    grad = torch.randn(3, 5)
    (block.apply(h) * grad).sum().backward()
    assert torch.allclose(block.apply(h), dense @ h)
    assert torch.allclose(h.grad, dense.T @ grad)
    values = torch.rand(block.matrix.values().numel())
    other = block.with_values(values)
    assert torch.allclose(other.transpose.to_dense(), other.matrix.to_dense().T)
