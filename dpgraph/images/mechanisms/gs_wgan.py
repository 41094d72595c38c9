"""`gs-wgan`: a conditional WGAN-GP whose only private release is the sanitised gradient that flows from a
discriminator into the generator (GS-WGAN, Chen, Orekondy, Fritz, NeurIPS 2020), with accounting derived for what
this code does (not the original's).

**Algorithm.** Each private training image (with its label) is assigned to one of ``k`` shards by an independent
uniform draw from the secret randomness; discriminator ``D_j`` only ever reads shard ``j``. Each of ``T``
iterations draws one ``j`` uniformly (secret randomness, independent of the data and the past), trains ``D_j`` for
``critic_steps`` WGAN-GP steps on batches of its shard against generated images (non-private: discriminators are
never released), then takes one generator step: ``x_i = G(z_i, y_i)`` for ``B`` latent draws and uniform labels
(public randomness), ``g_i = d(-D_j(x_i, y_i)) / d x_i`` for each sample, each ``g_i`` clipped to L2 norm ``C`` and
noised with N(0, (sigma C)^2 I) (:func:`sanitise`), and the noisy ``g_i / B`` back-propagated through ``G``, which
only sees public inputs: post-processing of the ``B`` sanitised gradients.

**Privacy** (unit: one example, image and label; add/remove). Removing example ``x`` changes no other example's
shard and only ``D_{j*}``, ``x``'s shard's discriminator, arbitrarily (it is trained on that shard, the public
inputs and the generator, a function of the past releases). An iteration that draws ``j != j*`` releases the same
distribution under both datasets given the past; one that draws ``j*`` releases ``B`` sanitised gradients, each of
which moves by at most ``2C`` (both clipped to ``C``), so the ``B``-tuple has L2 sensitivity ``2 C sqrt(B)``
against noise std ``sigma C`` per coordinate: a Gaussian mechanism of multiplier ``sigma / (2 sqrt(B))``. The draws
are data-independent and revealed in the analysis (the other discriminators may be far from ``D_{j*}``, so a miss
is NOT the neighbour's output, and the Poisson-subsampled Gaussian would under-count). Event, stage ``train``:
``DrawnGaussianEvent(1/k, sigma / (2 sqrt(B)), T)``, whose exact accounting (a binomial mixture of Gaussians) is in
:mod:`dpgraph.privacy.drawn_gaussian`; ``sigma`` (the noise std in units of ``C``) is calibrated to the whole
budget. The draws are exactly uniform (:func:`uniform_choices`), so each hits ``j*`` with probability ``1/k``.
How ``D_{j*}`` is trained (its batches, its steps, an empty shard) may depend on its shard arbitrarily: the bound
allows any ``D_{j*}``. No other state may carry private data: discriminator training
(critic batches, its latents and interpolates) draws from its own secret stream, the generator's batch-norm
statistics only ever see generator-step inputs, and the public stream (initialisations, the generator steps'
latents and labels, the warm start, the release's samples) is consumed identically on every dataset. Nothing
computed from the private data is logged.

**Warm start** (``warm_start: digits``, ``warm_start_steps > 0``): before any private step, ``G`` and one
discriminator are trained non-privately, the same way, on PUBLIC images only: scikit-learn's 1,797 8x8 digits
(bundled with scikit-learn, disjoint from MNIST), scaled to [0, 1] and resized bilinearly into a centred box of
``PUBLIC_BOX`` of the image side (MNIST's documented layout: digits normalised into 20x20 of 28x28), channels
repeated (``warm_start_lr``, then fresh optimisers). Every ``D_j`` starts from that discriminator (made when ``j`` is
first drawn, so at most ``min(k, T)`` exist). It reads no private data and costs no budget. Refused when the
private dataset is ``digits`` itself. ``warm_start: null`` starts from the (public-seeded) initialisation.

Released: the generator and samples drawn from it (:func:`~dpgraph.images.mechanisms.common.sample_release`), never
a discriminator. ``epsilon: null`` trains the same way without clipping or noise (the ceiling).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from functools import partial
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn
from torch.func import functional_call
from tqdm.auto import tqdm

from dpgraph.dpsgd.clip import clip_factors
from dpgraph.errors import DPGraphError
from dpgraph.generative.fitting import publicly_initialised
from dpgraph.images.dataset import ImageDataset
from dpgraph.images.mechanisms.common import GeneratorParams, ImageMechanism, sample_release
from dpgraph.images.models import ImageDiscriminator, ImageGenerator
from dpgraph.images.release import ImageGeneratorRelease
from dpgraph.mechanisms.base import ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.privacy.drawn_gaussian import DrawnGaussianEvent
from dpgraph.privacy.noise import add_gaussian_noise
from dpgraph.privacy.randomness import SecretRandomness

PUBLIC_BOX = 20 / 28
GRID = 2**53  # uniform float64 draws lie on the 2^-53 grid
ADAM_BETAS = (0.5, 0.9)  # the usual WGAN-GP choice (Gulrajani et al. 2017), also GS-WGAN's


class GSWGANParams(GeneratorParams):
    """GS-WGAN settings (all public, fixed in the pipeline file)."""

    discriminators: int = Field(default=100, ge=1, description="k: disjoint shards, one discriminator each")
    iterations: int = Field(default=300, ge=1, description="T: generator steps, one drawn discriminator each")
    critic_steps: int = Field(default=5, ge=1, description="WGAN-GP steps of the drawn discriminator per iteration")
    batch_size: int = Field(default=64, ge=1, description="B: generated samples per generator step (and critic batch)")
    clip_norm: float = Field(default=1.0, gt=0, description="C: L2 bound on each sample's image gradient")
    lr: float = Field(default=1e-4, gt=0, description="Adam learning rate of the generator and the discriminators")
    warm_start_lr: float = Field(default=3e-4, gt=0, description="the same, during the public warm start")
    gradient_penalty: float = Field(default=10.0, ge=0, description="WGAN-GP weight of the gradient penalty")
    generator_width: int = Field(default=32, ge=1)
    discriminator_width: int = Field(default=16, ge=4, multiple_of=4)
    warm_start: Literal["digits"] | None = None
    warm_start_steps: int = Field(default=0, ge=0, description="non-private steps on the public warm-start images")

    @model_validator(mode="after")
    def _warm_start_pair(self) -> GSWGANParams:
        if (self.warm_start is None) != (self.warm_start_steps == 0):
            raise ValueError("set both warm_start (public images: digits) and warm_start_steps > 0, or neither")
        return self


def drawn_event(params: GSWGANParams, sigma: float) -> DrawnGaussianEvent:
    """The event of a private run at noise std ``sigma C``: ``T`` draws of probability ``1/k``, each releasing ``B``
    gradients of sensitivity ``2C`` each, so multiplier ``sigma / (2 sqrt(B))``."""
    return DrawnGaussianEvent(1 / params.discriminators, sigma / (2 * math.sqrt(params.batch_size)),
                              params.iterations)


def uniform_choices(randomness: SecretRandomness, n: int, k: int) -> Tensor:
    """``n`` independent, exactly uniform draws from ``0..k-1`` (long [n]): each uniform's 53-bit grid index, kept
    below the largest multiple of ``k`` (rejection), modulo ``k``."""
    limit = (GRID // k) * k
    kept = torch.zeros(0, dtype=torch.long)
    while kept.numel() < n:
        index = (randomness.uniform((n - kept.numel(),)) * GRID).long()
        kept = torch.cat([kept, index[index < limit] % k])
    return kept


def sanitise(grads: Tensor, clip_norm: float, noise_std: float, randomness: SecretRandomness) -> Tensor:
    """Each row ``g_i`` of ``grads`` [B, ...] clipped to L2 norm ``clip_norm``, plus N(0, noise_std^2) on every
    coordinate (the one noise primitive, :func:`~dpgraph.privacy.noise.add_gaussian_noise`)."""
    scale, _ = clip_factors({"x": grads}, clip_norm)
    clipped = grads * scale.view(-1, *([1] * (grads.dim() - 1)))
    return add_gaussian_noise({"x": clipped}, noise_std, randomness)["x"]


def critic_step(critic: nn.Module, optimizer: torch.optim.Optimizer, generator: nn.Module, real: Tensor,
                labels: Tensor, penalty: float, rng: torch.Generator) -> None:
    """One WGAN-GP step of ``critic`` on ``real`` images with ``labels`` against ``generator``'s images of the same
    labels: ``E D(fake) - E D(real) + penalty * E (||grad D(mix)|| - 1)^2`` on random interpolates ``mix``; latents
    and interpolation weights from ``rng``. The generator runs on copies of its buffers (batch-norm statistics), so
    it leaves no trace of ``labels`` in the generator."""
    device = real.device
    z = torch.randn(real.size(0), generator.latent_dim, generator=rng).to(device)
    state = {**dict(generator.named_parameters()), **{k: b.clone() for k, b in generator.named_buffers()}}
    with torch.no_grad():
        fake = functional_call(generator, state, (z, labels))
    alpha = torch.rand(real.size(0), 1, 1, 1, generator=rng).to(device)
    mix = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (slope,) = torch.autograd.grad(critic(mix, labels).sum(), mix, create_graph=True)
    gp = (slope.flatten(1).norm(dim=1) - 1).pow(2).mean()
    loss = critic(fake, labels).mean() - critic(real, labels).mean() + penalty * gp
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def generator_step(generator: nn.Module, optimizer: torch.optim.Optimizer, critic: nn.Module, batch_size: int,
                   public: torch.Generator, sanitiser: Callable[[Tensor], Tensor] | None) -> None:
    """One step of ``generator`` on ``batch_size`` samples of uniform public labels: the per-sample image gradients
    of ``-critic`` (rows of one backward pass), passed through ``sanitiser`` (None: as they are), averaged and
    back-propagated through the generator."""
    device = next(generator.parameters()).device
    z = torch.randn(batch_size, generator.latent_dim, generator=public).to(device)
    labels = torch.randint(generator.num_classes, (batch_size,), generator=public).to(device)
    images = generator(z, labels)
    sample = images.detach().requires_grad_(True)
    (grads,) = torch.autograd.grad(-critic(sample, labels).sum(), sample)
    if sanitiser is not None:
        grads = sanitiser(grads)
    optimizer.zero_grad(set_to_none=True)
    images.backward(grads / batch_size)
    optimizer.step()


def public_digits(image_shape: tuple[int, int, int]) -> tuple[Tensor, Tensor]:
    """The warm-start images (module docstring): scikit-learn's digits in [0, 1], resized into a centred box of
    ``PUBLIC_BOX`` of ``image_shape``'s side, and their labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    channels, height, width = image_shape
    box = (max(1, round(PUBLIC_BOX * height)), max(1, round(PUBLIC_BOX * width)))
    small = F.interpolate(torch.from_numpy(bunch.images / 16.0).float().unsqueeze(1), size=box, mode="bilinear",
                          align_corners=False).clamp(0, 1)
    top, left = (height - box[0]) // 2, (width - box[1]) // 2
    images = F.pad(small, (left, width - box[1] - left, top, height - box[0] - top))
    return images.repeat(1, channels, 1, 1), torch.from_numpy(bunch.target).long()


