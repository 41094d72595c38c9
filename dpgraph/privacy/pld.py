"""PLD accountant: dp_accounting's ``PLDAccountant`` (privacy loss distributions composed by FFT, connect-the-dots
discretisation, Doroshenko et al. 2022) on (Poisson-)subsampled Gaussians under add/remove neighbours, the relation
of ``PoissonSampledEvent``.

The event is flattened (:mod:`dpgraph.privacy.gaussians`): its plain Gaussians become one exact Gaussian, each
``(sigma, q)`` group one ``SelfComposedDpEvent(PoissonSampledDpEvent(q, GaussianDpEvent(sigma)), count)``.
dp_accounting builds every PLD with ``pessimistic_estimate=True`` (its default): the discretised PLD dominates the
exact one and truncated upper tails go to the infinite-loss mass, so the epsilon is an upper bound.

Work and memory grow with the number of discretisation points: about ``(1 + 20 s) / s^2`` loss units for one
Gaussian of multiplier ``s`` (its tails cut at mass e^-50) and, after composition, twice the epsilon at the tail
mass ``TAIL_MASS`` (bounded by RDP at the integer orders of ``RDP_ORDERS``, which opacus evaluates fast), divided by
``VALUE_DISCRETIZATION``. Settings estimated above ``MAX_POINTS`` (tiny noise, huge epsilon) are refused.
"""

from __future__ import annotations

import functools
import math

import dp_accounting as dpa
from dp_accounting.pld import PLDAccountant
from dp_accounting.rdp import compute_epsilon
from opacus.accountants.analysis.rdp import compute_rdp

from dpgraph.errors import DPGraphError
from dpgraph.privacy.accountants import ACCOUNTANTS
from dpgraph.privacy.events import PrivacyEvent
from dpgraph.privacy.gaussians import SampledGaussians, combined_noise_multiplier, require_sampled_gaussians
from dpgraph.privacy.rdp import RDP_ORDERS

VALUE_DISCRETIZATION = 1e-4  # dp_accounting's default
TAIL_MASS = 1e-15  # dp_accounting's tail truncation in self-composition
MAX_POINTS = 2_000_000
TAIL_ORDERS = [a for a in RDP_ORDERS if a == int(a)]


def _groups(counts: SampledGaussians) -> tuple[tuple[float, float, int], ...]:
    """``(sigma, q, count)`` per PLD to build: the plain Gaussians merged (``q = 1``), then each sampled group."""
    sigma = combined_noise_multiplier(counts)
    plain = () if math.isinf(sigma) else ((sigma, 1.0, 1),)
    return plain + tuple(sorted((s, q, n) for (s, q), n in counts.items() if q < 1.0))


def pld_points(counts: SampledGaussians) -> float:
    """Estimated number of discretisation points of the composed PLD (see the module docstring)."""
    groups = _groups(counts)
    if not groups:
        return 0.0
    single = sum((1 + 20 * sigma) / sigma**2 for sigma, _, _ in groups)
    curve = sum(compute_rdp(q=q, noise_multiplier=sigma, steps=n, orders=TAIL_ORDERS) for sigma, q, n in groups)
    tail, _ = compute_epsilon(TAIL_ORDERS, curve, TAIL_MASS)
    return max(single, 2 * tail) / VALUE_DISCRETIZATION


@functools.lru_cache(maxsize=256)
def _epsilon(groups: tuple[tuple[float, float, int], ...], delta: float) -> float:
    accountant = PLDAccountant(dpa.NeighboringRelation.ADD_OR_REMOVE_ONE, VALUE_DISCRETIZATION)
    for sigma, q, count in groups:
        step = dpa.GaussianDpEvent(sigma) if q == 1.0 else dpa.PoissonSampledDpEvent(q, dpa.GaussianDpEvent(sigma))
        accountant.compose(step, count)
    return max(0.0, float(accountant.get_epsilon(delta)))


@ACCOUNTANTS.register("pld")
def pld_epsilon(event: PrivacyEvent, delta: float) -> float:
    """Upper bound on epsilon at ``delta`` for ``event`` by PLD composition (cached per flattened event)."""
    counts = require_sampled_gaussians(event, "pld")
    points = pld_points(counts)
    if points > MAX_POINTS:
        raise DPGraphError(
            f"the pld accountant would need about {points:.2g} points for this (tiny-noise or very large epsilon) "
            "setting; use accountant 'rdp'"
        )
    return _epsilon(_groups(counts), delta)
