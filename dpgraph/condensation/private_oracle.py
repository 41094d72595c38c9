"""The DP gradient oracle: per-class noisy sums of clipped per-node gradients (node-level, one node per unit).

Each query is one step of Poisson-subsampled DP-SGD with the class label as a routing key: every real training
node enters with probability ``q``; its gradient ``g_i`` (of the loss of the matching model on its own features)
is clipped to ``||g_i|| <= C`` and added to the block of its class; every class block gets N(0, (sigma C)^2) noise
per coordinate. One node touches one block by at most ``C``, so the concatenated blocks have add/remove L2
sensitivity ``C`` and a query is ``PoissonSampledEvent(q, GaussianEvent(sigma))``; ``T`` queries compose to
``SelfComposedEvent(..., T)``. The oracle refuses a query beyond the ``max_queries`` it was calibrated for.

The units are the nodes alone (features of node i only: no edge is read), the same one-node subgraphs as the
``hops: 0`` ego sampler; anything computed from the answers is post-processing.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from dpgraph.dpsgd.clip import clip_factors
from dpgraph.dpsgd.noise import add_gaussian_noise
from dpgraph.dpsgd.per_sample import per_sample_gradients
from dpgraph.privacy import GaussianEvent, PoissonSampledEvent, PrivacyEvent, SelfComposedEvent


class NoisyClassGradients:
    """Node-level DP oracle (see the module docstring); ``x`` [N, F] and ``y`` [N] are the real training nodes."""

    def __init__(self, x: Tensor, y: Tensor, num_classes: int, clip_norm: float, noise_multiplier: float,
                 sample_rate: float, max_queries: int, generator: torch.Generator):
        self.x, self.y, self.num_classes = x, y, num_classes
        self.clip_norm, self.noise_multiplier, self.sample_rate = clip_norm, noise_multiplier, sample_rate
        self.max_queries, self.generator, self.queries = max_queries, generator, 0

    def class_gradients(self, model: nn.Module, classes: Sequence[int]) -> dict[int, list[Tensor]]:
        if self.queries >= self.max_queries:
            raise RuntimeError(f"the DP oracle was calibrated for {self.max_queries} queries; no more are allowed")
        self.queries += 1
        device = self.x.device
        keep = torch.rand(self.x.size(0), generator=self.generator, device=self.generator.device).to(device)
        keep = keep < self.sample_rate
        x, y = self.x[keep], self.y[keep]
        blocks = {name: torch.zeros(self.num_classes, *p.shape, device=device, dtype=p.dtype)
                  for name, p in model.named_parameters()}
        if x.size(0) > 0:
            grads = per_sample_gradients(model, (x,), y)
            scale, _ = clip_factors(grads, self.clip_norm)
            for name, g in grads.items():
                blocks[name].index_add_(0, y, g * scale.view(-1, *[1] * (g.dim() - 1)))
        noisy = add_gaussian_noise(blocks, self.noise_multiplier * self.clip_norm, self.generator)
        return {c: [b[c] for b in noisy.values()] for c in classes}

    def event(self) -> PrivacyEvent:
        """The queries answered so far, as one event."""
        return query_event(self.noise_multiplier, self.sample_rate, self.queries)


class OncePerModel:
    """Answers repeated queries about the SAME untouched model from one real query (post-processing): with a
    model that is not trained between matching steps, an outer step then costs one query instead of
    ``matching_steps``. ``version`` is the model's parameter versions, so a trained model is queried again."""

    def __init__(self, oracle: NoisyClassGradients):
        self.oracle, self._model, self._key, self._answer = oracle, None, None, None

    def class_gradients(self, model: nn.Module, classes: Sequence[int]) -> dict[int, list[Tensor]]:
        key = (tuple(p._version for p in model.parameters()), tuple(classes))
        if model is not self._model or key != self._key:  # holds the model, so a new one never reuses its id
            self._model, self._key = model, key
            self._answer = self.oracle.class_gradients(model, classes)
        return self._answer

    @property
    def queries(self) -> int:
        return self.oracle.queries

    def event(self) -> PrivacyEvent:
        return self.oracle.event()


def query_event(noise_multiplier: float, sample_rate: float, queries: int) -> PrivacyEvent:
    """``queries`` Poisson-subsampled Gaussian steps: the event of :class:`NoisyClassGradients`."""
    return SelfComposedEvent(PoissonSampledEvent(sample_rate, GaussianEvent(noise_multiplier)), queries)
