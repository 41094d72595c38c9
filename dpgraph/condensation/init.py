"""Initial synthetic features X' [N', F], rows grouped by class in the order of `nodes_per_class`."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dpgraph.errors import DPGraphError


def random_features(nodes_per_class: Sequence[int], num_features: int, generator: torch.Generator) -> Tensor:
    """X' ~ N(0, 1) i.i.d. [sum(nodes_per_class), F]; reads no data, so it is public.

    Only the row directions matter: `SyntheticGraph` normalises the rows (unit L1 norm) and keeps them there.
    """
    return torch.randn(sum(nodes_per_class), num_features, generator=generator)


def real_sample_features(
    x: Tensor, y: Tensor, train_mask: Tensor, nodes_per_class: Sequence[int], generator: torch.Generator
) -> Tensor:
    """Rows of `x` of `nodes_per_class[c]` training nodes of class c drawn without replacement, class by class.

    NOT PRIVATE: it copies real nodes' features into the release. Only for the non-private reference (GCond's
    default); a private condensation must start from `random_features` or another public initialisation.
    """
    rows = []
    for c, count in enumerate(nodes_per_class):
        pool = (train_mask & (y == c)).nonzero().flatten()
        if count > pool.numel():
            raise DPGraphError(f"class {c}: {count} synthetic nodes requested, only {pool.numel()} training nodes")
        rows.append(x[pool[torch.randperm(pool.numel(), generator=generator)[:count]]])
    return torch.cat(rows).float()
