"""Datasets selectable by `dataset.name`, each with its own parameter schema."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel
from torch_geometric.data import Data

from dpgraph.config.validation import StrictModel
from dpgraph.data.graph_io import load_graph_csv, load_graph_pt
from dpgraph.data.planetoid import PLANETOID_NAMES, load_planetoid, raw_files_present
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.registry import Registry


@dataclass(frozen=True)
class DatasetSpec:
    """How to load one kind of dataset. `present(root)` answers `dpgraph datasets` (None: needs no files)."""

    description: str
    params: type[BaseModel]
    load: Callable[[BaseModel, Path], Data]
    present: Callable[[Path], bool | None]


class NoParams(StrictModel):
    """This dataset takes no parameters beyond name and split."""


class PathParams(StrictModel):
    path: Path


DATASETS: Registry[DatasetSpec] = Registry("dataset", "dataset.name")

for _key, _folder in PLANETOID_NAMES.items():
    DATASETS.register(_key)(DatasetSpec(
        description=f"Planetoid {_folder} citation graph ({_folder}/raw/ind.{_key}.* under the data root)",
        params=NoParams,
        load=lambda _p, root, key=_key: load_planetoid(key, root),
        present=lambda root, key=_key: raw_files_present(root, key),
    ))

DATASETS.register("sbm")(DatasetSpec(
    description="synthetic stochastic block model with class-informative binary features (generated)",
    params=SBMParams,
    load=lambda p, _root: make_sbm_graph(p),  # type: ignore[arg-type]
    present=lambda _root: None,
))
DATASETS.register("csv")(DatasetSpec(
    description="your graph: a folder with nodes.csv (id,label,features...[,split]) and edges.csv (source,target)",
    params=PathParams,
    load=lambda p, _root: load_graph_csv(p.path),  # type: ignore[attr-defined]
    present=lambda _root: None,
))
DATASETS.register("pyg")(DatasetSpec(
    description="your graph: a torch.save'd torch_geometric Data with x, edge_index, y (optional masks)",
    params=PathParams,
    load=lambda p, _root: load_graph_pt(p.path),  # type: ignore[attr-defined]
    present=lambda _root: None,
))
