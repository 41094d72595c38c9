"""DP-SGD event factories: map a noise multiplier to the event of a whole training run (T steps).

Without ``occurrences``: Poisson-subsampled Gaussian at ``sample_rate``, composed ``steps`` times (one
example per unit, opacus' setting). With ``occurrences`` K and ``num_subgraphs`` N: the K-occurrence subgraph
step (:mod:`dpgraph.privacy.k_occurrence`), fixed-size if ``batch_size`` is given, else Poisson at
``sample_rate``. Used by ``dpgraph account`` and by calibration (``noise_multiplier_for``).
"""

from __future__ import annotations

from collections.abc import Callable

from dpgraph.errors import DPGraphError
from dpgraph.privacy.events import (
    GaussianEvent,
    PoissonSampledEvent,
    PrivacyEvent,
    SelfComposedEvent,
    SubgraphSampledGaussianEvent,
)
from dpgraph.privacy.validation import check_count, check_probability


def dpsgd_event_factory(
    steps: int,
    sample_rate: float | None = None,
    occurrences: int | None = None,
    num_subgraphs: int | None = None,
    batch_size: int | None = None,
) -> Callable[[float], PrivacyEvent]:
    """Validate the run's shape once; return ``sigma -> SelfComposedEvent(step_event(sigma), steps)``."""
    steps = check_count(steps, "steps (--steps)")
    if (occurrences is None) != (num_subgraphs is None):
        raise DPGraphError("give both --occurrences (K) and --num-subgraphs (N) for subgraph DP-SGD, or none")
    if occurrences is None:
        if batch_size is not None:
            raise DPGraphError("--batch-size needs --occurrences and --num-subgraphs; else use --sample-rate")
        if sample_rate is None:
            raise DPGraphError("DP-SGD needs --sample-rate (the Poisson sampling probability)")
        q = check_probability(sample_rate, "sample rate (--sample-rate)")
        return lambda sigma: SelfComposedEvent(PoissonSampledEvent(q, GaussianEvent(sigma)), steps)
    if (batch_size is None) == (sample_rate is None):
        raise DPGraphError("subgraph DP-SGD needs --batch-size (fixed) or --sample-rate (Poisson), not both")
    sampler = "fixed" if batch_size is not None else "poisson"

    def make_event(sigma: float) -> PrivacyEvent:
        step = SubgraphSampledGaussianEvent(
            sigma, occurrences, num_subgraphs, sampler, batch_size, sample_rate
        )
        return SelfComposedEvent(step, steps)

    make_event(1.0)  # validates K, N, B / q now, with their own messages
    return make_event
