"""``split_targets``: turn ``privacy.split: {stage: fraction}`` into cumulative per-stage epsilon targets.

Stages run in mapping order and each is calibrated with
``noise_multiplier_for(targets[stage], delta, make_event, prior=<events recorded so far>)``. Because the
target is CUMULATIVE (``total * sum of fractions up to and including the stage``), a stage that spends less
than its share leaves the rest to later stages, and the last stage's target is the total budget: the
whole run's epsilon is at most ``total_epsilon`` by construction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real

from dpgraph.errors import DPGraphError
from dpgraph.privacy.validation import check_positive

SUM_TOLERANCE = 1e-9


def split_targets(total_epsilon: float, split: Mapping[str, float]) -> dict[str, float]:
    """Cumulative epsilon target of each stage, in ``split``'s order (fractions > 0 summing to 1)."""
    total = check_positive(total_epsilon, "total epsilon")
    if not isinstance(split, Mapping) or not split:
        raise DPGraphError("privacy.split must map stages to budget fractions, e.g. {fit: 0.5, train: 0.5}")
    for stage, fraction in split.items():
        if isinstance(fraction, bool) or not isinstance(fraction, Real) or not 0 < fraction < math.inf:
            raise DPGraphError(f"privacy.split fraction for {stage!r} must be a number > 0, got {fraction!r}")
    fractions_sum = math.fsum(split.values())
    if abs(fractions_sum - 1) > SUM_TOLERANCE:
        raise DPGraphError(f"privacy.split fractions must sum to 1, not {fractions_sum:.12g}; rescale them")
    targets: dict[str, float] = {}
    running = 0.0
    for stage, fraction in split.items():
        running += fraction
        targets[stage] = min(total, total * running)
    return targets
