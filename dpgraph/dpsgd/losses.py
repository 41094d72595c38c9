"""Per-unit losses (:data:`~dpgraph.dpsgd.per_sample.UnitLoss`) of the shipped gradient methods."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def root_cross_entropy(model: nn.Module, batch: tuple[Tensor, ...]) -> Tensor:
    """Node classification on rooted subgraphs: ``batch = (x, adj, mask, root, y)``
    (:meth:`~dpgraph.sampling.dense_batch.DenseSubgraphBatch.tensors`); the cross-entropy of each root's logits."""
    x, adj, mask, root, y = batch
    return F.cross_entropy(model(x, adj, mask, root), y, reduction="none")


def row_cross_entropy(model: nn.Module, batch: tuple[Tensor, ...]) -> Tensor:
    """One feature row per unit: ``batch = (x, y)``, the cross-entropy of ``model(x)``'s rows."""
    x, y = batch
    return F.cross_entropy(model(x), y, reduction="none")
