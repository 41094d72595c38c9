"""The invariants every loaded graph satisfies, whatever its source (files, Planetoid, generated).

Errors name the rule broken and a position (node index in file order, feature column), never a private value.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data

from dpgraph.data.split import MASKS
from dpgraph.errors import DPGraphError


def _first(mask: Tensor) -> int:
    return int(mask.nonzero()[0, 0])


def _is_integer(t: Tensor) -> bool:
    return not (t.dtype.is_floating_point or t.is_complex() or t.dtype == torch.bool)


def check_edges(edge_index: object, num_nodes: int, source: str) -> None:
    """`edge_index` must be an integer tensor [2, E] of node indices in 0..num_nodes-1."""
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2 \
            or not _is_integer(edge_index):
        raise DPGraphError(f"{source}: edge_index must be an integer tensor of shape [2, num_edges]")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
        raise DPGraphError(f"{source}: edge_index names a node outside 0..{num_nodes - 1} (the number of rows of x)")


def _check_features(x: object, num_nodes: int, source: str) -> None:
    if not isinstance(x, Tensor) or x.layout != torch.strided or x.dim() != 2 or x.dtype == torch.bool \
            or x.is_complex():
        raise DPGraphError(f"{source}: x must be a dense real tensor of shape [num_nodes, num_features]")
    if x.size(0) != num_nodes or x.size(1) == 0:
        raise DPGraphError(f"{source}: x must have one row per node ({num_nodes}) and at least one feature column")
    if x.dtype.is_floating_point:
        bad = ~torch.isfinite(x.float())  # as used: float32
        if bad.any():
            node = _first(bad.any(dim=1))
            column = _first(bad[node])
            raise DPGraphError(f"{source}: feature column {column} of node {node} (0-based, in file order) is not a "
                               f"finite number (nan, inf, or beyond float32 range): fix or impute it")


def _check_labels(y: object, num_nodes: int, num_classes: int, source: str) -> None:
    if not isinstance(y, Tensor) or y.dim() != 1 or not _is_integer(y):
        raise DPGraphError(f"{source}: y must be an integer tensor of shape [num_nodes]")
    if y.size(0) != num_nodes:
        raise DPGraphError(f"{source}: y has {y.size(0)} labels for {num_nodes} nodes: give one label per node")
    bad = (y < -1) | (y >= num_classes)
    if bad.any():
        raise DPGraphError(f"{source}: node {_first(bad)} (0-based, in file order) has a label outside "
                           f"0..{num_classes - 1} (and not -1 = unlabelled): fix the label, or declare the right "
                           f"number of classes (dataset.num_classes)")


def _check_masks(data: Data, num_nodes: int, source: str) -> None:
    for name in MASKS:
        mask = getattr(data, name, None)
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape != (num_nodes,):
            raise DPGraphError(f"{source}: {name} must be a boolean tensor of shape [num_nodes]")
    overlap = (data.train_mask.int() + data.val_mask.int() + data.test_mask.int()) > 1
    if overlap.any():
        raise DPGraphError(f"{source}: node {_first(overlap)} is in more than one of train/val/test: the split's "
                           f"parts must be disjoint")


def check_nodes(data: Data, num_classes: int, source: str) -> None:
    """`data` must have x [n, F] (F >= 1, finite), y [n] (integers in 0..num_classes-1, or -1 = unlabelled) and
    disjoint boolean train/val/test masks [n], where n = `data.num_nodes`."""
    n = int(data.num_nodes)
    _check_features(data.x, n, source)
    _check_labels(data.y, n, num_classes, source)
    _check_masks(data, n, source)
