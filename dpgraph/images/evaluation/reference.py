"""The reference classifier of a dataset: a :class:`~dpgraph.images.evaluation.networks.ConvNet` trained once, with
a fixed recipe and seed, on the dataset's REAL private training images (private analysis, never released). Its
penultimate features and softmax play the role Inception-v3 plays for FID and the Inception score; fixed, so that
scores are comparable across runs whatever the ``evaluate`` settings.

It is memoised in-process, keyed by the dataset's name, the training images' shape and a digest of their contents
(two splits of one dataset never share a reference)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch
from torch import Tensor

from dpgraph.images.dataset import ImageDataset
from dpgraph.images.evaluation.networks import ConvNet
from dpgraph.images.evaluation.training import DEFAULT_EPOCHS, FitSettings, apply_batched, train_network

#: the recipe of the reference classifier: the ``cnn`` classifier's shipped defaults (the section's lr, weight decay,
#: hidden and dropout, and the epochs tuned on the 8x8 digits); its dropout acts after the features
REFERENCE_SETTINGS = FitSettings(epochs=DEFAULT_EPOCHS, lr=0.01, weight_decay=5e-4, hidden=64, dropout=0.5)
REFERENCE_SEED = 0


@dataclass(frozen=True)
class ReferenceClassifier:
    """``features(images) -> [M, hidden]`` (the penultimate layer) and ``probabilities(images) -> [M, K]`` (the
    softmax), computed on ``device``, returned on the CPU."""

    network: ConvNet
    device: torch.device

    def features(self, images: Tensor) -> Tensor:
        return apply_batched(self.network.features, images, self.device)

    def probabilities(self, images: Tensor) -> Tensor:
        return apply_batched(lambda chunk: self.network(chunk).softmax(1), images, self.device)

    def accuracy(self, images: Tensor, labels: Tensor) -> float:
        return (self.probabilities(images).argmax(1) == labels).float().mean().item()


_CACHE: dict[tuple, ReferenceClassifier] = {}


def _key(dataset: ImageDataset, device: torch.device) -> tuple:
    images, labels = dataset.train_images.contiguous(), dataset.train_labels.contiguous()
    digest = hashlib.blake2b(images.numpy().tobytes() + labels.numpy().tobytes(), digest_size=16).hexdigest()
    return dataset.name, tuple(images.shape), dataset.num_classes, digest, str(device)


def reference_classifier(dataset: ImageDataset, device: torch.device) -> ReferenceClassifier:
    """The reference classifier of ``dataset`` (trained on ``dataset.train_images`` at the first call)."""
    key = _key(dataset, device)
    if key not in _CACHE:
        generator = torch.Generator().manual_seed(REFERENCE_SEED)
        network = ConvNet(dataset.image_shape, dataset.num_classes, generator, hidden=REFERENCE_SETTINGS.hidden,
                          dropout=REFERENCE_SETTINGS.dropout).to(device)
        train_network(network, dataset.train_images, dataset.train_labels, REFERENCE_SETTINGS, generator)
        _CACHE[key] = ReferenceClassifier(network, device)
    return _CACHE[key]
