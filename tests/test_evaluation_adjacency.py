import pytest
import torch
from torch_geometric.utils import erdos_renyi_graph

from dpgraph.evaluation import build_model
from dpgraph.graphops import sparse_adjacency


def test_adjacency_is_transposed_simple_and_keeps_isolated_nodes():
    edge_index = torch.tensor([[0, 0, 1, 2, 2], [1, 1, 2, 2, 0]])  # duplicate 0->1, self-loop 2->2
    dense = sparse_adjacency(edge_index, num_nodes=4).to_dense()
    expected = torch.zeros(4, 4)
    expected[1, 0] = expected[2, 1] = expected[0, 2] = 1.0  # adj_t[target, source]
    assert torch.equal(dense, expected)


@pytest.mark.parametrize("name", ["gcn", "sgc", "sage"])
def test_models_give_the_same_logits_with_edge_index_or_sparse_adjacency(name):
    torch.manual_seed(0)
    edge_index = erdos_renyi_graph(30, 0.2)
    x = torch.randn(30, 6)
    model = build_model(name, 6, 3, hidden=8).eval()
    expected = model(x, edge_index)
    assert torch.allclose(model(x, sparse_adjacency(edge_index, 30)), expected, atol=1e-6)
