"""Requests that cannot succeed are refused up front: too much memory (estimated from the parameters), an output
location that cannot be written; and a processed-data cache never outlives a change of its raw files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch_geometric.data import Data

from dpgraph.cli import main
from dpgraph.data import load_graph_csv, load_graph_pt, planetoid
from dpgraph.data.sbm import SBMParams, expected_edges, make_sbm_graph, sample_blocks
from dpgraph.errors import DPGraphError
from dpgraph.mechanisms import sbm_sampling
from dpgraph.pipeline.rundir import ensure_free
from dpgraph.resources import ENV_VAR, check_memory, memory_limit


def test_check_memory_names_estimate_limit_and_fix(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "2")
    assert memory_limit()[0] == 2 * 2**30
    check_memory(2**30, "a small thing", "ask for less")
    with pytest.raises(DPGraphError, match=rf"a big thing needs about 3 GiB .* limit of 2 GiB \({ENV_VAR}=2\): "
                                           r"ask for less$"):
        check_memory(3 * 2**30, "a big thing", "ask for less")
    monkeypatch.delenv(ENV_VAR)
    limit, source = memory_limit()
    assert 0 < limit < os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") and ENV_VAR in source


@pytest.mark.parametrize("value", ["abc", "0", "-1", "inf", "nan"])
def test_bad_memory_limit_is_an_error(value, monkeypatch):
    monkeypatch.setenv(ENV_VAR, value)
    with pytest.raises(DPGraphError, match=f"{ENV_VAR}='{value}' is not a positive number"):
        check_memory(1, "anything", "none")


def test_huge_sbm_is_refused_from_its_parameters_before_sampling(monkeypatch):
    def never(*_args):
        raise AssertionError("sampled before the memory check")

    monkeypatch.setattr(np.random, "default_rng", never)
    with pytest.raises(DPGraphError, match=r"the sbm dataset \(10000000 nodes.*lower dataset\.num_nodes"):
        make_sbm_graph(SBMParams(num_nodes=10_000_000))
    monkeypatch.setenv(ENV_VAR, "0.001")
    with pytest.raises(DPGraphError, match=f"limit of .* GiB \\({ENV_VAR}=0.001\\)"):
        make_sbm_graph(SBMParams(p_in=1.0))


def test_huge_sbm_through_the_cli_exits_2_and_writes_nothing(smoke_config, write_pipeline, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(write_pipeline(smoke_config)), "--out", str(out),
                                       "--set", "dataset.num_nodes=10000000", "--quiet"])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "GiB of memory" in result.output
    assert not out.exists()


def test_graph_files_too_large_for_memory_are_refused_before_reading(tmp_path, monkeypatch):
    (tmp_path / "nodes.csv").write_text("id,label,f\n" + "".join(f"n{i},0,1\n" for i in range(1000)))
    (tmp_path / "edges.csv").write_text("source,target\n")
    torch.save(Data(x=torch.zeros(1000, 8), y=torch.zeros(1000, dtype=torch.long),
                    edge_index=torch.zeros(2, 0, dtype=torch.long)), tmp_path / "g.pt")
    monkeypatch.setenv(ENV_VAR, "1e-5")
    with pytest.raises(DPGraphError, match=f"loading the CSV graph in {tmp_path} needs about"):
        load_graph_csv(tmp_path)
    with pytest.raises(DPGraphError, match="g.pt needs about"):
        load_graph_pt(tmp_path / "g.pt")


def test_sparse_block_sampler_is_shared_and_matches_its_expectation():
    assert sbm_sampling.sample_blocks is sample_blocks  # dp-sbm and the sbm dataset draw edges the same way
    sizes, probs = [300, 200, 100], torch.tensor([[0.05, 0.01, 0.0], [0.01, 0.08, 0.02], [0.0, 0.02, 0.1]])
    edge_index = sample_blocks(sizes, probs, np.random.default_rng(0))
    src, dst = edge_index
    assert not (src == dst).any() and edge_index.size(1) % 2 == 0
    assert set(map(tuple, edge_index.t().tolist())) == set(map(tuple, edge_index.flip(0).t().tolist()))
    mean = expected_edges(sizes, probs)  # duplicates are rare at these densities
    assert abs(edge_index.size(1) / 2 - mean) < 5 * mean**0.5
    assert torch.equal(edge_index, sample_blocks(sizes, probs, np.random.default_rng(0)))


def test_sbm_dataset_needs_nodes_and_topic_features_for_every_class():
    with pytest.raises(ValueError, match="at least num_classes"):
        SBMParams(num_nodes=10, num_classes=20, num_features=40)
    with pytest.raises(ValueError, match="at least num_classes"):
        SBMParams(num_classes=5, num_features=4)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_output_location_that_cannot_be_written_is_refused_leaving_nothing(tmp_path):
    (tmp_path / "file").write_text("x")
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    before = _listing(tmp_path)
    cases = [(tmp_path / "file" / "run", "is not a directory"),
             (readonly / "run", "is not writable"),
             (readonly / "a" / "b", "is not writable"),
             (tmp_path / ("x" * 250), "longer than"),
             (tmp_path / "file", "already exists")]
    if Path("/proc/self").exists():
        cases.append((Path("/proc/dpgraph-run"), "/proc is not writable"))
    for out, expected in cases:
        with pytest.raises(DPGraphError, match=expected):
            ensure_free(out)
    assert _listing(tmp_path) == before and _listing(readonly) == []
    ensure_free(tmp_path / "new" / "run")  # a writable location passes, and nothing is created
    assert _listing(tmp_path) == before


def test_unwritable_output_is_refused_before_loading_data(smoke_config, write_pipeline, tmp_path):
    smoke_config["dataset"] = {"name": "csv", "path": str(tmp_path / "absent"), "num_classes": 2, "split": "random"}
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(main, ["run", str(write_pipeline(smoke_config)), "--out", str(tmp_path / "file" / "r")])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "is not a directory" in result.output


def _fake_raw(root: Path, content: bytes) -> None:
    raw = root / "Cora" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in planetoid.raw_files("cora"):
        (raw / name).write_bytes(content)


def test_planetoid_cache_is_keyed_by_raw_content(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _fake_raw(tmp_path / "a", b"one")
    _fake_raw(tmp_path / "b", b"one")
    first = planetoid._staged_root(tmp_path / "a", "cora")
    assert planetoid._staged_root(tmp_path / "b", "cora") == first  # same bytes elsewhere: same processed data
    _fake_raw(tmp_path / "a", b"two")  # same sizes: a size check cannot tell
    second = planetoid._staged_root(tmp_path / "a", "cora")
    assert second != first
    assert (second / "Cora" / "raw" / "ind.cora.x").read_bytes() == b"two"
    assert (first / "Cora" / "raw" / "ind.cora.x").read_bytes() == b"one"


@pytest.mark.parametrize(("method", "setting"), [("dp-sbm", "method.num_nodes=200000"),
                                                 ("dp-gcond", "method.nodes_per_class=20000"),
                                                 ("dp-gnn", "method.hidden=100000")])
def test_mechanism_sizes_that_would_exhaust_memory_are_refused_before_any_work(method, setting, tmp_path, monkeypatch,
                                                                               smoke_config, write_pipeline):
    monkeypatch.setenv("DPGRAPH_MEMORY_LIMIT_GB", "0.01")  # 10 MiB: the SBM graph fits, these settings do not
    smoke_config["method"] = {"name": method}
    out = CliRunner().invoke(main, ["run", str(write_pipeline(smoke_config)), "--out", str(tmp_path / "x"),
                                    "--set", setting])
    assert out.exit_code == 2
    assert f"method '{method}' needs about" in out.output and "GiB" in out.output and "lower method." in out.output
    assert len(out.output.strip().splitlines()) == 1 and not (tmp_path / "x").exists()
