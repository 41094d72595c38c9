"""Per-node feature preprocessing applied at evaluation time."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def prepare_features(x: Tensor, normalize: bool) -> Tensor:
    """Return `x` as float, row-L1-normalised if `normalize` (x_i / max(||x_i||_1, eps)); never modifies `x`.

    Each row is scaled by its own norm only, so no statistic is shared across nodes (unlike PyG's
    NormalizeFeatures, no global minimum is subtracted). All-zero rows stay zero.
    """
    x = x.float()
    return F.normalize(x, p=1.0, dim=1) if normalize else x.clone()
