"""``ACCOUNTANTS``: the accounting methods, each ``(event, delta) -> epsilon``, registered by name (the values of
``privacy.accountant`` besides ``auto``)."""

from __future__ import annotations

from collections.abc import Callable

from dpgraph.privacy.events import PrivacyEvent
from dpgraph.registry import Registry

Accountant = Callable[[PrivacyEvent, float], float]

ACCOUNTANTS: Registry[Accountant] = Registry("accountant", "privacy.accountant")
