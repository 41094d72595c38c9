"""The generator and discriminator shared by the image methods (DCGAN-style, for any H, W divisible by 4).

Generator: ``[z, onehot(y)] -> Linear -> [2w, H/4, W/4] -> ConvT(stride 2) -> [w, H/2, W/2] -> ConvT(stride 2) ->
[C, H, W]``, sigmoid (pixels in [0, 1]). Discriminator: two stride-2 convolutions with GroupNorm (per-sample
gradients stay per-sample, unlike BatchNorm, so DP-SGD and opacus apply), a linear score, and for a conditional one a
projection term ``<embed(y), h>`` (Miyato and Koyama 2018). Both ignore ``labels`` when unconditional.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _check_shape(image_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    channels, height, width = image_shape
    if height % 4 or width % 4:
        raise ValueError(f"image height and width must be divisible by 4, got {height}x{width}")
    return channels, height, width


class ImageGenerator(nn.Module):
    """``forward(z [M, latent_dim], labels [M]) -> images [M, C, H, W]`` in [0, 1]."""

    def __init__(self, image_shape: tuple[int, int, int], latent_dim: int = 64, num_classes: int = 10,
                 conditional: bool = True, width: int = 64) -> None:
        super().__init__()
        channels, height, width_px = _check_shape(image_shape)
        self.latent_dim, self.num_classes, self.conditional = latent_dim, num_classes, conditional
        self.grid = (2 * width, height // 4, width_px // 4)
        inputs = latent_dim + (num_classes if conditional else 0)
        self.project = nn.Sequential(nn.Linear(inputs, self.grid[0] * self.grid[1] * self.grid[2]),
                                     nn.BatchNorm1d(self.grid[0] * self.grid[1] * self.grid[2]), nn.ReLU())
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1))

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.conditional:
            if labels is None:
                raise ValueError("a conditional generator needs labels")
            z = torch.cat([z, F.one_hot(labels, self.num_classes).to(z.dtype)], dim=1)
        h = self.project(z).view(z.size(0), *self.grid)
        return torch.sigmoid(self.upsample(h))


class ImageDiscriminator(nn.Module):
    """``forward(images [M, C, H, W], labels [M]) -> scores [M]`` (logits, or critic values for a WGAN)."""

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int = 10, conditional: bool = True,
                 width: int = 64, groups: int = 8) -> None:
        super().__init__()
        channels, height, width_px = _check_shape(image_shape)
        self.conditional = conditional
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.GroupNorm(groups, 2 * width), nn.LeakyReLU(0.2),
            nn.Flatten())
        hidden = 2 * width * (height // 4) * (width_px // 4)
        self.score = nn.Linear(hidden, 1)
        self.embed = nn.Embedding(num_classes, hidden) if conditional else None

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.features(images)
        out = self.score(h).squeeze(1)
        if self.embed is not None:
            if labels is None:
                raise ValueError("a conditional discriminator needs labels")
            out = out + (self.embed(labels) * h).sum(1)
        return out
