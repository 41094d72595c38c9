"""The GAN steps of ``dp-dcgan``, the same whether the discriminator is private (opacus) or not.

A discriminator step scores ``real`` (a batch of private examples) and ``fake_count`` generated examples in ONE
forward and ONE backward, so that opacus clips every row's gradient separately and adds noise once to their sum. A
generator step runs the discriminator with opacus' per-sample hooks off, so it neither computes per-sample gradients
nor touches the discriminator's DP state, and clears the discriminator's gradients afterwards.

Losses per row (``s`` the discriminator's score): ``bce``, real ``softplus(-s) = -log sigmoid(s)``, fake
``softplus(s)``, generator ``softplus(-s)`` (non-saturating); ``wasserstein`` (critic), real ``-s``, fake ``s``,
generator ``-s``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from opacus import GradSampleModule
from torch import Tensor, nn
from torch.utils.data import DataLoader

GANLoss = Literal["bce", "wasserstein"]


def endless(loader: DataLoader) -> Iterator[tuple[Tensor, Tensor]]:
    """The loader's batches, epoch after epoch (the caller takes exactly as many steps as it accounted)."""
    while True:
        yield from loader


def discriminator_losses(scores: Tensor, real_rows: int, loss: GANLoss) -> Tensor:
    """Per-row losses [M] of scores [M] whose first ``real_rows`` rows are real and the rest generated."""
    sign = torch.ones_like(scores)
    sign[:real_rows] = -1.0
    return F.softplus(sign * scores) if loss == "bce" else sign * scores


def generator_loss(scores: Tensor, loss: GANLoss) -> Tensor:
    """The generator's loss on the discriminator's scores of its samples (mean over rows)."""
    return (F.softplus(-scores) if loss == "bce" else -scores).mean()


@contextmanager
def per_sample_hooks_off(discriminator: nn.Module) -> Iterator[None]:
    """No per-sample gradients inside (a no-op for a discriminator that opacus did not wrap)."""
    if not isinstance(discriminator, GradSampleModule):
        yield
        return
    discriminator.disable_hooks()
    try:
        yield
    finally:
        discriminator.enable_hooks()


@dataclass
class GAN:
    """A generator and a discriminator in training, and how the discriminator's loss is reduced.

    ``discriminator`` / ``discriminator_optimizer`` are opacus' GradSampleModule / DPOptimizer when private.
    ``fake_count``: generated rows per discriminator step and per generator step, a public constant (the expected
    batch size ``B``). ``private``: the discriminator backpropagates the mean over rows (opacus' ``loss_reduction=
    "mean"`` turns it back into per-row gradients and divides the noisy clipped sum by ``B``); else the sum over rows
    divided by ``B``, the same scale. ``weight_clip``: clamp every discriminator weight to ``[-c, c]`` after each of
    its steps (the WGAN critic's Lipschitz constraint), or None.
    """

    generator: nn.Module
    discriminator: nn.Module
    generator_optimizer: torch.optim.Optimizer
    discriminator_optimizer: torch.optim.Optimizer
    latent_dim: int
    num_classes: int
    fake_count: int
    loss: GANLoss
    private: bool
    weight_clip: float | None = None

    def _latents(self, public: torch.Generator, device: torch.device) -> tuple[Tensor, Tensor]:
        z = torch.randn(self.fake_count, self.latent_dim, generator=public)
        labels = torch.randint(self.num_classes, (self.fake_count,), generator=public)
        return z.to(device), labels.to(device)

    def discriminator_step(self, real: Tensor, real_labels: Tensor, public: torch.Generator) -> None:
        """One (noisy, when private) discriminator step on ``real`` and ``fake_count`` samples of the generator; it
        leaves no gradient (nor per-sample gradient) behind."""
        z, fake_labels = self._latents(public, real.device)
        with torch.no_grad():
            fake = self.generator(z, fake_labels)
        scores = self.discriminator(torch.cat([real, fake]), torch.cat([real_labels, fake_labels]))
        losses = discriminator_losses(scores, real.size(0), self.loss)
        (losses.mean() if self.private else losses.sum() / self.fake_count).backward()
        self.discriminator_optimizer.step()
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        if self.weight_clip is not None:
            with torch.no_grad():
                for weight in self.discriminator.parameters():
                    weight.clamp_(-self.weight_clip, self.weight_clip)

    def generator_step(self, public: torch.Generator, device: torch.device) -> None:
        """One generator step against the current discriminator (post-processing of its released weights)."""
        z, labels = self._latents(public, device)
        with per_sample_hooks_off(self.discriminator):
            loss = generator_loss(self.discriminator(self.generator(z, labels), labels), self.loss)
            self.generator_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.generator_optimizer.step()
        self.discriminator_optimizer.zero_grad(set_to_none=True)
