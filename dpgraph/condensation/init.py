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


def jittered_copies(
    rows: Tensor, nodes_per_class: Sequence[int], jitter: float, generator: torch.Generator
) -> Tensor:
    """`nodes_per_class[c]` copies of max(rows[c], 0), each entry scaled by max(1 + jitter * N(0, 1), 0).

    Post-processing of `rows` (e.g. released noisy class sums) with public noise: the copies differ, so gradient
    matching can move them apart (identical rows would get identical updates). Rows are later L1-normalised.
    """
    if rows.size(0) != len(nodes_per_class):
        raise ValueError(f"need one row per class ({len(nodes_per_class)}), got {rows.size(0)}")
    copies = rows.float().clamp_min(0.0).repeat_interleave(torch.tensor(list(nodes_per_class)), dim=0)
    scale = (1.0 + jitter * torch.randn(copies.shape, generator=generator)).clamp_min(0.0)
    return copies * scale
