"""Shared fixtures: the shared Planetoid data root, and small pipeline configs that run in seconds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def planetoid_root() -> Path:
    """Folder holding Cora/raw (CI and developers: ../shared/datasets; else $DPGRAPH_DATA)."""
    for candidate in (os.environ.get("DPGRAPH_DATA"), SHARED_DATA):
        if candidate and (Path(candidate) / "Cora" / "raw" / "ind.cora.x").is_file():
            return Path(candidate)
    pytest.skip("Cora raw files not found: set DPGRAPH_DATA to a folder holding Cora/raw")


@pytest.fixture
def smoke_config() -> dict:
    """A dp-sbm pipeline on a small generated SBM graph (a few seconds end to end)."""
    return {
        "name": "smoke",
        "seed": 0,
        "dataset": {"name": "sbm", "split": "random", "split_fractions": [0.6, 0.2, 0.2], "num_nodes": 300},
        "privacy": {"epsilon": 4.0, "delta": 1e-5, "unit": "node"},
        "method": {"name": "dp-sbm", "degree_cap": 5, "feature_clip": 4.0},
        "evaluate": {"models": ["gcn", "mlp"], "seeds": 2, "epochs": 30},
    }


@pytest.fixture
def write_pipeline(tmp_path: Path):
    """Write a config dict (or raw text) to a YAML file and return its path."""

    def write(content: dict | str, name: str = "pipeline.yaml") -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
        return path

    return write
