"""Flatten an event into (Poisson-)sampled Gaussians, the form the analytic, PLD and PRV accountants take.

``GaussianEvent(s)`` is ``(s, 1)`` and ``PoissonSampledEvent(q, GaussianEvent(s))`` is ``(s, q)``. Poisson
sampling with ``q = 1`` and sampling without replacement with ``m = n`` keep every unit, so they are their inner
event. A K-occurrence subgraph step that keeps every subgraph (``q = 1`` or ``B = N``) moves the noisy sum by at most
``2KC`` surely, so it is exactly ``GaussianEvent(s / (2K))`` (:mod:`dpgraph.privacy.k_occurrence`).
Self-composition multiplies counts, composition adds them (:func:`leaf_counts`, shared with the accounting
of pure-DP events). Any other event has no such form.

Plain Gaussians compose exactly: ``s``-noise Gaussians are ``1/s``-GDP and ``mu_i``-GDP mechanisms compose
(adaptively) to ``sqrt(sum mu_i^2)``-GDP (Dong, Roth, Su 2022), so multipliers ``s_i``, each applied ``count_i``
times, make exactly one Gaussian of multiplier ``(sum count_i / s_i^2)^(-1/2)``.
"""

from __future__ import annotations

import math
from collections import Counter

from dpgraph.errors import DPGraphError
from dpgraph.privacy.events import (
    ComposedEvent,
    GaussianEvent,
    PoissonSampledEvent,
    PrivacyEvent,
    SampledWithoutReplacementEvent,
    SelfComposedEvent,
    SubgraphSampledGaussianEvent,
)

SampledGaussians = Counter[tuple[float, float]]  # {(noise_multiplier, sampling_probability): count}


def leaf_counts(event: PrivacyEvent, times: int = 1) -> Counter[PrivacyEvent]:
    """``{leaf: count}`` of ``event``: compositions flattened, self-compositions multiplied, and the wrappers that keep
    every unit (``q = 1``, ``m = n``) replaced by their inner event; any other event (a subsampled one included) is a
    leaf."""
    if isinstance(event, SelfComposedEvent):
        return leaf_counts(event.event, times * event.count)
    if isinstance(event, ComposedEvent):
        total: Counter[PrivacyEvent] = Counter()
        for inner in event.events:
            total += leaf_counts(inner, times)
        return total
    if isinstance(event, PoissonSampledEvent) and event.sampling_probability == 1.0:
        return leaf_counts(event.event, times)
    if isinstance(event, SampledWithoutReplacementEvent) and event.sample_size == event.source_size:
        return leaf_counts(event.event, times)
    if isinstance(event, SubgraphSampledGaussianEvent) and keeps_every_subgraph(event):
        return Counter({GaussianEvent(event.noise_multiplier / (2 * event.occurrences)): times})
    return Counter({event: times})


def keeps_every_subgraph(event: SubgraphSampledGaussianEvent) -> bool:
    """Whether every step's batch is all N subgraphs (Poisson ``q = 1`` or fixed ``B = N``)."""
    return event.sampling_probability == 1.0 or event.batch_size == event.num_subgraphs


def sampled_gaussian(leaf: PrivacyEvent) -> tuple[float, float] | None:
    """``(noise_multiplier, sampling_probability)`` of a leaf that is a (Poisson-subsampled) Gaussian, else None."""
    if isinstance(leaf, GaussianEvent):
        return leaf.noise_multiplier, 1.0
    if isinstance(leaf, PoissonSampledEvent) and isinstance(leaf.event, GaussianEvent):
        return leaf.event.noise_multiplier, leaf.sampling_probability
    return None


def sampled_gaussian_counts(event: PrivacyEvent) -> SampledGaussians | None:
    """``{(noise_multiplier, sampling_probability): count}`` of ``event``, or None if it has no such form."""
    total: SampledGaussians = Counter()
    for leaf, count in leaf_counts(event).items():
        key = sampled_gaussian(leaf)
        if key is None:
            return None
        total[key] += count
    return total


def require_sampled_gaussians(event: PrivacyEvent, accountant: str) -> SampledGaussians:
    """``sampled_gaussian_counts(event)``, or a DPGraphError naming ``accountant`` if it has no such form."""
    counts = sampled_gaussian_counts(event)
    if counts is None:
        raise DPGraphError(
            f"the {accountant} accountant only handles (Poisson-subsampled) Gaussian events, not sampling without "
            "replacement, K-occurrence subgraph steps, drawn Gaussians or subsampled compositions; use accountant "
            "'rdp' (or 'auto', which picks the tightest that applies)"
        )
    return counts


def is_plain_gaussian(counts: SampledGaussians) -> bool:
    """Whether every entry is unsampled (``q = 1``)."""
    return all(q == 1.0 for _, q in counts)


def combined_noise_multiplier(counts: SampledGaussians) -> float:
    """The one Gaussian multiplier ``(sum count / s^2)^(-1/2)`` of the plain Gaussians in ``counts`` (inf if none)."""
    precision = math.fsum(count / sigma**2 for (sigma, q), count in counts.items() if q == 1.0)
    return math.inf if precision == 0 else 1 / math.sqrt(precision)
