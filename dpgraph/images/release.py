"""A released image generator, with samples drawn from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from torch import Tensor, nn

from dpgraph.images.dataset import ImageDataset
from dpgraph.releases.base import Release


@dataclass(frozen=True)
class ImageGeneratorRelease(Release):
    """A generator ``module(z [M, latent_dim], labels [M] long) -> images [M, C, H, W] in [0, 1]`` (an unconditional
    one ignores ``labels``), and ``images`` / ``labels`` sampled from it (post-processing: generated from the
    released generator with public randomness). ``labels`` are the conditioning labels, or None when the generator
    is unconditional. Never holds a discriminator or a real image."""

    modality: ClassVar[str] = "image"
    module: nn.Module
    latent_dim: int
    images: Tensor
    labels: Tensor | None

    def check(self, dataset: ImageDataset) -> None:  # type: ignore[override]
        if tuple(self.images.shape[1:]) != dataset.image_shape:
            raise RuntimeError(f"mechanism released images of shape {tuple(self.images.shape[1:])}, expected "
                               f"{dataset.image_shape}")
        if self.images.numel() and (float(self.images.min()) < 0 or float(self.images.max()) > 1):
            raise RuntimeError("mechanism released pixel values outside [0, 1]")
        if self.labels is not None:
            if self.labels.shape != self.images.shape[:1]:
                raise RuntimeError("mechanism released a label count different from its image count")
            if self.labels.numel() and (int(self.labels.min()) < 0 or int(self.labels.max()) >= dataset.num_classes):
                raise RuntimeError("mechanism released a label outside the dataset's classes")

    def save(self, folder: Path) -> list[str]:
        torch.save(self.module.state_dict(), folder / "generator.pt")
        torch.save({"images": self.images, "labels": self.labels, "latent_dim": self.latent_dim},
                   folder / "samples.pt")
        return ["generator.pt", "samples.pt"]
