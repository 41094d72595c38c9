"""RDP accountant: an event's Renyi-DP curve on ``RDP_ORDERS`` and its conversion to (epsilon, delta).

Curves of compositions add (Mironov 2017). Gaussian and Poisson-subsampled Gaussian curves come from opacus'
``compute_rdp`` (Mironov, Talwar, Zhang 2019); the conversion is opacus' ``get_privacy_spent`` (Balle et al.
2020, Theorem 21): ``eps = min_a rdp(a) + log((a-1)/a) - (log delta + log a) / (a - 1)``, floored at 0.

``RDP_ORDERS`` = opacus' ``DEFAULT_ALPHAS`` (1.1 .. 10.9 by 0.1, then 12 .. 63) plus 11 and a geometric tail
up to 1024, so that small-epsilon / large-noise settings (optimal order > 63) are not needlessly loose.
1024 is the largest order opacus' integer-order formula evaluates without overflowing ``binom(a, a/2)``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence

import numpy as np
from opacus.accountants import RDPAccountant
from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent

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
from dpgraph.privacy.k_occurrence import subgraph_gaussian_rdp
from dpgraph.privacy.sampling_wor import wor_gaussian_rdp

RDP_ORDERS: tuple[float, ...] = tuple(
    sorted({*RDPAccountant.DEFAULT_ALPHAS, 11, 64, 80, 96, 128, 160, 192, 256, 384, 512, 768, 1024})
)


def _gaussian_inner(event: PrivacyEvent, wrapper: str) -> GaussianEvent:
    if not isinstance(event, GaussianEvent):
        raise DPGraphError(
            f"{wrapper} of a {type(event).__name__} is not supported; only a GaussianEvent may be subsampled"
        )
    return event


@functools.lru_cache(maxsize=1024)
def rdp_curve(event: PrivacyEvent) -> np.ndarray:
    """RDP of ``event`` at each of ``RDP_ORDERS`` (read-only array; cached per event)."""
    if isinstance(event, GaussianEvent):
        curve = compute_rdp(q=1.0, noise_multiplier=event.noise_multiplier, steps=1, orders=list(RDP_ORDERS))
    elif isinstance(event, PoissonSampledEvent):
        if event.sampling_probability == 1.0:
            curve = rdp_curve(event.event)
        else:
            sigma = _gaussian_inner(event.event, "Poisson subsampling").noise_multiplier
            curve = compute_rdp(
                q=event.sampling_probability, noise_multiplier=sigma, steps=1, orders=list(RDP_ORDERS)
            )
    elif isinstance(event, SampledWithoutReplacementEvent):
        if event.sample_size == event.source_size:
            curve = rdp_curve(event.event)
        else:
            sigma = _gaussian_inner(event.event, "Sampling without replacement").noise_multiplier
            curve = wor_gaussian_rdp(event.sample_size / event.source_size, sigma, RDP_ORDERS)
    elif isinstance(event, SelfComposedEvent):
        curve = event.count * rdp_curve(event.event)
    elif isinstance(event, ComposedEvent):
        curve = sum((rdp_curve(e) for e in event.events), np.zeros(len(RDP_ORDERS)))
    elif isinstance(event, SubgraphSampledGaussianEvent):
        curve = subgraph_gaussian_rdp(event, RDP_ORDERS)
    else:
        raise DPGraphError(f"no RDP analysis for {type(event).__name__}; use a dpgraph.privacy event")
    curve = np.array(curve, dtype=float)
    curve.flags.writeable = False
    return curve


def rdp_to_epsilon(curve: Sequence[float], delta: float) -> float:
    """Smallest epsilon over ``RDP_ORDERS`` such that the RDP curve implies (epsilon, delta)-DP."""
    curve = np.asarray(curve, dtype=float)
    if not curve.any():
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "optimal order is the largest/smallest alpha": still a valid bound
        eps, _ = get_privacy_spent(orders=list(RDP_ORDERS), rdp=curve, delta=delta)
    return float("inf") if np.isnan(eps) else max(0.0, float(eps))
