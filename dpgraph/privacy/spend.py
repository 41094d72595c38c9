"""``Budget``: the one path through which a run spends its privacy budget.

A stage asks ``budget.calibrate(stage, make_event)`` for the smallest noise multiplier sigma with which the run's
epsilon (events recorded so far, composed with ``make_event(sigma)``) stays within the stage's cumulative target
(:func:`~dpgraph.privacy.budget.split_targets`). It gets a :class:`Spend` holding sigma and the event
``make_event(sigma)``; after running, it calls ``spend.record(event)`` with the event it actually ran, which must
EQUAL the calibrated one (an exception otherwise, never an assert). Only then does the event enter the ledger. Each
stage spends once, one stage at a time, and :meth:`Budget.close` refuses a run that calibrated a stage it never
recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dpgraph.errors import DPGraphError
from dpgraph.privacy.calibration import noise_multiplier_for
from dpgraph.privacy.events import PrivacyEvent, check_event
from dpgraph.privacy.ledger import PrivacyLedger


@dataclass(eq=False)
class Spend:
    """A calibrated, not yet recorded spend of one stage: ``noise_multiplier`` and the ``event`` it stands for."""

    budget: Budget
    stage: str
    noise_multiplier: float
    event: PrivacyEvent
    recorded: bool = field(default=False, init=False)

    def record(self, event: PrivacyEvent) -> None:
        """Enter ``event`` (what the stage ran) in the ledger; it must equal the calibrated :attr:`event`."""
        self.budget._record(self, check_event(event, "recorded event"))


class Budget:
    """Hands each stage of a private run its cumulative epsilon target and records what it spends (see the module
    docstring). ``targets``: stage -> cumulative epsilon target, in release order."""

    def __init__(self, ledger: PrivacyLedger, targets: Mapping[str, float]) -> None:
        self.ledger = ledger
        self.targets = dict(targets)
        self._open: Spend | None = None
        self._spent: set[str] = set()

    def calibrate(self, stage: str, make_event: Callable[[float], PrivacyEvent]) -> Spend:
        """The spend of ``stage``: the smallest-found sigma meeting its target on top of the events so far."""
        if stage not in self.targets:
            raise DPGraphError(f"stage {stage!r} has no budget; this run's stages are {', '.join(self.targets)}")
        if stage in self._spent:
            raise DPGraphError(f"stage {stage!r} has already spent its budget; a stage spends once")
        if self._open is not None:
            raise DPGraphError(f"stage {self._open.stage!r} calibrated its noise but has not recorded its event; "
                               f"record it before calibrating {stage!r}")
        prior = [event for _, event in self.ledger.events]
        sigma = noise_multiplier_for(self.targets[stage], self.ledger.delta, make_event,
                                     accountant=self.ledger.accountant, prior=prior)
        self._open = Spend(self, stage, sigma, check_event(make_event(sigma), "calibrated event"))
        return self._open

    def _record(self, spend: Spend, event: PrivacyEvent) -> None:
        if spend is not self._open or spend.recorded:
            raise DPGraphError(f"this spend of stage {spend.stage!r} is not open (already recorded, or from another "
                               "budget)")
        if event != spend.event:
            raise DPGraphError(f"stage {spend.stage!r} was calibrated for {spend.event.to_dict()} but ran "
                               f"{event.to_dict()}; its epsilon would not be the one calibrated")
        self.ledger.record(spend.stage, event)
        spend.recorded = True
        self._spent.add(spend.stage)
        self._open = None

    def close(self) -> None:
        """Refuse to finish a run whose last calibrated stage never recorded its event."""
        if self._open is not None:
            raise DPGraphError(f"stage {self._open.stage!r} calibrated its noise but never recorded its event")
