"""Per-node feature transforms: each row scaled by its own norm, no statistic shared across nodes."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def unit_rows(x: Tensor) -> Tensor:
    """Each row scaled to unit L2 norm (zero rows stay zero), keeping the dtype: a per-node transform that shares
    no statistic across nodes, so each node's vector has norm <= 1 for the sensitivity arguments."""
    return F.normalize(x, dim=1)


def prepare_features(x: Tensor, normalize: bool) -> Tensor:
    """Return `x` as float, row-L1-normalised if `normalize` (x_i / max(||x_i||_1, eps)); never modifies `x`.

    Each row is scaled by its own norm only, so no statistic is shared across nodes (unlike PyG's
    NormalizeFeatures, no global minimum is subtracted). All-zero rows stay zero.
    """
    x = x.float()
    return F.normalize(x, p=1.0, dim=1) if normalize else x.clone()
