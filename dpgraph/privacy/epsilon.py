"""``compute_epsilon``: the single entry point that turns an event into epsilon at a given delta.

``accountant="auto"`` (the default) takes the tightest method that applies: the exact analytic Gaussian if the
whole composition is plain Gaussians, possibly with drawn Gaussians of one ``(q, s)`` (an exact binomial mixture,
:mod:`dpgraph.privacy.drawn_gaussian`) or with pure-DP events whose summed losses take at most ``MAX_SUPPORT``
values (:mod:`dpgraph.privacy.analytic`), else PLD if every event is a (Poisson-subsampled) Gaussian, an unsampled
pure-DP event or a Poisson K-occurrence step with K = 1 (replace-one, :mod:`dpgraph.privacy.pld`) and its PLD is of
bounded size, else RDP. ``accounting_method`` names the method so chosen.
"""

from __future__ import annotations

from dpgraph.privacy import prv, rdp  # noqa: F401  (registration of the accountants)
from dpgraph.privacy.accountants import ACCOUNTANTS
from dpgraph.privacy.analytic import MAX_SUPPORT, loss_support
from dpgraph.privacy.drawn_gaussian import drawn_gaussian_composition
from dpgraph.privacy.events import PrivacyEvent, check_event
from dpgraph.privacy.gaussians import is_plain_gaussian
from dpgraph.privacy.pld import MAX_POINTS, pld_points, replace_one_steps
from dpgraph.privacy.pure import pure_and_gaussians
from dpgraph.privacy.validation import check_accountant, check_delta


def accounting_method(event: PrivacyEvent, accountant: str = "auto") -> str:
    """The method ``compute_epsilon(event, delta, accountant)`` uses: ``accountant`` itself unless ``auto``."""
    check_event(event, "event")
    if check_accountant(accountant) != "auto":
        return accountant
    if drawn_gaussian_composition(event) is not None:
        return "analytic-gaussian"
    replace_one, rest = replace_one_steps(event)
    split = pure_and_gaussians(rest)
    if split is None:
        return "rdp"
    pure, counts = split
    if not replace_one and is_plain_gaussian(counts) and loss_support(pure.items()) <= MAX_SUPPORT:
        return "analytic-gaussian"
    return "pld" if pld_points(counts, pure, replace_one) <= MAX_POINTS else "rdp"


def compute_epsilon(event: PrivacyEvent, delta: float, accountant: str = "auto") -> float:
    """Epsilon such that ``event`` is (epsilon, delta)-DP: an upper bound, never below the truth.

    ``rdp`` handles every event; ``analytic-gaussian`` (exact) only compositions of plain Gaussians (with pure-DP
    events or drawn Gaussians of one ``(q, s)``); ``pld`` (numerically tight) only (Poisson-subsampled) Gaussians and
    unsampled pure-DP events; ``prv`` only (Poisson-subsampled) Gaussians. An explicit method that does not apply
    raises DPGraphError naming one that does.
    """
    method = accounting_method(event, accountant)
    return ACCOUNTANTS.get(method)(event, check_delta(delta))
