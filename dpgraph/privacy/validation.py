"""Parameter checks shared by the privacy core; each failure is a one-line DPGraphError naming the fix."""

from __future__ import annotations

import math
from numbers import Integral, Real

from dpgraph.errors import DPGraphError

ACCOUNTANT_CHOICES = ("auto", "analytic-gaussian", "pld", "prv", "rdp")


def check_positive(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) or value <= 0:
        raise DPGraphError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_probability(value: object, name: str) -> float:
    """Return ``value`` as a float if it lies in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value <= 1:
        raise DPGraphError(f"{name} must be in (0, 1], got {value!r}")
    return float(value)


def check_delta(value: object) -> float:
    """Return delta as a float if it lies in the open interval (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < 1:
        raise DPGraphError(f"delta must be in (0, 1), e.g. 1e-5 or 1/(10 * number of nodes); got {value!r}")
    return float(value)


def check_count(value: object, name: str) -> int:
    """Return ``value`` as an int if it is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise DPGraphError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_accountant(value: object) -> str:
    """Return the accountant name if it is one of ``ACCOUNTANT_CHOICES``: ``auto`` and the names registered in
    ``ACCOUNTANTS``, listed here without importing them (the CLI and the config schema list them too)."""
    if value not in ACCOUNTANT_CHOICES:
        raise DPGraphError(f"accountant must be one of {', '.join(ACCOUNTANT_CHOICES)}, got {value!r}")
    return str(value)
