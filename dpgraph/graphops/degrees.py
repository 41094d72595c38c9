"""Degree sequence of a graph read as simple and undirected."""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import degree

from dpgraph.graphops.simple import simple_undirected


def simple_degrees(data: Data) -> np.ndarray:
    """Integer node degrees of the simple undirected graph of ``data.edge_index``."""
    edges = simple_undirected(data.edge_index, data.num_nodes)
    return degree(edges[0], num_nodes=data.num_nodes, dtype=torch.long).numpy()
