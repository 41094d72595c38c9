"""Privacy-accounting core: events, accountants (analytic Gaussian, PLD, PRV, RDP; ``auto`` picks the tightest that
applies), calibration, the budget (the one spend path), the noisy-sum primitive, the exponential mechanism (a pure-DP
event), the ledger, and the bridge from opacus' accountant history.

Every DP stage of dpgraph spends through a ``Budget``, which records its event in one ``PrivacyLedger``; the run's
epsilon comes only from ``compute_epsilon`` on those events.
"""

from dpgraph.privacy.accountants import ACCOUNTANTS
from dpgraph.privacy.budget import split_targets
from dpgraph.privacy.calibration import noise_multiplier_for
from dpgraph.privacy.dpsgd import dpsgd_event_factory
from dpgraph.privacy.drawn_gaussian import DrawnGaussianEvent
from dpgraph.privacy.epsilon import accounting_method, compute_epsilon
from dpgraph.privacy.events import (
    ComposedEvent,
    GaussianEvent,
    PoissonSampledEvent,
    PrivacyEvent,
    SampledWithoutReplacementEvent,
    SelfComposedEvent,
    SubgraphSampledGaussianEvent,
    event_from_dict,
)
from dpgraph.privacy.exponential import exponential_mechanism
from dpgraph.privacy.ledger import PrivacyLedger
from dpgraph.privacy.opacus_bridge import event_from_opacus
from dpgraph.privacy.pure import PureDPEvent
from dpgraph.privacy.rdp import RDP_ORDERS
from dpgraph.privacy.spend import Budget, Spend
from dpgraph.privacy.validation import ACCOUNTANT_CHOICES

__all__ = [
    "ACCOUNTANTS",
    "ACCOUNTANT_CHOICES",
    "Budget",
    "Spend",
    "RDP_ORDERS",
    "ComposedEvent",
    "DrawnGaussianEvent",
    "GaussianEvent",
    "PoissonSampledEvent",
    "PrivacyEvent",
    "PrivacyLedger",
    "PureDPEvent",
    "SampledWithoutReplacementEvent",
    "SelfComposedEvent",
    "SubgraphSampledGaussianEvent",
    "accounting_method",
    "compute_epsilon",
    "dpsgd_event_factory",
    "event_from_opacus",
    "event_from_dict",
    "exponential_mechanism",
    "noise_multiplier_for",
    "split_targets",
]
