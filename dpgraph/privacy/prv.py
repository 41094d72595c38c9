"""PRV accountant (Gopi, Lee, Wutschitz 2021): numerically tight epsilon via opacus' ``PRVAccountant``.

Supports compositions of Poisson-subsampled Gaussians and plain Gaussians (:mod:`dpgraph.privacy.gaussians`; a
plain Gaussian is the sampled Gaussian with q = 1); pure-DP events are refused (opacus' PRV has no such mechanism).
The result is the accountant's certified upper bound, i.e. the estimate plus ``EPS_ERROR``, computed with
``delta_error = delta / 1000`` (so below epsilon ~0.05 ``rdp`` can be tighter). Settings whose discretisation grid
would exceed ``MAX_GRID_POINTS`` (huge epsilon, or ~10^5+ steps) are refused rather than allowed to exhaust memory.
Only opacus' public API is used.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from opacus.accountants import PRVAccountant
from opacus.accountants.analysis.prv import PoissonSubsampledGaussianPRV, compute_safe_domain_size

from dpgraph.errors import DPGraphError
from dpgraph.privacy.accountants import ACCOUNTANTS
from dpgraph.privacy.events import PrivacyEvent
from dpgraph.privacy.gaussians import SampledGaussians, require_sampled_gaussians
from dpgraph.privacy.pure import contains_pure

EPS_ERROR = 0.01
MAX_GRID_POINTS = 10_000_000  # ~2 GB of working memory in opacus' discretisation


def grid_points(counts: SampledGaussians, delta_error: float) -> float:
    """Size ``2 L / h`` of the grid opacus discretises ``counts`` on: ``L`` from opacus' public
    ``compute_safe_domain_size`` (Gopi et al., remark 5.6), ``h = EPS_ERROR / sqrt(k log(12 / delta_error) / 2)``
    for ``k`` steps in all."""
    prvs = [PoissonSubsampledGaussianPRV(q, sigma) for sigma, q in counts]
    half_width = compute_safe_domain_size(prvs, list(counts.values()), EPS_ERROR, delta_error)
    # h restates opacus' mesh (no public accessor); if opacus changed it, only this guard would drift, not epsilon
    mesh = EPS_ERROR / math.sqrt(sum(counts.values()) * math.log(12 / delta_error) / 2)
    return 2 * half_width / mesh


@ACCOUNTANTS.register("prv")
def prv_epsilon(event: PrivacyEvent, delta: float) -> float:
    """Upper bound on epsilon at ``delta`` for ``event`` by numerical PRV composition."""
    if contains_pure(event):
        raise DPGraphError("the prv accountant does not handle pure-DP events; use accountant 'analytic-gaussian' "
                           "(with plain Gaussians), 'pld' or 'rdp' (or 'auto', which picks the tightest that applies)")
    counts = require_sampled_gaussians(event, "prv")
    if not counts:
        return 0.0
    delta_error = delta / 1000
    # log(1 - q) = -inf at q = 1 and RDP order warnings at huge epsilon are expected
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        points = grid_points(counts, delta_error)
        if points > MAX_GRID_POINTS:
            raise DPGraphError(
                f"the prv accountant would need a grid of {points:.2g} points for this (very large) epsilon; "
                "use accountant 'rdp'"
            )
        accountant = PRVAccountant()
        state = accountant.state_dict()  # the checkpoint API sets all steps at once; step() would loop per step
        state["history"] = [(sigma, q, count) for (sigma, q), count in counts.items()]
        accountant.load_state_dict(state)
        try:
            eps = float(accountant.get_epsilon(delta, eps_error=EPS_ERROR, delta_error=delta_error))
        except (ValueError, RuntimeError, OverflowError) as err:
            raise DPGraphError(f"the prv accountant failed numerically ({err}); use accountant 'rdp'") from None
    if np.isnan(eps):
        raise DPGraphError("the prv accountant returned NaN for these parameters; use accountant 'rdp'")
    return max(0.0, eps)
