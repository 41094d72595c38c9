"""The DP gradient oracle: per-class noisy sums of clipped per-unit gradients (node- or attribute-level DP).

Each query is one step of Poisson-subsampled DP-SGD with the class label as a routing key: every unit (a real
training node, or the subgraph rooted at one) enters with probability ``q``; its gradient ``g_i`` (of the loss of
the matching model on the unit's feature row) is clipped to ``||g_i|| <= C`` and added to the block of its root's
class; every class block gets N(0, (sigma C)^2) noise per coordinate. The oracle refuses a query beyond the
``max_queries`` it was calibrated for; anything computed from the answers is post-processing.

- One-node units (``occurrences=None``; the ``hops: 0`` ego sampler): a unit's row is its node's own features, no
  edge is read. One node touches one block by at most ``C``: add/remove sensitivity ``C``, and a query is
  ``PoissonSampledEvent(q, GaussianEvent(sigma))``.
- Subgraph units (``occurrences=K``): a unit's row is computed from its rooted subgraph only (e.g. the root's
  propagated features), built by a node-stable sampler in which a node occurs in at most K units (or, under the
  attributes unit, by any sampler of the public edges). Removing a node (or replacing its attributes) changes at
  most K units, each moving the class blocks by at most ``2C`` (its gradient leaves one block and the new one
  enters a block, perhaps another): the K-occurrence event of :mod:`dpgraph.privacy.k_occurrence` (as for subgraph
  DP-SGD). One-node units under the replace-one attributes unit are this case with K = 1.

``T`` queries compose to ``SelfComposedEvent(step, T)`` (``UnitSampling.event``).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from dpgraph.dpsgd.gradient_sum import PrivateGradientSum
from dpgraph.privacy import PrivacyEvent


class NoisyClassGradients:
    """Node-level DP oracle (see the module docstring): ``x`` [N, F] and ``y`` [N], one row and root label per unit;
    ``gradient_sum`` (its loss :func:`~dpgraph.dpsgd.losses.row_cross_entropy`, calibrated for ``max_calls``
    queries) selects units, clips, sums per class and adds the noise."""

    def __init__(self, x: Tensor, y: Tensor, num_classes: int, gradient_sum: PrivateGradientSum):
        self.x, self.y, self.num_classes, self.gradient_sum = x, y, num_classes, gradient_sum

    def class_gradients(self, model: nn.Module, classes: Sequence[int]) -> dict[int, list[Tensor]]:
        noisy, _ = self.gradient_sum(model, (self.x, self.y), groups=self.y, num_groups=self.num_classes)
        return {c: [block[c] for block in noisy.values()] for c in classes}

    @property
    def queries(self) -> int:
        return self.gradient_sum.calls

    def event(self) -> PrivacyEvent:
        """The queries answered so far, as one event."""
        return self.gradient_sum.event()


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

