"""``compute_epsilon``: the single entry point that turns an event into epsilon at a given delta."""

from __future__ import annotations

from dpgraph.privacy.events import PrivacyEvent, check_event
from dpgraph.privacy.prv import prv_epsilon
from dpgraph.privacy.rdp import rdp_curve, rdp_to_epsilon
from dpgraph.privacy.validation import check_accountant, check_delta


def compute_epsilon(event: PrivacyEvent, delta: float, accountant: str = "rdp") -> float:
    """Epsilon such that ``event`` is (epsilon, delta)-DP: an upper bound, never below the truth.

    ``accountant="rdp"`` handles every event; ``"prv"`` (tighter) only (Poisson-subsampled) Gaussians and
    raises DPGraphError suggesting ``rdp`` otherwise.
    """
    check_event(event, "event")
    delta = check_delta(delta)
    if check_accountant(accountant) == "prv":
        return prv_epsilon(event, delta)
    return rdp_to_epsilon(rdp_curve(event), delta)
