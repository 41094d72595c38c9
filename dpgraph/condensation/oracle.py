"""The real-data side of gradient matching, behind an interface a private mechanism can implement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class RealGradientOracle(Protocol):
    """Answers per-class gradient queries on the real (propagated) training data."""

    def class_gradients(self, model: nn.Module, classes: Sequence[int]) -> dict[int, list[Tensor]]:
        """For each class c: a vector proportional to grad_theta of the loss over real training nodes of class c,
        one tensor per `model.parameters()` entry (any positive per-class scale, e.g. a noisy sum)."""
        ...


class ExactClassGradients:
    """Non-private oracle: the exact gradient of the MEAN cross-entropy over the real training nodes of class c.

    `propagated_x` is Â^k X over the whole real graph (see `propagate`), X preprocessed as the evaluation does
    (row-L1-normalised); only rows with `train_mask` are kept. Its k must equal the synthetic side's k.
    """

    def __init__(self, propagated_x: Tensor, y: Tensor, train_mask: Tensor):
        x, labels = propagated_x[train_mask].float(), y[train_mask]
        self._by_class = {int(c): x[labels == c] for c in labels.unique()}

    def class_gradients(self, model: nn.Module, classes: Sequence[int]) -> dict[int, list[Tensor]]:
        params = list(model.parameters())
        out = {}
        for c in classes:
            x = self._by_class.get(c)
            if x is None:
                raise ValueError(f"class {c} has no real training node")
            loss = F.cross_entropy(model(x), torch.full((x.size(0),), c, device=x.device))
            out[c] = [g.detach() for g in torch.autograd.grad(loss, params)]
        return out
