"""The graph datasets selectable by `dataset.name` (the registry itself is :data:`dpgraph.data.spec.DATASETS`)."""

from __future__ import annotations

from pydantic import Field, field_validator

from dpgraph.config.validation import PathValue, StrictModel
from dpgraph.data.csv_graph import load_graph_csv
from dpgraph.data.graph_io import load_graph_pt
from dpgraph.data.load import graph_dataset_spec
from dpgraph.data.planetoid import PLANETOID_CLASSES, PLANETOID_NAMES, load_planetoid, raw_files_present
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.spec import DATASETS, NoParams


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


for _key, _folder in PLANETOID_NAMES.items():
    DATASETS.register(_key)(graph_dataset_spec(
        description=f"Planetoid {_folder} citation graph ({_folder}/raw/ind.{_key}.* under the data root)",
        params=NoParams,
        load=lambda _p, root, key=_key: load_planetoid(key, root),
        num_classes=lambda _p, key=_key: PLANETOID_CLASSES[key],
        present=lambda root, key=_key: raw_files_present(root, key),
    ))

DATASETS.register("sbm")(graph_dataset_spec(
    description="synthetic stochastic block model with class-informative binary features (generated)",
    params=SBMParams,
    load=lambda p, _root: make_sbm_graph(p),
    num_classes=lambda p: p.num_classes,
    present=lambda _root: None,
))
DATASETS.register("csv")(graph_dataset_spec(
    description="your graph: a folder with nodes.csv (id,label,features...[,split]) and edges.csv (source,target)",
    params=FileParams,
    load=lambda p, _root: load_graph_csv(p.path),
    num_classes=lambda p: p.num_classes,
    present=lambda _root: None,
))
DATASETS.register("pyg")(graph_dataset_spec(
    description="your graph: a torch.save'd torch_geometric Data with x, edge_index, y (optional masks)",
    params=FileParams,
    load=lambda p, _root: load_graph_pt(p.path),
    num_classes=lambda p: p.num_classes,
    present=lambda _root: None,
))
