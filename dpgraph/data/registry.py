"""Datasets selectable by `dataset.name`, each with its own parameter schema and its declared number of classes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from torch_geometric.data import Data

from dpgraph.config.validation import PathValue, StrictModel
from dpgraph.data.csv_graph import load_graph_csv
from dpgraph.data.graph_io import load_graph_pt
from dpgraph.data.planetoid import PLANETOID_CLASSES, PLANETOID_NAMES, load_planetoid, raw_files_present
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.registry import Registry


@dataclass(frozen=True)
class DatasetSpec:
    """How to load one kind of dataset. `num_classes(params)` is public metadata, declared by the dataset or its
    config, never read from the data. `present(root)` answers `dpgraph datasets` (None: needs no files).
    `modality` and `units` say which mechanisms and which `privacy.unit` apply."""

    description: str
    params: type[BaseModel]
    load: Callable[[BaseModel, Path], Data]
    num_classes: Callable[[BaseModel], int]
    present: Callable[[Path], bool | None]
    modality: str = "graph"
    #: privacy units this data has: a node (features, label, edges) and an edge
    units: tuple[str, ...] = ("node", "edge")


class NoParams(StrictModel):
    """This dataset takes no parameters beyond name and split."""


class FileParams(StrictModel):
    """A graph in your files: where it is, and how many classes its labels range over (labels 0..C-1, -1 =
    unlabelled). C is public: declare it, it is not counted from the data."""

    path: PathValue
    num_classes: int = Field(description="the number of classes C: labels are 0..C-1, -1 = unlabelled")

    @field_validator("num_classes")
    @classmethod
    def _at_least_two(cls, value: int) -> int:
        if value < 2:
            raise ValueError("fewer than two classes: a classifier needs C >= 2 (labels 0..C-1)")
        return value


DATASETS: Registry[DatasetSpec] = Registry("dataset", "dataset.name")

for _key, _folder in PLANETOID_NAMES.items():
    DATASETS.register(_key)(DatasetSpec(
        description=f"Planetoid {_folder} citation graph ({_folder}/raw/ind.{_key}.* under the data root)",
        params=NoParams,
        load=lambda _p, root, key=_key: load_planetoid(key, root),
        num_classes=lambda _p, key=_key: PLANETOID_CLASSES[key],
        present=lambda root, key=_key: raw_files_present(root, key),
    ))

DATASETS.register("sbm")(DatasetSpec(
    description="synthetic stochastic block model with class-informative binary features (generated)",
    params=SBMParams,
    load=lambda p, _root: make_sbm_graph(p),  # type: ignore[arg-type]
    num_classes=lambda p: p.num_classes,  # type: ignore[attr-defined]
    present=lambda _root: None,
))
DATASETS.register("csv")(DatasetSpec(
    description="your graph: a folder with nodes.csv (id,label,features...[,split]) and edges.csv (source,target)",
    params=FileParams,
    load=lambda p, _root: load_graph_csv(p.path),  # type: ignore[attr-defined]
    num_classes=lambda p: p.num_classes,  # type: ignore[attr-defined]
    present=lambda _root: None,
))
DATASETS.register("pyg")(DatasetSpec(
    description="your graph: a torch.save'd torch_geometric Data with x, edge_index, y (optional masks)",
    params=FileParams,
    load=lambda p, _root: load_graph_pt(p.path),  # type: ignore[attr-defined]
    num_classes=lambda p: p.num_classes,  # type: ignore[attr-defined]
    present=lambda _root: None,
))
