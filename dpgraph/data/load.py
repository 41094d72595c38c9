"""Open a graph dataset: load it, check it, and apply its public split."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from torch_geometric.data import Data

from dpgraph.config.sections import DatasetSection
from dpgraph.data.graph import GraphDataset
from dpgraph.data.spec import DatasetSpec
from dpgraph.data.split import random_split, require_public_split
from dpgraph.data.validate import check_nodes
from dpgraph.errors import DPGraphError


def _check_split(data: Data, section: DatasetSection) -> None:
    fix = "adjust dataset.split_fractions" if section.split == "random" else "mark more nodes in the split"
    if not bool((data.train_mask & (data.y >= 0)).any()):
        raise DPGraphError(f"dataset '{section.name}': the split has no labelled training node; {fix}")
    if not bool(data.test_mask.any()):
        raise DPGraphError(f"dataset '{section.name}': the split has no labelled test node; {fix}")


def graph_dataset_spec(description: str, params: type[BaseModel], load: Callable[[Any, Path], Data],
                       num_classes: Callable[[Any], int], present: Callable[[Path], bool | None]) -> DatasetSpec:
    """The spec of a graph dataset whose raw graph is ``load(params, root)``: opening it applies
    :func:`prepare_graph`. Its units are a node and an edge."""
    return DatasetSpec(description=description, params=params, num_classes=num_classes, present=present,
                       open=lambda section, p, root: prepare_graph(section, load(p, root), num_classes(p)))


def prepare_graph(section: DatasetSection, data: Data, num_classes: int) -> GraphDataset:
    """The private graph with public masks, checked (`dpgraph.data.validate.check_nodes`) against the dataset's
    declared number of classes C (public metadata, never counted from the labels).

    Validation and test masks keep only labelled nodes (an unlabelled node cannot be scored); the split must leave
    at least one labelled training node and one labelled test node."""
    if section.split == "random":
        data = random_split(data, section.split_fractions, section.split_seed)
    else:
        data = require_public_split(data, section.name)
    check_nodes(data, num_classes, f"dataset '{section.name}'")
    labelled = data.y >= 0
    data.val_mask, data.test_mask = data.val_mask & labelled, data.test_mask & labelled
    _check_split(data, section)
    data.x = data.x.float()
    return GraphDataset(name=section.name, data=data, num_classes=num_classes)