def adam(module: nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(module.parameters(), lr=lr, betas=ADAM_BETAS)


@MECHANISMS.register("gs-wgan")
class GSWGAN(ImageMechanism):
    name = "gs-wgan"
    Params = GSWGANParams
    private = None
    stages = ("train",)
    default_split = {"train": 1.0}

    def memory_estimate(self, dataset: ImageDataset, params: GSWGANParams) -> tuple[float, str]:
        """The discriminators drawn (at most ``min(k, T)``) with their Adam states (three float32 copies each)."""
        channels, height, width = dataset.image_shape
        w = params.discriminator_width
        hidden = 2 * w * (height // 4) * (width // 4)
        weights = 16 * channels * w + 32 * w * w + hidden * (1 + dataset.num_classes)
        drawn = min(params.discriminators, params.iterations)
        return 12.0 * drawn * weights, "lower method.discriminators or method.discriminator_width"

    def check(self, privacy, dataset: ImageDataset, params: GSWGANParams) -> None:  # type: ignore[override]
        super().check(privacy, dataset, params)
        if params.discriminators > dataset.size:
            raise DPGraphError(f"method.discriminators ({params.discriminators}) exceeds the {dataset.size} training "
                               "images: some shards would always be empty; lower it")
        if params.warm_start == "digits" and dataset.name == "digits":
            raise DPGraphError("method.warm_start: digits would warm-start on the private dataset itself; use "
                               "warm_start: null (and warm_start_steps: 0) on digits")

    def release(self, dataset: ImageDataset, params: GSWGANParams,
                context: ReleaseContext) -> ImageGeneratorRelease:
        device, public, k = context.device, context.public, params.discriminators
        spend = context.spend("train", lambda sigma: drawn_event(params, sigma)) if context.private else None
        generator = publicly_initialised(lambda: ImageGenerator(dataset.image_shape, params.latent_dim,
                                                                dataset.num_classes, True, params.generator_width),
                                         public).to(device)
        critic = publicly_initialised(lambda: ImageDiscriminator(dataset.image_shape, dataset.num_classes, True,
                                                          params.discriminator_width), public).to(device)
        if params.warm_start is not None:
            self._warm_start(generator, critic, dataset.image_shape, params, context)
        generator_optimizer = adam(generator, params.lr)
        critics: dict[int, tuple[nn.Module, torch.optim.Optimizer]] = {}  # D_j, made from ``critic`` when first drawn

        images, labels = dataset.train_images.to(device), dataset.train_labels.to(device)
        shard_of = uniform_choices(context.secret, dataset.size, k).to(device)
        shards = [(shard_of == j).nonzero().flatten() for j in range(k)]
        draws = uniform_choices(context.secret, params.iterations, k).tolist()
        critic_rng = context.secret.generator()
        sanitiser = None if spend is None else partial(sanitise, clip_norm=params.clip_norm, randomness=context.secret,
                                                       noise_std=spend.noise_multiplier * params.clip_norm)
        for j in tqdm(draws, desc="gs-wgan", unit="it", disable=not context.progress):
            if j not in critics:
                copied = copy.deepcopy(critic)
                critics[j] = copied, adam(copied, params.lr)
            shard, (critic_j, critic_optimizer) = shards[j], critics[j]
            for _ in range(params.critic_steps if shard.numel() else 0):
                batch = shard[torch.randint(shard.numel(), (params.batch_size,), generator=critic_rng).to(device)]
                critic_step(critic_j, critic_optimizer, generator, images[batch], labels[batch],
                            params.gradient_penalty, critic_rng)
            generator_step(generator, generator_optimizer, critic_j, params.batch_size, public, sanitiser)
        if spend is not None:
            spend.record(drawn_event(params, spend.noise_multiplier))
        return sample_release(generator, params.latent_dim, dataset.num_classes, params.samples_per_class, public)

    @staticmethod
    def _warm_start(generator: nn.Module, critic: nn.Module, image_shape: tuple[int, int, int], params: GSWGANParams,
                    context: ReleaseContext) -> None:
        """Non-private conditional WGAN-GP of ``generator`` and ``critic`` on the public images (no budget)."""
        device, public = context.device, context.public
        images, labels = (t.to(device) for t in public_digits(image_shape))
        generator_optimizer = adam(generator, params.warm_start_lr)
        critic_optimizer = adam(critic, params.warm_start_lr)
        for _ in tqdm(range(params.warm_start_steps), desc="gs-wgan warm start", unit="it",
                      disable=not context.progress):
            for _ in range(params.critic_steps):
                batch = torch.randint(images.size(0), (params.batch_size,), generator=public).to(device)
                critic_step(critic, critic_optimizer, generator, images[batch], labels[batch],
                            params.gradient_penalty, public)
            generator_step(generator, generator_optimizer, critic, params.batch_size, public, None)
