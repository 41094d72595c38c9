"""Node-level DP-SGD on subgraphs: dense batches, vmap-able models, per-subgraph gradients, clipping, engine.

The noise convention (one gradient per subgraph, clip to ``C``, sum, add N(0, (sigma C)^2), divide by the
expected batch size) is the one accounted by :mod:`dpgraph.privacy.k_occurrence`.
"""

from dpgraph.dpsgd.batch import DenseSubgraphBatch
from dpgraph.dpsgd.clip import clip_and_sum
from dpgraph.dpsgd.engine import DPSGDEngine
from dpgraph.dpsgd.models import DenseGCN, DenseSGC
from dpgraph.dpsgd.noise import add_gaussian_noise
from dpgraph.dpsgd.per_sample import per_subgraph_gradients

__all__ = [
    "DPSGDEngine",
    "DenseGCN",
    "DenseSGC",
    "DenseSubgraphBatch",
    "add_gaussian_noise",
    "clip_and_sum",
    "per_subgraph_gradients",
]
