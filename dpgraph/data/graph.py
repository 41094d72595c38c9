"""The loaded private graph and the facts about it that are public."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor
from torch_geometric.data import Data

from dpgraph.errors import DPGraphError


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
    def modality(self) -> str:
        return "graph"

    @property
    def size(self) -> int:
        """n = the number of nodes (delta must be < 1/n)."""
        return self.num_nodes

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

    def evaluation_target(self, score_on: str) -> Data:
        """The real graph whose `test_mask` marks the nodes scored: the test nodes, or (``score_on == "val"``) a
        shallow copy whose `test_mask` is the validation mask."""
        if score_on == "test":
            return self.data
        val = getattr(self.data, "val_mask", None)
        if val is None or not bool(val.any()):
            raise DPGraphError(f"evaluate.score_on: val needs validation nodes, and the {self.name} split has none; "
                               "use a split with a validation share (e.g. dataset.split_fractions: [0.75, 0.1, 0.15])")
        return scoring_on(self.data, val)


def scoring_on(real: Data, mask: Tensor) -> Data:
    """A shallow copy of `real` whose `test_mask` is `mask`: evaluators then score those nodes (e.g. the validation
    nodes, to choose hyper-parameters without test labels)."""
    target = real.clone()
    target.test_mask = mask
    return target
