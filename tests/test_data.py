"""Data root resolution, Planetoid loading (read-only roots, missing and corrupt files), graph files, splits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch_geometric.data import Data

from dpgraph.cli import main
from dpgraph.config.sections import DatasetSection
from dpgraph.data import load_dataset, load_graph_csv, load_graph_pt, resolve_data_root, save_graph
from dpgraph.data import planetoid as planetoid_module
from dpgraph.data.registry import NoParams
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.errors import DPGraphError


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("DPGRAPH_DATA", raising=False)
    assert resolve_data_root(None) == Path("datasets")
    monkeypatch.setenv("DPGRAPH_DATA", str(tmp_path / "env"))
    assert resolve_data_root(None) == tmp_path / "env"
    assert resolve_data_root(tmp_path / "flag") == tmp_path / "flag"


def test_cora_loads_with_public_split_without_writing_into_the_data_root(planetoid_root, tmp_path, monkeypatch):
    root = tmp_path / "data"
    shutil.copytree(planetoid_root / "Cora" / "raw", root / "Cora" / "raw")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    graph = load_dataset(DatasetSection(name="cora"), NoParams(), root)
    assert graph.num_nodes == 2708 and graph.num_classes == 7 and graph.num_features == 1433
    assert [int(graph.data[m].sum()) for m in ("train_mask", "val_mask", "test_mask")] == [140, 500, 1000]
    assert sorted(p.name for p in (root / "Cora").iterdir()) == ["raw"]
    assert list((tmp_path / "cache" / "dpgraph" / "planetoid").glob("*/Cora/processed"))


def test_missing_planetoid_files_name_where_to_put_them(tmp_path, monkeypatch):
    def offline(*_args, **_kwargs):
        raise OSError("no network")

    monkeypatch.setattr(planetoid_module, "Planetoid", offline)
    with pytest.raises(DPGraphError, match=r"ind\.citeseer\.") as err:
        load_dataset(DatasetSection(name="citeseer"), NoParams(), tmp_path)
    assert str(tmp_path / "CiteSeer" / "raw") in str(err.value)
    assert not (tmp_path / "CiteSeer").exists()  # nothing half-written


def test_corrupt_planetoid_file_is_reported(planetoid_root, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    shutil.copytree(planetoid_root / "Cora" / "raw", tmp_path / "Cora" / "raw")
    (tmp_path / "Cora" / "raw" / "ind.cora.x").write_bytes(b"not a pickle")
    with pytest.raises(DPGraphError, match="corrupt"):
        load_dataset(DatasetSection(name="cora"), NoParams(), tmp_path)


def test_datasets_command_reports_presence(planetoid_root):
    result = CliRunner().invoke(main, ["datasets", "--data-root", str(planetoid_root)])
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:]}
    assert "present" in lines["cora"] and "missing" in lines["pubmed"]


def _graph() -> Data:
    return Data(x=torch.tensor([[1.0, 0.0], [0.5, 2.0], [0.0, 1.0]]), edge_index=torch.tensor([[0, 1, 1, 2],
                [1, 0, 2, 1]]), y=torch.tensor([0, 1, -1]))


def test_graph_files_round_trip(tmp_path):
    save_graph(_graph(), tmp_path)
    for loaded in (load_graph_pt(tmp_path / "graph.pt"), load_graph_csv(tmp_path)):
        assert torch.equal(loaded.x, _graph().x) and torch.equal(loaded.y, _graph().y)
        assert sorted(map(tuple, loaded.edge_index.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    assert (tmp_path / "edges.csv").read_text().splitlines() == ["source,target", "0,1", "1,2"]


def test_csv_with_split_column_and_bad_rows(tmp_path):
    (tmp_path / "nodes.csv").write_text("id,label,f,split\na,0,1.0,train\nb,1,0.0,test\nc,1,0.5,val\n")
    (tmp_path / "edges.csv").write_text("source,target\na,b\n")
    data = load_graph_csv(tmp_path)
    assert data.train_mask.tolist() == [True, False, False] and data.edge_index.size(1) == 2
    (tmp_path / "edges.csv").write_text("source,target\na,zz\n")
    with pytest.raises(DPGraphError, match="missing from nodes.csv"):
        load_graph_csv(tmp_path)
    (tmp_path / "nodes.csv").write_text("id,label,f\na,zero,1.0\n")
    with pytest.raises(DPGraphError, match="malformed"):
        load_graph_csv(tmp_path)


def test_corrupt_pt_file(tmp_path):
    (tmp_path / "g.pt").write_bytes(b"\x00garbage")
    with pytest.raises(DPGraphError, match="PyG Data"):
        load_graph_pt(tmp_path / "g.pt")


def test_random_split_ignores_labels_and_respects_fractions():
    data = make_sbm_graph(SBMParams(num_nodes=200))
    shuffled = data.clone()
    shuffled.y = shuffled.y[torch.randperm(200)]
    a, b = random_split(data, (0.7, 0.1, 0.2), seed=3), random_split(shuffled, (0.7, 0.1, 0.2), seed=3)
    for mask in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(a[mask], b[mask])
    assert [int(a[m].sum()) for m in ("train_mask", "val_mask", "test_mask")] == [140, 20, 40]
    assert not (a.train_mask & a.test_mask).any()


def test_sbm_is_deterministic_and_has_no_public_split():
    g1, g2 = make_sbm_graph(SBMParams(graph_seed=5)), make_sbm_graph(SBMParams(graph_seed=5))
    assert torch.equal(g1.x, g2.x) and torch.equal(g1.edge_index, g2.edge_index)
    with pytest.raises(DPGraphError, match="split: random"):
        load_dataset(DatasetSection(name="sbm"), SBMParams(), Path("."))
