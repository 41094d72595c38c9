"""The contract every edge-level release keeps (`dpgraph.mechanisms.edge_release`), shared by the edge-unit tests."""

from __future__ import annotations

import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from dpgraph.data.graph import GraphDataset


def assert_keeps_real_nodes(released: Data, graph: GraphDataset) -> None:
    """The real nodes, features and masks, the labels of training nodes only (-1 elsewhere), and synthetic edges
    that form a simple undirected graph on the real node ids (both directions, no self-loop)."""
    d = graph.data
    assert released.num_nodes == graph.num_nodes and torch.equal(released.x, d.x)
    for mask in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(released[mask], d[mask])
    assert torch.equal(released.y[d.train_mask], d.y[d.train_mask]) and bool((released.y[~d.train_mask] == -1).all())
    edges = released.edge_index
    assert int(edges.max()) < graph.num_nodes and bool((edges[0] != edges[1]).all())
    assert torch.equal(edges, to_undirected(edges))
