"""The loaded private graph and the facts about it that are public."""

from __future__ import annotations

from dataclasses import dataclass

from torch_geometric.data import Data


@dataclass(frozen=True)
class GraphDataset:
    """A private attributed graph with its public split.

    `data` has `x` [n, F], undirected `edge_index` (both directions), `y` [n] and boolean `train_mask`,
    `val_mask`, `test_mask`. Public (per the privacy conventions): the split masks, n, the number of classes and
    features. `num_classes` is declared by the dataset or its config, never counted from the labels; every label is
    in 0..num_classes-1 or -1 (unlabelled). Everything else in `data` is private and may only be read inside a
    mechanism.
    """

    name: str
    data: Data
    num_classes: int

    @property
    def num_nodes(self) -> int:
        return int(self.data.num_nodes)

    @property
    def num_features(self) -> int:
        return int(self.data.x.size(1))

    def describe(self) -> dict[str, int | str]:
        """Public facts, for reports."""
        d = self.data
        return {
            "name": self.name,
            "num_nodes": self.num_nodes,
            "num_features": self.num_features,
            "num_classes": self.num_classes,
            "num_train": int(d.train_mask.sum()),
            "num_val": int(d.val_mask.sum()),
            "num_test": int(d.test_mask.sum()),
        }
