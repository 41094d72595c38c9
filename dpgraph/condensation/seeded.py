"""Layer initialisation from an explicit generator, so condensation is reproducible without global seeds."""

from __future__ import annotations

import math

import torch
from torch import nn


def reset_linear(layer: nn.Linear, generator: torch.Generator) -> None:
    """PyTorch's default Linear init: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from `generator`."""
    bound = 1.0 / math.sqrt(layer.in_features)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        if layer.bias is not None:
            layer.bias.uniform_(-bound, bound, generator=generator)
