"""Feature-space models whose gradients are matched: they act on already propagated node features."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from dpgraph.condensation.seeded import reset_linear

MatchingModelKind = Literal["sgc", "mlp"]


def matching_model(
    kind: MatchingModelKind, in_features: int, num_classes: int, hidden: int, generator: torch.Generator
) -> nn.Module:
    """A freshly initialised model on propagated features H = Â^k X.

    sgc: logits = H W + b (SGC once propagation is done); mlp: logits = relu(H W1 + b1) W2 + b2.
    """
    if kind == "sgc":
        model: nn.Module = nn.Linear(in_features, num_classes)
    elif kind == "mlp":
        model = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))
    else:
        raise ValueError(f"unknown matching model {kind!r}; valid: sgc, mlp")
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            reset_linear(layer, generator)
    return model
