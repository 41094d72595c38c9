"""The loaded private image dataset and the facts about it that are public."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from dpgraph.errors import DPGraphError


@dataclass(frozen=True)
class ImageDataset:
    """Labelled images split by a public rule into private training images and held-out real images.

    ``train_images`` [N, C, H, W] float in [0, 1] with ``train_labels`` [N] (long, 0..num_classes-1) are the private
    records (privacy unit ``example``: one image with its label); only a mechanism reads them. ``test_*`` and
    ``val_*`` (possibly empty) are real held-out images read only by evaluators. Public: ``name``, ``num_classes``
    (declared, never counted), N, the image shape and the split sizes.
    """

    name: str
    train_images: Tensor
    train_labels: Tensor
    test_images: Tensor
    test_labels: Tensor
    val_images: Tensor
    val_labels: Tensor
    num_classes: int

    @property
    def modality(self) -> str:
        return "image"

    @property
    def size(self) -> int:
        """N = the number of private training images (delta must be < 1/N)."""
        return int(self.train_images.size(0))

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(channels, height, width): public."""
        return tuple(self.train_images.shape[1:])  # type: ignore[return-value]

    def describe(self) -> dict[str, int | str]:
        channels, height, width = self.image_shape
        return {"name": self.name, "num_train": self.size, "num_val": int(self.val_images.size(0)),
                "num_test": int(self.test_images.size(0)), "num_classes": self.num_classes,
                "image_shape": f"{channels}x{height}x{width}"}

    def evaluation_target(self, score_on: str) -> ImageDataset:
        """This dataset (evaluators score on ``test_*``), or, for ``score_on == "val"``, a copy whose ``test_*`` are
        the validation images."""
        if score_on == "test":
            return self
        if self.val_images.size(0) == 0:
            raise DPGraphError(f"evaluate.score_on: val needs validation images, and the {self.name} split has none; "
                               "use dataset.split: random with a validation share (dataset.split_fractions)")
        return replace(self, test_images=self.val_images, test_labels=self.val_labels)


def empty_images(shape: tuple[int, int, int]) -> tuple[Tensor, Tensor]:
    """No images of ``shape``, and no labels (an absent split part)."""
    return torch.zeros(0, *shape), torch.zeros(0, dtype=torch.long)
