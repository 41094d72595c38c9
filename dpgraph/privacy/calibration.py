"""``noise_multiplier_for``: the smallest noise multiplier (found by bisection) that meets an epsilon target.

Epsilon is non-increasing in the noise multiplier for every event family here. A bracket ``lo < hi`` with
``epsilon(lo) > target >= epsilon(hi)`` is grown by factors of 2 from a start value (1, or for ``prv`` the
cheaper ``rdp`` answer), then bisected on ``log(sigma)`` until ``epsilon(hi) >= (1 - TOLERANCE) * target``.
Only ``hi`` is returned, so the result never overshoots the target.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from dpgraph.errors import DPGraphError
from dpgraph.privacy.epsilon import compute_epsilon
from dpgraph.privacy.events import ComposedEvent, PrivacyEvent
from dpgraph.privacy.validation import check_accountant, check_delta, check_positive

TOLERANCE = 0.01
SIGMA_MIN = 1e-3
SIGMA_MAX = 1e6
MAX_BISECTIONS = 100


def _bracket(epsilon: Callable[[float], float], target: float, start: float) -> tuple[float, float]:
    """``(lo, hi)`` with ``epsilon(lo) > target >= epsilon(hi)`` and ``hi = 2 lo``."""
    sigma, fits = start, epsilon(start) <= target
    while True:
        nxt = sigma / 2 if fits else sigma * 2
        if nxt < SIGMA_MIN:
            raise DPGraphError(
                f"target epsilon {target:.4g} is met even with noise multiplier {SIGMA_MIN:g} "
                "(no real privacy); lower the target epsilon"
            )
        if nxt > SIGMA_MAX:
            raise DPGraphError(
                f"target epsilon {target:.4g} is out of reach even with noise multiplier {SIGMA_MAX:g}; "
                "raise the budget or give this stage a larger share"
            )
        if (epsilon(nxt) <= target) != fits:
            return (nxt, sigma) if fits else (sigma, nxt)
        sigma = nxt


def noise_multiplier_for(
    target_epsilon: float,
    delta: float,
    make_event: Callable[[float], PrivacyEvent],
    accountant: str = "rdp",
    prior: Sequence[PrivacyEvent] = (),
) -> float:
    """Smallest-found sigma with ``epsilon(prior + [make_event(sigma)]) <= target``, within 1% of target."""
    target = check_positive(target_epsilon, "target_epsilon")
    delta = check_delta(delta)
    accountant = check_accountant(accountant)
    prior = tuple(prior)
    if prior:
        spent = compute_epsilon(ComposedEvent(prior), delta, accountant)
        if spent >= target:
            raise DPGraphError(
                f"earlier stages already spend epsilon {spent:.4g} >= target {target:.4g}; "
                "raise the budget or give this stage a larger share"
            )

    def epsilon(sigma: float) -> float:
        return compute_epsilon(ComposedEvent((*prior, make_event(sigma))), delta, accountant)

    start = 1.0
    if accountant == "prv":  # the rdp answer is a close, cheap start that keeps prv off extreme sigmas
        try:
            start = noise_multiplier_for(target, delta, make_event, "rdp", prior)
        except DPGraphError:
            pass
    lo, hi = _bracket(epsilon, target, start)
    for _ in range(MAX_BISECTIONS):
        mid = math.sqrt(lo * hi)
        eps_mid = epsilon(mid)
        if eps_mid > target:
            lo = mid
            continue
        hi = mid
        if eps_mid >= (1 - TOLERANCE) * target:
            break
    return hi
