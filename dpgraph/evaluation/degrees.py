"""Degree sequence of a graph read as simple and undirected."""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import degree, remove_self_loops, to_undirected


def simple_degrees(data: Data) -> np.ndarray:
    """Integer node degrees after symmetrising `edge_index` and dropping self-loops and duplicate edges."""
    edge_index, _ = remove_self_loops(to_undirected(data.edge_index, num_nodes=data.num_nodes))
    return degree(edge_index[0], num_nodes=data.num_nodes, dtype=torch.long).numpy()
