"""RDP accountant: an event's Renyi-DP curve on ``RDP_ORDERS`` and its conversion to (epsilon, delta).

Curves of compositions add (Mironov 2017). Gaussian and Poisson-subsampled Gaussian curves come from opacus'
``compute_rdp`` (Mironov, Talwar, Zhang 2019), K-occurrence subgraph steps from :mod:`dpgraph.privacy.k_occurrence`,
drawn Gaussians from :mod:`dpgraph.privacy.drawn_gaussian` and pure-DP events from :mod:`dpgraph.privacy.pure`
(closed forms; a pure event is not subsampled);
the conversion is dp_accounting's ``compute_epsilon`` (Balle et al. 2020, Theorem 21):
``eps = min_a rdp(a) + log((a-1)/a) - (log delta + log a) / (a - 1)``, floored at 0.

Sampling without replacement (replace-one neighbours) is accounted by dp_accounting's ``RdpAccountant`` with
``REPLACE_ONE`` (Wang, Balle, Kasiviswanathan 2019, Theorem 27). It exposes no public RDP curve, so such a
composition may hold Gaussians besides, but no Poisson sampling (add/remove neighbours, which that accountant
refuses under replace-one) and no K-occurrence step (its curve could not be added): both mixes are refused.

``RDP_ORDERS`` = opacus' ``DEFAULT_ALPHAS`` (1.1 .. 10.9 by 0.1, then 12 .. 63) plus 11 and a geometric tail
up to 1024, so that small-epsilon / large-noise settings (optimal order > 63) are not needlessly loose.
1024 is the largest order opacus' integer-order formula evaluates without overflowing ``binom(a, a/2)``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import dp_accounting as dpa
import numpy as np
from dp_accounting.rdp import RdpAccountant, compute_epsilon
from opacus.accountants import RDPAccountant
from opacus.accountants.analysis.rdp import compute_rdp

from dpgraph.errors import DPGraphError
from dpgraph.privacy.accountants import ACCOUNTANTS
from dpgraph.privacy.drawn_gaussian import DrawnGaussianEvent, drawn_gaussian_rdp
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
from dpgraph.privacy.pure import PureDPEvent, pure_rdp

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
    elif isinstance(event, SampledWithoutReplacementEvent) and event.sample_size == event.source_size:
        curve = rdp_curve(event.event)
    elif isinstance(event, SelfComposedEvent):
        curve = event.count * rdp_curve(event.event)
    elif isinstance(event, ComposedEvent):
        curve = sum((rdp_curve(e) for e in event.events), np.zeros(len(RDP_ORDERS)))
    elif isinstance(event, SubgraphSampledGaussianEvent):
        curve = subgraph_gaussian_rdp(event, RDP_ORDERS)
    elif isinstance(event, DrawnGaussianEvent):
        curve = drawn_gaussian_rdp(event, RDP_ORDERS)
    elif isinstance(event, PureDPEvent):
        curve = pure_rdp(event, RDP_ORDERS)
    else:
        raise DPGraphError(f"no RDP curve for {type(event).__name__}; use rdp_epsilon or a dpgraph.privacy event")
    curve = np.array(curve, dtype=float)
    curve.flags.writeable = False
    return curve


def rdp_to_epsilon(curve: Sequence[float], delta: float) -> float:
    """Smallest epsilon over ``RDP_ORDERS`` such that the RDP curve implies (epsilon, delta)-DP."""
    curve = np.asarray(curve, dtype=float)
    if not curve.any():
        return 0.0
    eps, _ = compute_epsilon(RDP_ORDERS, curve, delta)
    return float("inf") if np.isnan(eps) else max(0.0, float(eps))


def _samples_without_replacement(event: PrivacyEvent) -> bool:
    """Whether ``event`` contains a sampling without replacement of fewer than all units."""
    if isinstance(event, SampledWithoutReplacementEvent):
        return event.sample_size < event.source_size or _samples_without_replacement(event.event)
    if isinstance(event, (PoissonSampledEvent, SelfComposedEvent)):
        return _samples_without_replacement(event.event)
    if isinstance(event, ComposedEvent):
        return any(_samples_without_replacement(e) for e in event.events)
    return False


def _replace_one_event(event: PrivacyEvent) -> dpa.DpEvent:
    """``event`` as a dp_accounting event for the replace-one RDP accountant (DPGraphError for the mixes refused)."""
    if isinstance(event, GaussianEvent):
        return dpa.GaussianDpEvent(event.noise_multiplier)
    if isinstance(event, SampledWithoutReplacementEvent):
        if event.sample_size == event.source_size:
            return _replace_one_event(event.event)
        sigma = _gaussian_inner(event.event, "Sampling without replacement").noise_multiplier
        return dpa.SampledWithoutReplacementDpEvent(event.source_size, event.sample_size, dpa.GaussianDpEvent(sigma))
    if isinstance(event, PoissonSampledEvent) and event.sampling_probability == 1.0:
        return _replace_one_event(event.event)
    if isinstance(event, SelfComposedEvent):
        return dpa.SelfComposedDpEvent(_replace_one_event(event.event), event.count)
    if isinstance(event, ComposedEvent):
        return dpa.ComposedDpEvent([_replace_one_event(e) for e in event.events])
    if isinstance(event, PoissonSampledEvent):
        raise DPGraphError(
            "one composition cannot mix Poisson sampling (add/remove neighbours) with sampling without replacement "
            "(replace-one); use one sampler for the whole run"
        )
    raise DPGraphError(
        f"sampling without replacement cannot be composed with a {type(event).__name__} (no public RDP curve to "
        "add); use Poisson sampling"
    )


@ACCOUNTANTS.register("rdp")
def rdp_epsilon(event: PrivacyEvent, delta: float) -> float:
    """Epsilon at ``delta`` of ``event`` by RDP (see the module docstring)."""
    if not _samples_without_replacement(event):
        return rdp_to_epsilon(rdp_curve(event), delta)
    accountant = RdpAccountant(RDP_ORDERS, dpa.NeighboringRelation.REPLACE_ONE)
    eps = accountant.compose(_replace_one_event(event)).get_epsilon(delta)
    return float("inf") if np.isnan(eps) else max(0.0, float(eps))
