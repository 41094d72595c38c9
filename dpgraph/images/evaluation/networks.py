"""The image classifiers' networks, initialised and dropped out from one ``torch.Generator`` (never the global RNG).

``ConvNet`` (for C x H x W images, H and W divisible by 4): ``conv3x3/2(w) -> ReLU -> conv3x3/2(2w) -> ReLU ->
Linear(hidden) -> ReLU`` = its ``features``, then dropout and ``Linear(num_classes)`` (stride-2 convolutions, padding
1: H x W -> H/2 x W/2 -> H/4 x W/4; no pooling layer, the cheapest on a CPU).
``PixelMLP``: ``flatten -> Linear(hidden) -> ReLU -> dropout -> Linear(num_classes)``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from dpgraph.evaluation.dropout import keep_scale


class SeededDropout(nn.Module):
    """Inverted dropout with drop probability ``p`` whose masks come from ``generator`` (identity in eval mode)."""

    def __init__(self, p: float, generator: torch.Generator) -> None:
        super().__init__()
        self.p, self.generator = p, generator

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        return x * keep_scale(tuple(x.shape), self.p, self.generator).to(x.device)


def init_parameters(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """``module`` (built on the meta device, so that building it drew nothing from the global RNG) materialised on
    the CPU, every Linear / Conv2d layer drawn as PyTorch's default initialisation does (weights kaiming-uniform with
    a = sqrt(5), biases uniform on +-1/sqrt(fan_in)) from ``generator``."""
    module.to_empty(device="cpu")
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.Linear | nn.Conv2d):
                nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                fan_in = layer.weight[0].numel()
                nn.init.uniform_(layer.bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), generator=generator)
    return module


class ConvNet(nn.Module):
    """``forward(images [M, C, H, W]) -> logits [M, num_classes]``; ``features(images) -> [M, hidden]`` (the
    penultimate layer)."""

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int, generator: torch.Generator,
                 width: int = 16, hidden: int = 64, dropout: float = 0.0) -> None:
        super().__init__()
        channels, height, width_px = image_shape
        if height % 4 or width_px % 4:
            raise ValueError(f"image height and width must be divisible by 4, got {height}x{width_px}")
        with torch.device("meta"):
            self.body = nn.Sequential(
                nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                nn.Linear(2 * width * (height // 4) * (width_px // 4), hidden), nn.ReLU())
            self.head = nn.Sequential(SeededDropout(dropout, generator), nn.Linear(hidden, num_classes))
        init_parameters(self, generator)

    def features(self, images: Tensor) -> Tensor:
        return self.body(images)

    def forward(self, images: Tensor) -> Tensor:
        return self.head(self.body(images))


class PixelMLP(nn.Sequential):
    """``forward(images [M, C, H, W]) -> logits [M, num_classes]`` from the flattened pixels."""

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int, generator: torch.Generator,
                 hidden: int = 64, dropout: float = 0.0) -> None:
        with torch.device("meta"):
            super().__init__(nn.Flatten(), nn.Linear(math.prod(image_shape), hidden), nn.ReLU(),
                             SeededDropout(dropout, generator), nn.Linear(hidden, num_classes))
        init_parameters(self, generator)
