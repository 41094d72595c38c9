"""The base type of every release."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from dpgraph.data.spec import PrivateDataset


class Release(ABC):
    """A released artefact. Everything it holds may be published; :meth:`save` writes exactly that."""

    #: the modality of the data it was released from ("graph", "image")
    modality: ClassVar[str]

    @abstractmethod
    def check(self, dataset: PrivateDataset) -> None:
        """Refuse a release that does not fit the dataset's public shape (a mechanism bug, never user error)."""

    @abstractmethod
    def save(self, folder: Path) -> list[str]:
        """Write the artefact into ``folder`` (the run's ``release/``); return the names written."""
