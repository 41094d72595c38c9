"""The per-class sums of unit-norm features: what dp-centroid releases, where dp-gcond starts, and the centroids of
the `centroid` evaluation model."""

from __future__ import annotations

import torch

from dpgraph.graphops.features import unit_rows


def normalized_class_sums(x: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """S_c = sum over nodes u of class c of x_u / ||x_u||_2 (zero rows stay zero); shape [C, F], float64, on x's device.

    Add/remove L2 (Frobenius) sensitivity 1: one node changes one row by a vector of norm <= 1."""
    return class_sums(unit_rows(x.double()), y, num_classes)


def class_sums(rows: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """S_c = sum of the rows of class c; shape [C, F], in the rows' dtype and device."""
    return torch.zeros(num_classes, rows.size(1), dtype=rows.dtype, device=rows.device).index_add_(0, y, rows)
