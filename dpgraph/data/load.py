"""Load the configured dataset and apply its public split."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from dpgraph.config.sections import DatasetSection
from dpgraph.data.graph import GraphDataset
from dpgraph.data.registry import DATASETS
from dpgraph.data.split import random_split, require_public_split
from dpgraph.errors import DPGraphError


def load_dataset(section: DatasetSection, params: BaseModel, root: Path) -> GraphDataset:
    """The private graph with public masks. Labels must be integers in 0..C-1 (the count C is public)."""
    data = DATASETS.get(section.name).load(params, root)
    if section.split == "random":
        data = random_split(data, section.split_fractions, section.split_seed)
    else:
        data = require_public_split(data, section.name)
    labelled = data.y[data.y >= 0]
    if labelled.numel() == 0:
        raise DPGraphError(f"dataset '{section.name}' has no labelled nodes: labels must be integers >= 0")
    if int(data.train_mask.sum()) == 0 or int(data.test_mask.sum()) == 0:
        raise DPGraphError(f"dataset '{section.name}': the split has no train or no test nodes; "
                           f"adjust dataset.split_fractions")
    data.x = data.x.float()
    return GraphDataset(name=section.name, data=data, num_classes=int(labelled.max()) + 1)
