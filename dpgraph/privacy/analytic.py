"""Exact epsilon of a composition of plain Gaussian mechanisms (the analytic Gaussian, Balle & Wang 2018).

The composition is one Gaussian of multiplier ``s`` (:mod:`dpgraph.privacy.gaussians`), which is (eps, delta)-DP
exactly when ``delta >= Phi(-eps s + 1/(2s)) - e^eps Phi(-eps s - 1/(2s))`` (Theorem 8). dp_accounting's
``get_epsilon_gaussian`` solves this for eps; the root finder's tolerance is added, so the result is never below
the exact value. A composition that also holds drawn Gaussians of one ``(q, s)``
(:class:`~dpgraph.privacy.drawn_gaussian.DrawnGaussianEvent`) is a binomial mixture of such Gaussians, solved
exactly by :func:`~dpgraph.privacy.drawn_gaussian.drawn_gaussian_epsilon`.
"""

from __future__ import annotations

import math

from dp_accounting import get_epsilon_gaussian

from dpgraph.errors import DPGraphError
from dpgraph.privacy.accountants import ACCOUNTANTS
from dpgraph.privacy.drawn_gaussian import drawn_gaussian_composition, drawn_gaussian_epsilon
from dpgraph.privacy.events import PrivacyEvent
from dpgraph.privacy.gaussians import combined_noise_multiplier, is_plain_gaussian, sampled_gaussian_counts

ROOT_TOLERANCE = 1e-12


@ACCOUNTANTS.register("analytic-gaussian")
def analytic_gaussian_epsilon(event: PrivacyEvent, delta: float) -> float:
    """Exact epsilon at ``delta`` of ``event``, a composition of plain Gaussians and drawn Gaussians of at most one
    ``(q, s)`` (DPGraphError otherwise)."""
    drawn = drawn_gaussian_composition(event)
    if drawn is not None:
        return drawn_gaussian_epsilon(drawn, delta)
    counts = sampled_gaussian_counts(event)
    if counts is None or not is_plain_gaussian(counts):
        raise DPGraphError(
            "the analytic-gaussian accountant only handles compositions of drawn Gaussians of one draw probability "
            "and noise multiplier and plain Gaussian events; use accountant 'auto'"
        )
    sigma = combined_noise_multiplier(counts)
    if math.isinf(sigma):
        return 0.0
    eps = float(get_epsilon_gaussian(sigma, delta, tol=ROOT_TOLERANCE))
    return eps + 2 * ROOT_TOLERANCE * (1 + eps) if eps > 0 else 0.0
