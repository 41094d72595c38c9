"""A released node classifier (e.g. a GNN trained with DP-SGD)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from dpgraph.data.graph import GraphDataset
from dpgraph.releases.base import Release


@dataclass(frozen=True)
class NodeClassifierRelease(Release):
    """A trained module with ``forward_all(x, adj) -> logits [n, C]`` for one whole graph: ``x`` the graph's features
    scaled to unit L2 rows (:func:`dpgraph.graphops.unit_rows`), ``adj`` a normalised sparse adjacency [n, n]."""

    modality: ClassVar[str] = "graph"
    module: nn.Module

    def check(self, dataset: GraphDataset) -> None:
        if not callable(getattr(self.module, "forward_all", None)):
            raise RuntimeError(f"released {type(self.module).__name__} has no forward_all(x, adj) for whole graphs")

    def save(self, folder: Path) -> list[str]:
        torch.save(self.module.state_dict(), folder / "model.pt")
        return ["model.pt"]
