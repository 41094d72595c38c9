"""``noise_multiplier_for``: the smallest noise multiplier (found by bisection) that meets an epsilon target.

Epsilon is non-increasing in the noise multiplier for every event family here. A bracket ``lo < hi`` with
``epsilon(lo) > target >= epsilon(hi)`` is grown from a start value: from 1 by factors of 2 for ``rdp``; for every
other accountant (usually tighter, so needing at most the rdp noise, and slower) from the cheap ``rdp`` answer by
factors of ``WARM_FACTOR``. It is then bisected on ``log(sigma)`` until ``epsilon(hi) >= (1 - TOLERANCE) * target``,
each split where the line through the two evaluated points nearest the aim ``(1 - TOLERANCE / 2) * target``, in
``(log sigma, log epsilon)``, meets it (epsilon is close to a power of sigma), kept at least ``SPLIT_MARGIN`` of
the bracket's log-width, or ``MIN_STEP`` in log sigma if less, away from its ends, so that the bracket shrinks.
Only a sigma whose epsilon was evaluated at most ``target`` is returned, so the result never overshoots the target.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from dpgraph.errors import DPGraphError
from dpgraph.privacy.epsilon import accounting_method, compute_epsilon
from dpgraph.privacy.events import ComposedEvent, PrivacyEvent
from dpgraph.privacy.validation import check_accountant, check_delta, check_positive

TOLERANCE = 0.01
WARM_FACTOR = 1.25
SPLIT_MARGIN = 0.1
MIN_STEP = TOLERANCE / 8
SIGMA_MIN = 1e-3
SIGMA_MAX = 1e6
MAX_BISECTIONS = 100


def _bracket(
    epsilon: Callable[[float], float], target: float, start: float, factor: float
) -> tuple[float, float]:
    """``(lo, hi)`` with ``epsilon(lo) > target >= epsilon(hi)`` and ``hi = factor * lo``."""
    sigma, fits = start, epsilon(start) <= target
    while True:
        nxt = sigma / factor if fits else sigma * factor
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


def _split(lo: float, hi: float, seen: dict[float, float], aim: float) -> float:
    """The sigma in ``(lo, hi)`` where the line through the two ``seen`` points (sigma: epsilon) nearest ``aim``,
    in log-log, reaches ``aim``; the midpoint if there is no such line."""
    near = sorted((abs(math.log(eps / aim)), sigma, eps) for sigma, eps in seen.items() if 0 < eps < math.inf)
    width = math.log(hi / lo)
    t = 0.5
    if len(near) >= 2 and near[0][2] != near[1][2]:
        (_, s1, e1), (_, s2, e2) = near[:2]
        log_sigma = math.log(s1) + math.log(aim / e1) * math.log(s2 / s1) / math.log(e2 / e1)
        t = (log_sigma - math.log(lo)) / width
    edge = min(SPLIT_MARGIN, MIN_STEP / width, 0.5)
    return lo * math.exp(width * min(max(t, edge), 1 - edge))


def noise_multiplier_for(
    target_epsilon: float,
    delta: float,
    make_event: Callable[[float], PrivacyEvent],
    accountant: str = "auto",
    prior: Sequence[PrivacyEvent] = (),
) -> float:
    """Smallest-found sigma with ``epsilon(prior + [make_event(sigma)]) <= target``, within 1% of target."""
    target = check_positive(target_epsilon, "target_epsilon")
    delta = check_delta(delta)
    accountant = check_accountant(accountant)
    prior = tuple(prior)
    if prior:
        # the whole composition may need a looser method than the earlier stages alone were calibrated with
        method = accounting_method(ComposedEvent((*prior, make_event(1.0))), accountant)
        spent = compute_epsilon(ComposedEvent(prior), delta, method)
        if spent >= target:
            raise DPGraphError(
                f"earlier stages already spend epsilon {spent:.4g} >= target {target:.4g} under the {method} "
                "accountant that the composition with this stage needs; raise the budget or give this stage a "
                "larger share"
            )

    seen: dict[float, float] = {}  # bracketing and bisection revisit sigmas

    def epsilon(sigma: float) -> float:
        if sigma not in seen:
            seen[sigma] = compute_epsilon(ComposedEvent((*prior, make_event(sigma))), delta, accountant)
        return seen[sigma]

    start, factor = 1.0, 2.0
    if accountant != "rdp":  # the rdp answer is a close, cheap start that keeps slower accountants off extreme sigmas
        try:
            start, factor = noise_multiplier_for(target, delta, make_event, "rdp", prior), WARM_FACTOR
        except DPGraphError:
            pass
    if (1 - TOLERANCE) * target <= epsilon(start) <= target:
        return start
    lo, hi = _bracket(epsilon, target, start, factor)
    for _ in range(MAX_BISECTIONS):
        if epsilon(hi) >= (1 - TOLERANCE) * target:
            break
        mid = _split(lo, hi, seen, (1 - TOLERANCE / 2) * target)
        if epsilon(mid) > target:
            lo = mid
        else:
            hi = mid
    return hi
