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
"""

from __future__ import annotations

import math

import torch
from pydantic import Field
from torch import Tensor
from tqdm.auto import tqdm

from dpgraph.images.dataset import ImageDataset
from dpgraph.images.mechanisms.common import GeneratorParams, ImageMechanism, publicly_initialised, sample_release
from dpgraph.images.models import ImageGenerator
from dpgraph.images.release import ImageGeneratorRelease
from dpgraph.mechanisms.base import ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS

_CHUNK = 1024  # images featurised at once when summing the private statistic


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


def fourier_frequencies(num_pixels: int, num_features: int, lengthscale: float, public: torch.Generator) -> Tensor:
    """``W`` [D/2, P], i.i.d. N(0, 1 / (lengthscale^2 P)), drawn from the public generator."""
    return torch.randn(num_features // 2, num_pixels, generator=public) / (lengthscale * math.sqrt(num_pixels))


def fourier_features(images: Tensor, frequencies: Tensor) -> Tensor:
    """``phi(x) = [cos(W x), sin(W x)] / sqrt(D/2)`` [M, D] of ``images`` [M, C, H, W]; unit L2 norm per row."""
    projected = images.flatten(1) @ frequencies.T
    return torch.cat([projected.cos(), projected.sin()], dim=1) / math.sqrt(frequencies.size(0))


def embedding_statistic(images: Tensor, labels: Tensor, frequencies: Tensor, num_classes: int,
                        count_weight: float) -> Tensor:
    """``S`` [C, D + 1] in float64: row ``y`` is ``sum_{i: y_i = y} [phi(x_i), count_weight]`` (L2 sensitivity
    ``sqrt(1 + count_weight^2)`` under add/remove of one example; features in float64, so each row's norm is 1 to
    within about 1e-15, not float32's 1e-7)."""
    frequencies = frequencies.double()
    total = torch.zeros(num_classes, frequencies.size(0) * 2 + 1, dtype=torch.float64, device=frequencies.device)
    for start in range(0, images.size(0), _CHUNK):
        chunk = images[start:start + _CHUNK].to(frequencies.device, torch.float64)
        phi = fourier_features(chunk, frequencies)
        rows = torch.cat([phi, phi.new_full((phi.size(0), 1), count_weight)], dim=1)
        total.index_add_(0, labels[start:start + _CHUNK].to(frequencies.device), rows)
    return total


def embedding_sensitivity(count_weight: float) -> float:
    """The L2 sensitivity of :func:`embedding_statistic`: one example moves its row by ``[phi(x), w]``."""
    return math.sqrt(1.0 + count_weight**2)


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
        nbytes = 12.0 * (d // 2) * pixels + 8.0 * _CHUNK * d + 12.0 * params.batch_size * d
        return nbytes, "lower method.num_features or method.batch_size"

    def release(self, dataset: ImageDataset, params: DPMERFParams, context: ReleaseContext) -> ImageGeneratorRelease:
        c, device = dataset.num_classes, context.device
        frequencies = fourier_frequencies(math.prod(dataset.image_shape), params.num_features, params.lengthscale,
                                          context.public).to(device)
        statistic = embedding_statistic(dataset.train_images, dataset.train_labels, frequencies, c,
                                        params.count_weight)
        if context.private:
            statistic = context.gaussian("embedding", statistic, embedding_sensitivity(params.count_weight))
        target = (statistic[:, :-1] / dataset.size).float()
        weights = (statistic[:, -1] / params.count_weight).clamp(min=0).float().cpu()
        generator = public_generator_module(dataset.image_shape, params, c, context.public).to(device)
        fit_generator(generator, target, weights, frequencies, params, context)
        return sample_release(generator, params.latent_dim, c, params.samples_per_class, context.public)


def fit_generator(generator: ImageGenerator, target: Tensor, weights: Tensor, frequencies: Tensor,
                  params: DPMERFParams, context: ReleaseContext) -> None:
    """Adam on ``||target - (1/B) onehot(y)^T phi(G(z, y))||_F^2``, labels ``y`` drawn in proportion to ``weights``
    (uniform if all are zero) and ``z`` standard normal, both from ``context.public``."""
    num_classes = target.size(0)
    weights = weights if float(weights.sum()) > 0 else torch.ones(num_classes)
    optimizer = torch.optim.Adam(generator.parameters(), lr=params.lr)
    generator.train()
    for _ in tqdm(range(params.steps), desc="dp-merf", unit="step", disable=not context.progress):
        labels = torch.multinomial(weights, params.batch_size, replacement=True, generator=context.public)
        z = torch.randn(params.batch_size, params.latent_dim, generator=context.public)
        labels, z = labels.to(context.device), z.to(context.device)
        phi = fourier_features(generator(z, labels), frequencies)
        embedding = torch.zeros_like(target).index_add_(0, labels, phi) / params.batch_size
        loss = (target - embedding).pow(2).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
