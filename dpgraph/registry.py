"""Named registries: pipeline files select datasets and mechanisms by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from dpgraph.errors import DPGraphError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> implementation map whose lookups fail with a one-line error listing the valid names."""

    def __init__(self, kind: str, config_key: str) -> None:
        self.kind = kind
        self.config_key = config_key
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} '{name}' registered twice")
            self._items[name] = item
            return item

        return decorator

    def get(self, name: str) -> T:
        if name not in self._items:
            valid = ", ".join(self.names())
            raise DPGraphError(f"unknown {self.kind} '{name}' at '{self.config_key}': use one of {valid}")
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items)
