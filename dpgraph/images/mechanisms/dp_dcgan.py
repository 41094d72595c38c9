"""`dp-dcgan`: a GAN whose discriminator is trained with DP-SGD (opacus) and whose generator is post-processing.

Privacy unit: one example (an image with its label), add/remove adjacency; N (the number of training images) is
public. Settings of the one trainer: ``conditional`` (DP-CGAN: generator and discriminator see the label, the release
is labelled) and ``loss`` (``bce``, the DCGAN loss; ``wasserstein``, the DP-WGAN critic of Xie et al. 2018 with
weight clipping, since a gradient penalty would need a double backward through opacus' per-sample gradients).

Training (Bie et al. 2023, "Private GANs, revisited"): ``generator_steps`` rounds of ``discriminator_steps`` DP-SGD
steps of the discriminator, then one generator step, T = ``generator_steps * discriminator_steps`` DP steps in all,
fixed before training. Each DP step draws a Poisson batch at rate q = 1 / ceil(N / B) (opacus' rate for a loader of
batch size ``batch_size`` B; about B / N) and ``fake = int(N q)`` (opacus' expected batch size, about B) generated
samples, runs real and fake through the discriminator in ONE forward and ONE backward, clips every row's gradient to
``C = clip_norm`` (opacus, flat clipping), sums, adds N(0, (sigma C)^2) and divides by ``fake`` (opacus'
``loss_reduction="mean"``; with as many fake as expected real rows that is the usual mean real loss plus mean fake
loss).

Sensitivity C per step: the generated rows are a function of the generator, itself a function of the discriminator's
earlier noisy releases and public randomness (its initialisation, latents, labels), and their count is the public
``fake``, never the realised batch size; so under neighbouring datasets they are identical, given the past releases,
and the clipped sum changes only by the one added or removed example's clipped gradient, norm at most C. The
generator step reads the discriminator's released weights and public latents only: its hooks are off, it computes no
per-sample gradient, steps no DP optimizer and leaves no gradient behind. Weight clipping, the generator and its
samples are post-processing.

Event, stage ``train``: ``SelfComposed(PoissonSampled(q, Gaussian(sigma)), T)``, sigma calibrated to the budget; the
recorded event is ``event_from_opacus`` of opacus' accountant, which the budget checks equals it. Noise
(``noise_generator``) and batch selection (the data loader's ``generator``, which opacus' ``DPDataLoader`` inherits
outside its own secure mode) are two torch generators keyed from ``context.secret``; torch's global generator, seeded
by the run's public seed, draws neither. ``privacy.randomness: secure`` is refused: opacus would draw from a torch
generator, not the guarded CSPRNG that mode promises. ``epsilon: null`` trains the same GAN without opacus (shuffled
batches of B, no clipping or noise): the non-private ceiling.

Released: the generator and ``samples_per_class`` samples per class from it (:func:`sample_release`); never the
discriminator, nor a real image.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from opacus import PrivacyEngine
from opacus.accountants import IAccountant
from pydantic import Field, model_validator
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from dpgraph.config.sections import PrivacySection
from dpgraph.errors import DPGraphError
from dpgraph.generative.fitting import publicly_initialised
from dpgraph.images.dataset import ImageDataset
from dpgraph.images.mechanisms.common import GeneratorParams, ImageMechanism, sample_release
from dpgraph.images.mechanisms.gan_training import GAN, GANLoss, endless
from dpgraph.images.models import ImageDiscriminator, ImageGenerator
from dpgraph.images.release import ImageGeneratorRelease
from dpgraph.mechanisms.base import ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.privacy import dpsgd_event_factory, event_from_opacus


class DPDCGANParams(GeneratorParams):
    """Architecture, schedule and DP-SGD settings of `dp-dcgan` (all public, fixed in the pipeline file)."""

    conditional: bool = True
    loss: GANLoss = "bce"
    width: int = Field(default=32, gt=0, description="channels of the generator's and discriminator's first layer")
    groups: int = Field(default=8, gt=0, description="GroupNorm groups of the discriminator (divide 2 * width)")
    batch_size: int = Field(default=64, ge=2, description="expected Poisson batch size B (q = 1 / ceil(N / B))")
    generator_steps: int = Field(default=600, gt=0)
    discriminator_steps: int = Field(default=5, gt=0, description="DP discriminator steps per generator step")
    clip_norm: float = Field(default=1.0, gt=0)
    lr_generator: float = Field(default=1e-3, gt=0)
    lr_discriminator: float = Field(default=1e-3, gt=0)
    beta1: float = Field(default=0.5, ge=0, lt=1, description="Adam's first-moment decay, both networks")
    weight_clip: float = Field(default=0.01, gt=0, description="critic weight bound, loss: wasserstein only")

    @model_validator(mode="after")
    def _consistent(self) -> DPDCGANParams:
        if (2 * self.width) % self.groups:
            raise ValueError(f"groups ({self.groups}) must divide 2 * width ({2 * self.width})")
        if self.loss != "wasserstein" and "weight_clip" in self.model_fields_set:
            raise ValueError("weight_clip only applies to loss: wasserstein; remove it or set loss: wasserstein")
        return self

    @property
    def dp_steps(self) -> int:
        """T: the number of DP-SGD steps of the discriminator (all of them are accounted)."""
        return self.generator_steps * self.discriminator_steps


@dataclass(frozen=True)
class TrainedGAN:
    """The trained generator, the discriminator as it was trained (opacus' GradSampleModule when private) and
    opacus' accountant (None when non-private)."""

    generator: ImageGenerator
    discriminator: nn.Module
    accountant: IAccountant | None


def build_gan_modules(dataset: ImageDataset, params: DPDCGANParams,
                      public: torch.Generator) -> tuple[ImageGenerator, ImageDiscriminator]:
    """The generator and discriminator of ``params``, initialised from ``public``."""
    generator = publicly_initialised(lambda: ImageGenerator(dataset.image_shape, params.latent_dim,
                                                            dataset.num_classes, params.conditional, params.width),
                                     public)
    discriminator = publicly_initialised(lambda: ImageDiscriminator(dataset.image_shape, dataset.num_classes,
                                                                    params.conditional, params.width, params.groups),
                                         public)
    return generator, discriminator  # type: ignore[return-value]


def _adam(module: nn.Module, lr: float, params: DPDCGANParams) -> torch.optim.Optimizer:
    return torch.optim.Adam(module.parameters(), lr=lr, betas=(params.beta1, 0.999))


def train_gan(dataset: ImageDataset, params: DPDCGANParams, context: ReleaseContext) -> TrainedGAN:
    """Train the GAN of the module docstring; when private, calibrate stage ``train``, train with opacus and record
    the event opacus accounted."""
    device = context.device
    generator, discriminator = (module.to(device) for module in build_gan_modules(dataset, params, context.public))
    d_optimizer = _adam(discriminator, params.lr_discriminator, params)
    examples = TensorDataset(dataset.train_images, dataset.train_labels)
    engine, spend = None, None
    if context.private:
        batch_generator = context.secret.generator()
        loader = DataLoader(examples, batch_size=params.batch_size, generator=batch_generator)
        sample_rate = 1 / len(loader)  # the rate opacus' make_private derives from this loader
        spend = context.spend("train", dpsgd_event_factory(params.dp_steps, sample_rate))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Secure RNG turned off")  # our generators are keyed secretly
            engine = PrivacyEngine(accountant="prv")
        discriminator, d_optimizer, loader = engine.make_private(
            module=discriminator, optimizer=d_optimizer, data_loader=loader, noise_multiplier=spend.noise_multiplier,
            max_grad_norm=params.clip_norm, poisson_sampling=True, loss_reduction="mean",
            noise_generator=context.secret.generator(device))
        if loader.batch_sampler.generator is not batch_generator:
            raise RuntimeError("opacus' Poisson sampler does not draw from the secret batch generator")
        fake_count = d_optimizer.expected_batch_size
    else:
        loader = DataLoader(examples, batch_size=params.batch_size, shuffle=True, drop_last=True,
                            generator=context.public)
        fake_count = params.batch_size
    gan = GAN(generator=generator, discriminator=discriminator, generator_optimizer=_adam(generator,
              params.lr_generator, params), discriminator_optimizer=d_optimizer, latent_dim=params.latent_dim,
              num_classes=dataset.num_classes, fake_count=fake_count, loss=params.loss, private=context.private,
              weight_clip=params.weight_clip if params.loss == "wasserstein" else None)
    batches = endless(loader)
    with warnings.catch_warnings():
        # opacus' per-sample hooks fire on module outputs whose inputs need no gradient (the images): expected here
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        for _ in tqdm(range(params.generator_steps), desc="dp-dcgan", unit="G step", disable=not context.progress):
            for _ in range(params.discriminator_steps):
                images, labels = next(batches)
                gan.discriminator_step(images.to(device), labels.to(device), context.public)
            gan.generator_step(context.public, device)
    if spend is not None:
        spend.record(event_from_opacus(engine.accountant))
    return TrainedGAN(generator=generator, discriminator=discriminator,
                      accountant=engine.accountant if engine is not None else None)


@MECHANISMS.register("dp-dcgan")
class DPDCGAN(ImageMechanism):
    name = "dp-dcgan"
    Params = DPDCGANParams
    private = None
    stages = ("train",)
    default_split = {"train": 1.0}

    def memory_estimate(self, dataset: ImageDataset, params: DPDCGANParams) -> tuple[float, str]:
        """One step's float32 per-row gradients: about 2B rows (real and fake), each the discriminator's size."""
        _, discriminator = build_gan_modules(dataset, params, torch.Generator().manual_seed(0))
        weights = sum(p.numel() for p in discriminator.parameters())
        return 4.0 * 2 * params.batch_size * weights, "lower method.batch_size or method.width"

    def check(self, privacy: PrivacySection, dataset: ImageDataset, params: DPDCGANParams) -> None:  # type: ignore[override]
        super().check(privacy, dataset, params)
        if params.batch_size > dataset.size:
            raise DPGraphError(f"method.batch_size ({params.batch_size}) must be at most the number of training "
                               f"images ({dataset.size})")
        if privacy.private and privacy.randomness == "secure":
            raise DPGraphError("method 'dp-dcgan' draws its noise and batches through opacus from torch generators, "
                               "not the guarded CSPRNG of privacy.randomness: secure; use secret")

    def release(self, dataset: ImageDataset, params: DPDCGANParams,  # type: ignore[override]
                context: ReleaseContext) -> ImageGeneratorRelease:
        trained = train_gan(dataset, params, context)
        return sample_release(trained.generator, params.latent_dim, dataset.num_classes, params.samples_per_class,
                              context.public, params.conditional)
