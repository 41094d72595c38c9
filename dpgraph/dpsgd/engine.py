"""The node-level DP-SGD step on subgraphs, and its privacy event.

One step (noise convention of :mod:`dpgraph.privacy.k_occurrence`): select a batch of the ``N`` subgraphs
(``fixed``: uniform ``B``-subset; ``poisson``: each with prob. ``q``), take one gradient per subgraph, clip each
to total L2 norm ``C``, sum, add N(0, (sigma C)^2) per coordinate, divide by the expected batch size
(``B`` or ``q N``: post-processing), write it to ``.grad`` and call ``optimizer.step()``.

An empty Poisson batch still takes a step: the update is then the noise alone (the accountant assumes every
step releases a noisy sum, so skipping it would change the mechanism).

``occurrences=None`` is the one-node-per-subgraph case (a :class:`~dpgraph.sampling.SubgraphSet` that is
``singleton``): removing a node removes its own subgraph and touches no other, which is plain add/remove DP-SGD,
accounted as ``PoissonSampledEvent(q, GaussianEvent(sigma))`` per step (Poisson selection only).

Batch selection and noise both come from ``randomness`` (:mod:`dpgraph.privacy.randomness`): secret by default,
the OS CSPRNG with a guarded Gaussian sampler in ``secure`` mode.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from dpgraph.dpsgd.batch import DenseSubgraphBatch
from dpgraph.dpsgd.clip import clip_and_sum
from dpgraph.dpsgd.noise import add_gaussian_noise
from dpgraph.dpsgd.per_sample import per_subgraph_gradients
from dpgraph.errors import DPGraphError
from dpgraph.privacy import PrivacyEvent, PrivacyLedger, SubgraphSampledGaussianEvent, dpsgd_event_factory
from dpgraph.privacy.randomness import SecretRandomness


class DPSGDEngine:
    """Runs DP-SGD steps on ``model`` and counts them for the accountant.

    ``private=False`` is a non-private debug mode: ``noise_multiplier`` may be 0 and ``clip_norm`` infinite, and
    :meth:`event` / :meth:`record` raise. ``randomness`` drives batch selection and noise.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        clip_norm: float,
        noise_multiplier: float,
        occurrences: int | None,
        num_subgraphs: int,
        sampler: str,
        batch_size: int | None = None,
        sample_rate: float | None = None,
        *,
        randomness: SecretRandomness,
        private: bool = True,
        loss: str = "cross_entropy",
    ) -> None:
        if not isinstance(randomness, SecretRandomness):
            raise ValueError(f"randomness must be a SecretRandomness, got {type(randomness).__name__}")
        if private:
            sigma_to_check = noise_multiplier
            if not (isinstance(clip_norm, int | float) and math.isfinite(clip_norm) and clip_norm > 0):
                raise DPGraphError(f"clip_norm must be a finite number > 0, got {clip_norm!r}")
        else:
            if not (isinstance(noise_multiplier, int | float) and noise_multiplier >= 0):
                raise DPGraphError(f"noise_multiplier must be >= 0, got {noise_multiplier!r}")
            if not (isinstance(clip_norm, int | float) and clip_norm > 0):
                raise DPGraphError(f"clip_norm must be > 0 (inf allowed when private=False), got {clip_norm!r}")
            sigma_to_check = 1.0
        if occurrences is None and sampler != "poisson":
            raise DPGraphError("one-node subgraphs (occurrences=None) are accounted with Poisson selection only: "
                               "use a sample rate instead of a batch size")
        # validates sigma (private), K, N, the sampler and B / q with the accounting core's own messages
        step_event = SubgraphSampledGaussianEvent(
            sigma_to_check, occurrences or 1, num_subgraphs, sampler, batch_size, sample_rate
        )
        self.model = model
        self.optimizer = optimizer
        self.clip_norm = float(clip_norm)
        self.noise_multiplier = float(noise_multiplier)
        self.occurrences = occurrences
        self.num_subgraphs = step_event.num_subgraphs
        self.sampler = step_event.sampler
        self.batch_size = step_event.batch_size
        self.sample_rate = step_event.sampling_probability
        self.randomness = randomness
        self.private = private
        self.loss = loss
        self.steps = 0

    @property
    def expected_batch_size(self) -> float:
        """``B`` (fixed) or ``q N`` (poisson): the divisor of the noisy sum."""
        if self.sampler == "fixed":
            return float(self.batch_size)
        return self.sample_rate * self.num_subgraphs

    def select(self, device: torch.device) -> Tensor:
        """Indices of one step's batch, on ``device``: Bernoulli(q) per subgraph, or a uniform permutation's first B."""
        n = self.num_subgraphs
        if self.sampler == "fixed":
            return self.randomness.permutation(n, device)[: self.batch_size]
        return self.randomness.bernoulli(n, self.sample_rate, device).nonzero().flatten()

    def step(self, batch_all: DenseSubgraphBatch) -> dict[str, float]:
        """One DP-SGD step on the ``N`` subgraphs of ``batch_all``; returns batch statistics (pre-clip norms)."""
        if len(batch_all) != self.num_subgraphs:
            raise ValueError(f"batch_all holds {len(batch_all)} subgraphs; the engine expects N={self.num_subgraphs}")
        idx = self.select(batch_all.y.device)
        params = {name: p for name, p in self.model.named_parameters() if p.requires_grad}
        if idx.numel() > 0:
            grads = per_subgraph_gradients(self.model, batch_all.index(idx), self.loss)
            summed, norms = clip_and_sum(grads, self.clip_norm)
        else:
            summed = {name: torch.zeros_like(p) for name, p in params.items()}
            norms = torch.zeros(0)
        if self.noise_multiplier > 0:
            summed = add_gaussian_noise(summed, self.noise_multiplier * self.clip_norm, self.randomness)
        divisor = self.expected_batch_size
        for name, p in params.items():
            p.grad = (summed[name] / divisor).to(p.dtype)
        self.optimizer.step()
        self.steps += 1
        return {
            "batch_size": float(idx.numel()),
            "mean_norm": norms.mean().item() if norms.numel() else math.nan,
            "clipped_fraction": (norms > self.clip_norm).float().mean().item() if norms.numel() else math.nan,
        }

    def event(self) -> PrivacyEvent:
        """The run's event so far: ``SelfComposedEvent(step event, steps)`` (see the module docstring)."""
        if not self.private:
            raise DPGraphError("this DPSGDEngine runs with private=False: it has no privacy event")
        if self.steps == 0:
            raise DPGraphError("no DP-SGD step taken yet: nothing to account")
        if self.occurrences is None:
            make_event = dpsgd_event_factory(self.steps, self.sample_rate)
        else:
            make_event = dpsgd_event_factory(
                self.steps, self.sample_rate, self.occurrences, self.num_subgraphs, self.batch_size
            )
        return make_event(self.noise_multiplier)

    def record(self, ledger: PrivacyLedger, stage: str) -> None:
        """Record :meth:`event` in ``ledger`` under ``stage``."""
        ledger.record(stage, self.event())
