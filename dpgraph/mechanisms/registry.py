"""Mechanisms selectable by `method.name`."""

from __future__ import annotations

from dpgraph.mechanisms.base import Mechanism
from dpgraph.registry import Registry

MECHANISMS: Registry[type[Mechanism]] = Registry("method", "method.name")
