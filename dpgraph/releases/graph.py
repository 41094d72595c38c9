"""A released attributed graph."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from torch_geometric.data import Data

from dpgraph.data.graph import GraphDataset
from dpgraph.data.graph_io import save_graph
from dpgraph.releases.base import Release


@dataclass(frozen=True)
class GraphRelease(Release):
    """A synthetic graph: ``data`` with ``x`` [n', F], ``edge_index``, ``y`` [n'] (-1 = unlabelled)."""

    modality: ClassVar[str] = "graph"
    data: Data

    def check(self, dataset: GraphDataset) -> None:
        if self.data.x.size(1) != dataset.num_features:
            raise RuntimeError(f"mechanism released {self.data.x.size(1)} features, expected {dataset.num_features}")
        if self.data.y.numel() and int(self.data.y.max()) >= dataset.num_classes:
            raise RuntimeError("mechanism released a label outside the dataset's classes")

    def save(self, folder: Path) -> list[str]:
        save_graph(self.data, folder / "synthetic")
        return ["synthetic/"]
