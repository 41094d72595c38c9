"""The root search every exact accountant ends with: the least epsilon whose delta meets the target."""

from __future__ import annotations

from collections.abc import Callable

from scipy.optimize import brentq

ROOT_TOLERANCE = 1e-12


def least_epsilon(excess: Callable[[float], float]) -> float:
    """The least ``eps >= 0`` with ``excess(eps) <= 0`` for a non-increasing ``excess`` (Brent's method to
    ``ROOT_TOLERANCE``, then moved up until it holds, then rounded up)."""
    if excess(0.0) <= 0:
        return 0.0
    hi = 1.0
    while excess(hi) > 0:
        hi *= 2
    eps = brentq(excess, hi / 2 if hi > 1 else 0.0, hi, xtol=ROOT_TOLERANCE)
    while excess(eps) > 0:
        eps += ROOT_TOLERANCE * (1 + eps)
    return eps + ROOT_TOLERANCE * (1 + eps)
