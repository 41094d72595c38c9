"""What every dataset is, whatever its modality, and the registry of datasets selectable by `dataset.name`.

This module is modality-neutral (no graph or image code): graph datasets register in :mod:`dpgraph.data.registry`,
image datasets in :mod:`dpgraph.images.datasets`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from dpgraph.config.sections import DatasetSection
from dpgraph.config.validation import StrictModel
from dpgraph.registry import Registry


@runtime_checkable
class PrivateDataset(Protocol):
    """A loaded private dataset with its public split. Public: ``name``, ``modality``, ``num_classes`` (declared, never
    counted), ``size`` (the number n of private records: nodes of a graph, training images; delta must be < 1/n) and
    what ``describe`` returns; everything else is private and read only inside a mechanism or an evaluator."""

    name: str
    num_classes: int

    @property
    def modality(self) -> str: ...

    @property
    def size(self) -> int: ...

    def describe(self) -> dict[str, int | str]:
        """Public facts, for reports."""

    def evaluation_target(self, score_on: str) -> Any:
        """What evaluators score on: the held-out test records, or the validation records (``score_on: val``);
        a DPGraphError naming the fix when the split has none."""


@dataclass(frozen=True)
class DatasetSpec:
    """How to open one kind of dataset: ``open(section, params, root)`` loads it, checks it and applies its public
    split. `num_classes(params)` is public metadata, declared by the dataset or its config, never read from the data.
    `present(root)` answers `dpgraph datasets` (None: needs no files). `modality` and `units` say which mechanisms and
    which `privacy.unit` apply."""

    description: str
    params: type[BaseModel]
    open: Callable[[DatasetSection, Any, Path], PrivateDataset]
    num_classes: Callable[[Any], int]
    present: Callable[[Path], bool | None]
    modality: str = "graph"
    #: privacy units this data has (graph: a node with its features, label and edges, an edge, and one node's
    #: attributes with the structure public; image: an example)
    units: tuple[str, ...] = ("node", "edge", "attributes")


class NoParams(StrictModel):
    """This dataset takes no parameters beyond name and split."""


DATASETS: Registry[DatasetSpec] = Registry("dataset", "dataset.name")


def load_dataset(section: DatasetSection, params: BaseModel, root: Path) -> PrivateDataset:
    """Open the configured dataset (its spec's ``open``)."""
    return DATASETS.get(section.name).open(section, params, root)
