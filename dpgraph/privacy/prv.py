"""PRV accountant (Gopi, Lee, Wutschitz 2021): numerically tight epsilon via opacus' ``PRVAccountant``.

Supports compositions of Poisson-subsampled Gaussians and plain Gaussians (:mod:`dpgraph.privacy.gaussians`; a
plain Gaussian is the sampled Gaussian with q = 1). The result is the accountant's certified upper bound, i.e. the
estimate plus ``EPS_ERROR``, computed with ``delta_error = delta / 1000`` (so below epsilon ~0.05 ``rdp`` can be
tighter). Settings whose discretisation grid would exceed ``MAX_GRID_POINTS`` (huge epsilon, or ~10^5+ steps) are
refused rather than allowed to exhaust memory.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from opacus.accountants import PRVAccountant

from dpgraph.errors import DPGraphError
from dpgraph.privacy.events import GaussianEvent, PoissonSampledEvent, PrivacyEvent
from dpgraph.privacy.gaussians import SampledGaussians, require_sampled_gaussians
from dpgraph.privacy.rdp import rdp_curve, rdp_to_epsilon

EPS_ERROR = 0.01
MAX_GRID_POINTS = 10_000_000  # ~2 GB of working memory in opacus' discretisation


def grid_points(counts: SampledGaussians, delta_error: float) -> float:
    """Size of the grid opacus will discretise on: ``2 L / mesh``, with the domain half-width ``L`` and the
    mesh of ``PRVAccountant._get_domain`` (L from RDP bounds, here on ``RDP_ORDERS``)."""
    total = sum(counts.values())
    curves = {key: rdp_curve(PoissonSampledEvent(key[1], GaussianEvent(key[0]))) for key in counts}
    half_width = (
        max(
            rdp_to_epsilon(sum(count * curves[key] for key, count in counts.items()), delta_error / 4),
            *(rdp_to_epsilon(curve, delta_error / (8 * total)) for curve in curves.values()),
            EPS_ERROR,
        )
        + 3
    )
    mesh = EPS_ERROR / math.sqrt(total * math.log(12 / delta_error) / 2)
    return 2 * half_width / mesh


def prv_epsilon(event: PrivacyEvent, delta: float) -> float:
    """Upper bound on epsilon at ``delta`` for ``event`` by numerical PRV composition."""
    counts = require_sampled_gaussians(event, "prv")
    if not counts:
        return 0.0
    points = grid_points(counts, delta / 1000)
    if points > MAX_GRID_POINTS:
        raise DPGraphError(
            f"the prv accountant would need a grid of {points:.2g} points for this (very large) epsilon; "
            "use accountant 'rdp'"
        )
    accountant = PRVAccountant()
    accountant.history = [(sigma, q, count) for (sigma, q), count in counts.items()]
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():  # log(1 - q) = -inf at q = 1 is expected
            warnings.simplefilter("ignore")
            eps = float(accountant.get_epsilon(delta, eps_error=EPS_ERROR, delta_error=delta / 1000))
    except (ValueError, RuntimeError, OverflowError) as err:
        raise DPGraphError(f"the prv accountant failed numerically ({err}); use accountant 'rdp'") from None
    if np.isnan(eps):
        raise DPGraphError("the prv accountant returned NaN for these parameters; use accountant 'rdp'")
    return max(0.0, eps)
