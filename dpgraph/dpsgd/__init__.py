"""DP-SGD: unit sampling, per-unit gradients of any per-unit loss, clipping, the noisy gradient sum, the engine;
vmap-able dense GNNs for node-level training on subgraphs.

The noise convention (one gradient per unit, clip to ``C``, sum, add N(0, (sigma C)^2), divide by the expected
batch size) is the one accounted by :mod:`dpgraph.privacy.k_occurrence`.
"""

from dpgraph.dpsgd.clip import clip_and_sum
from dpgraph.dpsgd.engine import DPSGDEngine
from dpgraph.dpsgd.gradient_sum import PrivateGradientSum
from dpgraph.dpsgd.losses import root_cross_entropy, row_cross_entropy
from dpgraph.dpsgd.models import DenseGCN, DenseSGC
from dpgraph.dpsgd.per_sample import UnitLoss, clipped_gradient_sum, per_unit_gradients
from dpgraph.dpsgd.unit_sampling import UnitSampling

__all__ = [
    "DPSGDEngine",
    "DenseGCN",
    "DenseSGC",
    "PrivateGradientSum",
    "UnitLoss",
    "UnitSampling",
    "clip_and_sum",
    "clipped_gradient_sum",
    "per_unit_gradients",
    "root_cross_entropy",
    "row_cross_entropy",
]
