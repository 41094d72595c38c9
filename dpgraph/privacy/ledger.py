"""``PrivacyLedger``: the one record of every DP event of a run; the run's epsilon is computed from it alone.

``epsilon()`` accounts the composition of ALL recorded events (with the ledger's accountant; ``auto`` by default,
see :mod:`dpgraph.privacy.epsilon`), ``accounted_with()`` names the method that produced it.
``stage_epsilons()`` accounts each stage's events on their own (``stage_accounted_with()``: by which method): a
per-stage "share" for reports, which does not add up to ``epsilon()`` (composition is sub-additive).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dpgraph.errors import DPGraphError
from dpgraph.privacy.epsilon import accounting_method, compute_epsilon
from dpgraph.privacy.events import ComposedEvent, PrivacyEvent, check_event, event_from_dict
from dpgraph.privacy.units import UNITS
from dpgraph.privacy.validation import check_accountant, check_delta


class PrivacyLedger:
    """Append-only list of ``(stage, event)`` under one delta, privacy unit and accountant."""

    def __init__(self, delta: float, unit: str, accountant: str = "auto") -> None:
        if unit not in UNITS:
            raise DPGraphError(f"privacy unit must be one of {', '.join(UNITS)}, got {unit!r}")
        self.delta = check_delta(delta)
        self.unit = unit
        self.accountant = check_accountant(accountant)
        self._events: list[tuple[str, PrivacyEvent]] = []

    def record(self, stage: str, event: PrivacyEvent) -> None:
        """Append ``event`` as spent by ``stage``."""
        if not isinstance(stage, str) or not stage:
            raise DPGraphError(f"stage must be a non-empty string, got {stage!r}")
        self._events.append((stage, check_event(event, "event")))

    @property
    def events(self) -> list[tuple[str, PrivacyEvent]]:
        """A copy of the recorded ``(stage, event)`` pairs, in order."""
        return list(self._events)

    def _composition(self) -> ComposedEvent:
        return ComposedEvent(tuple(event for _, event in self._events))

    def _stages(self) -> dict[str, ComposedEvent]:
        stages: dict[str, list[PrivacyEvent]] = {}
        for stage, event in self._events:
            stages.setdefault(stage, []).append(event)
        return {stage: ComposedEvent(tuple(events)) for stage, events in stages.items()}

    def epsilon(self) -> float:
        """Epsilon of the composition of all recorded events (0 if none)."""
        return compute_epsilon(self._composition(), self.delta, self.accountant)

    def accounted_with(self) -> str:
        """The method (``analytic-gaussian``, ``pld``, ``prv`` or ``rdp``) that ``epsilon()`` uses."""
        return accounting_method(self._composition(), self.accountant)

    def stage_epsilons(self) -> dict[str, float]:
        """Each stage's events accounted alone, in order of first appearance."""
        return {stage: compute_epsilon(event, self.delta, self.accountant) for stage, event in self._stages().items()}

    def stage_accounted_with(self) -> dict[str, str]:
        """The method that each of ``stage_epsilons()`` uses."""
        return {stage: accounting_method(event, self.accountant) for stage, event in self._stages().items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (the privacy.json of a run)."""
        return {
            "private": True,
            "epsilon": self.epsilon(),
            "delta": self.delta,
            "unit": self.unit,
            "accountant": self.accountant,
            "accounted_with": self.accounted_with(),
            "events": [{"stage": stage, "event": event.to_dict()} for stage, event in self._events],
            "stage_epsilons": self.stage_epsilons(),
            "stage_accounted_with": self.stage_accounted_with(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PrivacyLedger:
        """Rebuild a ledger from ``to_dict()`` output (accountant ``auto`` if none is named); epsilons and the
        methods that produce them are recomputed, never trusted."""
        try:
            ledger = cls(data["delta"], data["unit"], data.get("accountant", "auto"))
            for entry in data["events"]:
                ledger.record(entry["stage"], event_from_dict(entry["event"]))
        except (KeyError, TypeError) as err:
            raise DPGraphError(
                f"malformed privacy ledger (missing or bad field {err}); "
                "re-create it with PrivacyLedger.to_dict()"
            ) from None
        return ledger
