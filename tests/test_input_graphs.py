"""Graph files (CSV and PyG .pt) are checked by one shared set of rules, and the number of classes is declared
public metadata, never counted from the labels."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch_geometric.data import Data

from dpgraph.cli import main
from dpgraph.config.sections import DatasetSection
from dpgraph.data import DATASETS, load_dataset, load_graph_csv
from dpgraph.data.registry import FileParams, NoParams
from dpgraph.data.sbm import SBMParams
from dpgraph.errors import DPGraphError
from dpgraph.pipeline.config import load_config

NODES = "id,label,f0,f1\na,0,1.0,0.0\nb,1,0.0,1.0\nc,1,0.5,0.5\nd,0,1,1\n"
EDGES = "source,target\na,b\nb,c\n"
RANDOM = DatasetSection(name="csv", split="random", split_fractions=(0.5, 0.0, 0.5))


def _csv(folder: Path, nodes: str | bytes = NODES, edges: str = EDGES) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "nodes.csv").write_bytes(nodes if isinstance(nodes, bytes) else nodes.encode())
    (folder / "edges.csv").write_text(edges)
    return folder


def _load_csv(folder: Path, num_classes: int = 2, section: DatasetSection = RANDOM):
    return load_dataset(section, FileParams(path=folder, num_classes=num_classes), Path("."))


BAD_CSV = [
    ("duplicate id", NODES + "a,1,0,0\n", EDGES, "line 6 repeats the id of line 2"),
    ("nan feature", NODES + "e,1,nan,0\n", EDGES, "feature column 0 of node 4 .* not a finite number"),
    ("inf feature", NODES + "e,1,0,-inf\n", EDGES, "feature column 1 of node 4 .* not a finite number"),
    ("beyond float32", NODES + "e,1,1e39,0\n", EDGES, "not a finite number"),
    ("missing feature", NODES + "e,1,,0\n", EDGES, "line 6 has a malformed or missing feature value"),
    ("short row", NODES + "e,1,0\n", EDGES, "line 6 has 3 fields, the header 4"),
    ("long row", NODES + "e,1,0,0,0\n", EDGES, "line 6 has 5 fields"),
    ("no feature column", "id,label\na,0\nb,1\n", "source,target\n", "no feature columns"),
    ("no nodes", "id,label,f\n", "source,target\n", "no node rows"),
    ("repeated column", "id,label,f,f\na,0,1,1\n", "source,target\n", "names a column twice"),
    ("float label", NODES + "e,1.0,0,0\n", EDGES, "line 6 has a malformed label"),
    ("huge label", NODES + "e,99999999999999999999999,0,0\n", EDGES, "line 6 has a malformed label"),
    ("label >= C", NODES + "e,2,0,0\n", EDGES, r"node 4 .* label outside 0\.\.1 .*dataset\.num_classes"),
    ("label -2", NODES + "e,-2,0,0\n", EDGES, r"node 4 .* label outside 0\.\.1"),
    ("empty id", NODES + " ,1,0,0\n", EDGES, "line 6 has an empty id"),
    ("no edge header", NODES, "a,b\nb,c\n", "must start with the header line source,target"),
    ("weighted edges", NODES, "source,target,weight\na,b,1\n", "must start with the header line source,target"),
    ("unknown node", NODES, EDGES + "a,zz\n", "line 4 names a node missing from nodes.csv"),
    ("edge row length", NODES, EDGES + "a,b,c\n", "line 4 has 3 fields"),
    ("not UTF-8", NODES.encode() + "\xe9,1,0,0\n".encode("latin-1"), EDGES, "not UTF-8 text"),
    ("unknown split", "id,label,f,split\na,0,1,Train\nb,1,0,test\n", "source,target\n", "unknown split value"),
]


@pytest.mark.parametrize(("nodes", "edges", "expected"), [c[1:] for c in BAD_CSV], ids=[c[0] for c in BAD_CSV])
def test_bad_csv_is_a_one_line_error_naming_line_or_node(nodes, edges, expected, tmp_path):
    with pytest.raises(DPGraphError, match=expected) as err:
        _load_csv(_csv(tmp_path / "g", nodes, edges))
    assert "\n" not in str(err.value)
    assert "zz" not in str(err.value)  # positions and rules, not the values found


def test_self_loops_are_dropped_and_duplicate_edges_merged(tmp_path):
    edges = EDGES + "a,a\nb,a\na,b\nd,d\n"
    data = load_graph_csv(_csv(tmp_path / "g", edges=edges))
    assert sorted(map(tuple, data.edge_index.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1)]


def test_bom_blank_lines_and_spaces_around_ids_are_accepted(tmp_path):
    nodes = b"\xef\xbb\xbf" + b"id, label, f0\n a , 0, 1.0\n\nb,1, 2\n"
    data = load_graph_csv(_csv(tmp_path / "g", nodes, "source, target\na , b\n\n"))
    assert data.y.tolist() == [0, 1] and data.x.tolist() == [[1.0], [2.0]] and data.edge_index.size(1) == 2


def test_split_column_must_leave_labelled_train_and_test_nodes(tmp_path):
    public = DatasetSection(name="csv")
    folder = _csv(tmp_path / "g", "id,label,f,split\na,0,1,test\nb,1,0,test\n", "source,target\n")
    with pytest.raises(DPGraphError, match="no labelled training node"):
        _load_csv(folder, section=public)
    _csv(folder, "id,label,f,split\na,0,1,train\nb,-1,0,test\n", "source,target\n")
    with pytest.raises(DPGraphError, match="no labelled test node"):
        _load_csv(folder, section=public)


def test_unlabelled_nodes_are_never_scored(tmp_path):
    nodes = "id,label,f,split\na,0,1,train\nb,-1,0,test\nc,1,0,test\nd,-1,1,val\ne,1,1,val\n"
    graph = _load_csv(_csv(tmp_path / "g", nodes, "source,target\n"), section=DatasetSection(name="csv"))
    assert graph.data.test_mask.tolist() == [False, False, True, False, False]
    assert graph.data.val_mask.tolist() == [False, False, False, False, True]


def test_number_of_classes_is_declared_not_counted(tmp_path):
    graph = _load_csv(_csv(tmp_path / "g"), num_classes=5)  # labels use only 0 and 1
    assert graph.num_classes == 5
    assert [DATASETS.get(name).num_classes(NoParams()) for name in ("cora", "citeseer", "pubmed")] == [7, 6, 3]
    sbm = load_dataset(DatasetSection(name="sbm", split="random"), SBMParams(num_nodes=40, num_classes=4), Path("."))
    assert sbm.num_classes == 4


@pytest.mark.parametrize(("extra", "expected"), [({}, r"missing key 'dataset.num_classes' \(the number of classes C"),
                                                 ({"num_classes": 1}, "fewer than two classes"),
                                                 ({"num_classes": "3"}, "invalid value for 'dataset.num_classes'")])
def test_file_datasets_require_a_declared_number_of_classes(extra, expected, smoke_config, write_pipeline, tmp_path):
    for name in ("csv", "pyg"):
        smoke_config["dataset"] = {"name": name, "path": str(tmp_path), "split": "random", **extra}
        with pytest.raises(DPGraphError, match=expected):
            load_config(write_pipeline(smoke_config))


def _pt(path: Path, **fields) -> Path:
    base = {"x": torch.rand(4, 3), "y": torch.tensor([0, 1, 1, 0]), "edge_index": torch.tensor([[0, 1, 2], [1, 2, 2]])}
    torch.save(Data(**(base | fields)), path)
    return path


BAD_PT = [
    ("float labels", {"y": torch.tensor([0.0, 1.0, 1.0, 0.0])}, "y must be an integer tensor"),
    ("label >= C", {"y": torch.tensor([0, 1, 5, 0])}, r"node 2 .* label outside 0\.\.1"),
    ("labels per node", {"y": torch.tensor([0, 1, 1])}, "3 labels for 4 nodes"),
    ("nan feature", {"x": torch.tensor([[0.0], [float("nan")], [1.0], [1.0]])}, "node 1 .* not a finite number"),
    ("beyond float32", {"x": torch.full((4, 1), 1e300, dtype=torch.float64)}, "not a finite number"),
    ("no feature column", {"x": torch.zeros(4, 0)}, "at least one feature column"),
    ("edge out of range", {"edge_index": torch.tensor([[0], [9]])}, r"outside 0\.\.3"),
    ("float edges", {"edge_index": torch.tensor([[0.0], [1.0]])}, "edge_index must be an integer tensor"),
    ("missing y", {"y": None}, "tensors x, edge_index and y"),
]


@pytest.mark.parametrize(("fields", "expected"), [c[1:] for c in BAD_PT], ids=[c[0] for c in BAD_PT])
def test_pyg_files_get_the_same_checks(fields, expected, tmp_path):
    path = _pt(tmp_path / "g.pt", **fields)
    with pytest.raises(DPGraphError, match=expected):
        load_dataset(RANDOM.model_copy(update={"name": "pyg"}), FileParams(path=path, num_classes=2), Path("."))


@pytest.mark.parametrize(("masks", "expected"), [
    ({}, "ships no public split"),
    ({"train_mask": torch.tensor([1, 0, 0, 0])}, "train_mask must be a boolean tensor"),
    ({"test_mask": torch.ones(4, dtype=torch.bool)}, "node 0 is in more than one of train/val/test"),
])
def test_pyg_public_split_masks_are_checked(masks, expected, tmp_path):
    split = {"train_mask": torch.tensor([True, False, False, False]), "val_mask": torch.zeros(4, dtype=torch.bool),
             "test_mask": torch.tensor([False, True, True, True])}
    path = _pt(tmp_path / "g.pt", **(split | masks if masks else {}))
    with pytest.raises(DPGraphError, match=expected):
        load_dataset(DatasetSection(name="pyg"), FileParams(path=path, num_classes=2), Path("."))


def test_pyg_edges_become_simple_undirected(tmp_path):
    graph = load_dataset(RANDOM.model_copy(update={"name": "pyg"}),
                         FileParams(path=_pt(tmp_path / "g.pt"), num_classes=2), Path("."))
    assert sorted(map(tuple, graph.data.edge_index.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1)]


def test_bad_csv_through_the_cli_exits_2_with_one_line_and_no_run_directory(smoke_config, write_pipeline, tmp_path):
    folder = _csv(tmp_path / "g", NODES + "a,1,0,0\n")
    smoke_config["dataset"] = {"name": "csv", "path": str(folder), "num_classes": 2, "split": "random"}
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(write_pipeline(smoke_config)), "--out", str(out), "--quiet"])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith("error: ") and "repeats the id" in result.output
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".run")]
