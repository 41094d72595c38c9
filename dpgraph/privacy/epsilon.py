"""``compute_epsilon``: the single entry point that turns an event into epsilon at a given delta.

``accountant="auto"`` (the default) takes the tightest method that applies: the exact analytic Gaussian if the
whole composition is plain Gaussians, possibly with drawn Gaussians of one ``(q, s)`` (an exact binomial mixture,
:mod:`dpgraph.privacy.drawn_gaussian`), else PLD if every event is a (Poisson-subsampled) Gaussian and its PLD is
of bounded size, else RDP. ``accounting_method`` names the method so chosen.
"""

from __future__ import annotations

from dpgraph.privacy import analytic, prv, rdp  # noqa: F401  (registration of the accountants)
from dpgraph.privacy.accountants import ACCOUNTANTS
from dpgraph.privacy.drawn_gaussian import drawn_gaussian_composition
from dpgraph.privacy.events import PrivacyEvent, check_event
from dpgraph.privacy.gaussians import is_plain_gaussian, sampled_gaussian_counts
from dpgraph.privacy.pld import MAX_POINTS, pld_points
from dpgraph.privacy.validation import check_accountant, check_delta


def accounting_method(event: PrivacyEvent, accountant: str = "auto") -> str:
    """The method ``compute_epsilon(event, delta, accountant)`` uses: ``accountant`` itself unless ``auto``."""
    check_event(event, "event")
    if check_accountant(accountant) != "auto":
        return accountant
    counts = sampled_gaussian_counts(event)
    if counts is None:
        return "analytic-gaussian" if drawn_gaussian_composition(event) is not None else "rdp"
    if is_plain_gaussian(counts):
        return "analytic-gaussian"
    return "pld" if pld_points(counts) <= MAX_POINTS else "rdp"


def compute_epsilon(event: PrivacyEvent, delta: float, accountant: str = "auto") -> float:
    """Epsilon such that ``event`` is (epsilon, delta)-DP: an upper bound, never below the truth.

    ``rdp`` handles every event; ``analytic-gaussian`` (exact) only compositions of plain Gaussians (and drawn
    Gaussians of one ``(q, s)``); ``pld`` and ``prv`` (numerically tight) only (Poisson-subsampled) Gaussians. An
    explicit method that does not apply raises DPGraphError naming one that does.
    """
    method = accounting_method(event, accountant)
    return ACCOUNTANTS.get(method)(event, check_delta(delta))
