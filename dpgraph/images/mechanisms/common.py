"""What the image generators share: their common parameters, their contract, and how a release is sampled."""

from __future__ import annotations

from typing import ClassVar, TypeVar

import torch
from pydantic import Field
from torch import nn

from dpgraph.config.validation import StrictModel
from dpgraph.images.release import ImageGeneratorRelease
from dpgraph.mechanisms.base import Mechanism

Module = TypeVar("Module", bound=nn.Module)


class GeneratorParams(StrictModel):
    """Parameters every image generator has: its latent size and how many samples per class the release holds."""

    latent_dim: int = Field(default=64, gt=0)
    samples_per_class: int = Field(default=500, gt=0, description="samples drawn from the generator into the release")


class ImageMechanism(Mechanism):
    """A mechanism over an :class:`~dpgraph.images.dataset.ImageDataset` whose unit is one example (an image with its
    label) and that releases an :class:`ImageGeneratorRelease`."""

    modality: ClassVar[str] = "image"
    releases = ImageGeneratorRelease
    units: ClassVar[tuple[str, ...]] = ("example",)


@torch.no_grad()
def sample_release(generator: nn.Module, latent_dim: int, num_classes: int, samples_per_class: int,
                   public: torch.Generator, conditional: bool = True) -> ImageGeneratorRelease:
    """The release of a trained ``generator``: ``samples_per_class`` images per class (``num_classes`` x that many
    unconditional samples, unlabelled, when not conditional), drawn with the public generator ``public``. Sampling
    from the released generator is post-processing."""
    generator = generator.eval().cpu()
    total = num_classes * samples_per_class
    z = torch.randn(total, latent_dim, generator=public)
    labels = torch.arange(num_classes).repeat_interleave(samples_per_class) if conditional else None
    images = torch.cat([generator(z[i:i + 1000], None if labels is None else labels[i:i + 1000])
                        for i in range(0, total, 1000)])
    return ImageGeneratorRelease(module=generator, latent_dim=latent_dim, images=images.clamp(0, 1), labels=labels)
