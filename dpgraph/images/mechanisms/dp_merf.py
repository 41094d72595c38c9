"""`dp-merf`: one DP release of class-conditional random-feature mean embeddings, then a generator fitted to them
(Harder, Adamczewski and Park, AISTATS 2021).

Features: for a flattened image ``x`` in R^P, ``phi(x) = [cos(W x), sin(W x)] / sqrt(D / 2)`` in R^D with the
``D / 2`` rows of ``W`` drawn i.i.d. from N(0, I / (l^2 P)), so ``phi(x) . phi(x')`` is an unbiased estimate of the
Gaussian kernel ``exp(-||x - x'||^2 / (2 l^2 P))`` (the lengthscale ``l`` is in root-mean-square pixel units, the
same on 8x8 and 28x28 images). ``||phi(x)||_2^2 = sum_k (cos^2 + sin^2) / (D / 2) = 1`` exactly for every ``x``.
``W`` is drawn from ``context.public`` and ``l`` is a fixed parameter: neither depends on the private images, so
both are public.

Privacy unit: example (one image with its label), add/remove adjacency. Released statistic, stage ``embedding``:
the matrix ``S`` [C, D + 1] whose row ``y`` is ``sum_{i: y_i = y} [phi(x_i), w]`` (class-conditional feature sums
with the class counts, scaled by the public ``count_weight`` w, in the last column). Adding or removing one example
changes only its own row, by ``[phi(x_i), w]``, of L2 norm ``sqrt(||phi(x_i)||^2 + w^2) = sqrt(1 + w^2)`` exactly:
the L2 sensitivity. One Gaussian release ``S + N(0, (sigma sqrt(1 + w^2))^2 I)``, event ``GaussianEvent(sigma)``,
sigma calibrated to the whole budget. N is public metadata.

Post-processing (reads only the noisy ``S`` and ``context.public``): the target embedding is ``S[:, :D] / N`` and
the class weights the clamped noisy counts ``max(S[:, D] / w, 0)``. A conditional :class:`ImageGenerator` is fitted
with Adam to minimise ``||S[:, :D] / N - (1/B) sum_j onehot(y_j) phi(G(z_j, y_j))^T||_F^2`` (the squared MMD of the
two class-conditional embeddings under the product of the feature kernel and the label kernel) over batches of B
labels drawn in proportion to the class weights. ``epsilon: null`` releases ``S`` without noise (the ceiling).
The features, the statistic, its sensitivity and the fitting loop are the modality-neutral ones of
:mod:`dpgraph.generative`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from pydantic import Field
from torch import Tensor

from dpgraph.generative import (
    embedding_sensitivity,
    embedding_statistic,
    fit_to_embedding,
    fourier_features,
    fourier_frequencies,
    publicly_initialised,
)
from dpgraph.generative.mean_embedding import EMBEDDING_CHUNK
from dpgraph.images.dataset import ImageDataset
from dpgraph.images.mechanisms.common import GeneratorParams, ImageMechanism, sample_release
from dpgraph.images.models import ImageGenerator
from dpgraph.images.release import ImageGeneratorRelease
from dpgraph.mechanisms.base import ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS


class DPMERFParams(GeneratorParams):
    """Features, release and generator-fitting settings of `dp-merf` (all public, fixed in the pipeline file)."""

    num_features: int = Field(default=2000, ge=2, multiple_of=2, description="D: cos and sin of D/2 frequencies")
    lengthscale: float = Field(default=0.3, gt=0, allow_inf_nan=False,
                               description="Gaussian kernel lengthscale in root-mean-square pixel units")
    count_weight: float = Field(default=0.5, gt=0, allow_inf_nan=False,
                                description="w: the counts' scale in the release (sensitivity sqrt(1 + w^2))")
    steps: int = Field(default=1000, ge=1, description="Adam steps of the generator")
    batch_size: int = Field(default=200, ge=2, description="generated images per step (BatchNorm needs two)")
    lr: float = Field(default=1e-3, gt=0, allow_inf_nan=False)
    width: int = Field(default=32, ge=1, description="generator width (channels of its last hidden layer)")


def image_features(frequencies: Tensor) -> Callable[[Tensor], Tensor]:
    """The feature map of images [M, C, H, W]: random Fourier features of the flattened pixels."""
    return lambda images: fourier_features(images.flatten(1), frequencies)


def public_generator_module(image_shape: tuple[int, int, int], params: DPMERFParams, num_classes: int,
                            public: torch.Generator) -> ImageGenerator:
    """A conditional :class:`ImageGenerator` initialised from the public generator (not the global torch seed)."""
    return publicly_initialised(lambda: ImageGenerator(image_shape, params.latent_dim, num_classes, conditional=True,
                                                       width=params.width), public)


@MECHANISMS.register("dp-merf")
class DPMERF(ImageMechanism):
    name = "dp-merf"
    Params = DPMERFParams
    private = None
    stages = ("embedding",)
    default_split = {"embedding": 1.0}

    def memory_estimate(self, dataset: ImageDataset, params: DPMERFParams) -> tuple[float, str]:
        """``W`` (float32 and a float64 copy), one float64 chunk of private features, a generator batch's features
        with their gradients."""
        pixels, d = math.prod(dataset.image_shape), params.num_features
        nbytes = 12.0 * (d // 2) * pixels + 8.0 * EMBEDDING_CHUNK * d + 12.0 * params.batch_size * d
        return nbytes, "lower method.num_features or method.batch_size"

    def release(self, dataset: ImageDataset, params: DPMERFParams, context: ReleaseContext) -> ImageGeneratorRelease:
        c, device = dataset.num_classes, context.device
        frequencies = fourier_frequencies(math.prod(dataset.image_shape), params.num_features, params.lengthscale,
                                          context.public).to(device)
        features = image_features(frequencies.double())
        statistic = embedding_statistic(dataset.train_images, dataset.train_labels, features, c, params.count_weight,
                                        device)
        statistic = context.gaussian_or_exact("embedding", statistic, embedding_sensitivity(params.count_weight))
        target = (statistic[:, :-1] / dataset.size).float()
        weights = (statistic[:, -1] / params.count_weight).clamp(min=0).float().cpu()
        generator = public_generator_module(dataset.image_shape, params, c, context.public).to(device)
        fit_generator(generator, target, weights, frequencies, params, context)
        return sample_release(generator, params.latent_dim, c, params.samples_per_class, context.public)


def fit_generator(generator: ImageGenerator, target: Tensor, weights: Tensor, frequencies: Tensor,
                  params: DPMERFParams, context: ReleaseContext) -> None:
    """:func:`~dpgraph.generative.fit_to_embedding` with this method's feature map and settings (labels drawn in
    proportion to ``weights``, latents standard normal, both from ``context.public``)."""
    fit_to_embedding(generator, image_features(frequencies), target, weights, steps=params.steps,
                     batch_size=params.batch_size, lr=params.lr, latent_dim=params.latent_dim, public=context.public,
                     device=context.device, progress=context.progress, desc="dp-merf")
