"""Shared test helpers: DP-SGD events and an independent (dp_accounting) RDP reference for Gaussian releases."""

from __future__ import annotations

from collections.abc import Sequence

import dp_accounting

from dpgraph.privacy import RDP_ORDERS, GaussianEvent, PoissonSampledEvent, SelfComposedEvent


def dp_sgd(sigma: float, q: float, steps: int) -> SelfComposedEvent:
    """`steps` Poisson-subsampled Gaussian steps."""
    return SelfComposedEvent(PoissonSampledEvent(q, GaussianEvent(sigma)), steps)


def dp_accounting_gaussians_epsilon(sigmas: Sequence[float], delta: float) -> float:
    """Epsilon of composed Gaussian releases by dp_accounting's RdpAccountant on the same orders."""
    accountant = dp_accounting.rdp.RdpAccountant(list(RDP_ORDERS))
    accountant.compose(dp_accounting.ComposedDpEvent([dp_accounting.GaussianDpEvent(s) for s in sigmas]))
    return accountant.get_epsilon(delta)
