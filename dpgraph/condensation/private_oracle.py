"""The DP gradient oracle: per-class noisy sums of clipped per-unit gradients (node-level DP).

Each query is one step of Poisson-subsampled DP-SGD with the class label as a routing key: every unit (a real
training node, or the subgraph rooted at one) enters with probability ``q``; its gradient ``g_i`` (of the loss of
the matching model on the unit's feature row) is clipped to ``||g_i|| <= C`` and added to the block of its root's
class; every class block gets N(0, (sigma C)^2) noise per coordinate. The oracle refuses a query beyond the
``max_queries`` it was calibrated for; anything computed from the answers is post-processing.

- One-node units (``occurrences=None``; the ``hops: 0`` ego sampler): a unit's row is its node's own features, no
  edge is read. One node touches one block by at most ``C``: add/remove sensitivity ``C``, and a query is
  ``PoissonSampledEvent(q, GaussianEvent(sigma))``.
- Subgraph units (``occurrences=K``): a unit's row is computed from its rooted subgraph only (e.g. the root's
  propagated features), built by a node-stable sampler in which a node occurs in at most K units. Removing a node
  changes at most K units, each moving its class block by at most ``2C``: the K-occurrence event of
  :mod:`dpgraph.privacy.k_occurrence` (as for subgraph DP-SGD).

``T`` queries compose to ``SelfComposedEvent(step, T)`` (:func:`query_event`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from dpgraph.dpsgd.clip import clip_factors
from dpgraph.dpsgd.noise import add_gaussian_noise
from dpgraph.dpsgd.per_sample import per_sample_gradients
from dpgraph.privacy import PrivacyEvent, dpsgd_event_factory
from dpgraph.privacy.randomness import SecretRandomness


class NoisyClassGradients:
    """Node-level DP oracle (see the module docstring); ``x`` [N, F] and ``y`` [N]: one row and root label per unit;
    ``occurrences``: K for subgraph units, None for one-node units; ``randomness`` draws the Poisson sample and the
    noise."""

    def __init__(self, x: Tensor, y: Tensor, num_classes: int, clip_norm: float, noise_multiplier: float,
                 sample_rate: float, max_queries: int, randomness: SecretRandomness, occurrences: int | None = None):
        self.x, self.y, self.num_classes, self.occurrences = x, y, num_classes, occurrences
        self.clip_norm, self.noise_multiplier, self.sample_rate = clip_norm, noise_multiplier, sample_rate
        self.max_queries, self.randomness, self.queries = max_queries, randomness, 0

    def class_gradients(self, model: nn.Module, classes: Sequence[int]) -> dict[int, list[Tensor]]:
        if self.queries >= self.max_queries:
            raise RuntimeError(f"the DP oracle was calibrated for {self.max_queries} queries; no more are allowed")
        self.queries += 1
        device = self.x.device
        keep = self.randomness.bernoulli(self.x.size(0), self.sample_rate, device)
        x, y = self.x[keep], self.y[keep]
        blocks = {name: torch.zeros(self.num_classes, *p.shape, device=device, dtype=p.dtype)
                  for name, p in model.named_parameters()}
        if x.size(0) > 0:
            grads = per_sample_gradients(model, (x,), y)
            scale, _ = clip_factors(grads, self.clip_norm)
            for name, g in grads.items():
                blocks[name].index_add_(0, y, g * scale.view(-1, *[1] * (g.dim() - 1)))
        noisy = add_gaussian_noise(blocks, self.noise_multiplier * self.clip_norm, self.randomness)
        return {c: [b[c] for b in noisy.values()] for c in classes}

    def event(self) -> PrivacyEvent:
        """The queries answered so far, as one event."""
        num_units = self.x.size(0) if self.occurrences is not None else None
        return query_event(self.noise_multiplier, self.sample_rate, self.queries, self.occurrences, num_units)


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


def query_event(noise_multiplier: float, sample_rate: float, queries: int, occurrences: int | None = None,
                num_units: int | None = None) -> PrivacyEvent:
    """``queries`` Poisson-subsampled steps: the event of :class:`NoisyClassGradients` (one-node units, or
    ``num_units`` subgraph units with occurrence bound ``occurrences``)."""
    return dpsgd_event_factory(queries, sample_rate, occurrences, num_units)(noise_multiplier)
