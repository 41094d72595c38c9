"""GNN and MLP classifiers used to measure the utility of a released graph."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GCNConv, SAGEConv, SGConv

from dpgraph.evaluation.centroid import NearestCentroid
from dpgraph.registry import Registry


def feature_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """`F.dropout(x, p, training)`; on mostly-zero `x` only the non-zero entries are sampled.

    Zeros stay zero under dropout, so both paths have the same distribution; the sparse one is much
    cheaper for bag-of-words features such as Cora's (about 1% non-zero).
    """
    if not training or p == 0 or 4 * int(x.count_nonzero()) > x.numel():
        return F.dropout(x, p, training)
    idx = x.nonzero(as_tuple=True)
    return torch.zeros_like(x).index_put_(idx, F.dropout(x[idx], p, training=True))


class _TwoLayer(torch.nn.Module):
    """dropout -> layer1 -> ReLU -> dropout -> layer2; layers get `edge_index` only when `uses_edges`."""

    def __init__(self, layer1: torch.nn.Module, layer2: torch.nn.Module, dropout: float, uses_edges: bool):
        super().__init__()
        self.layer1 = layer1
        self.layer2 = layer2
        self.dropout = dropout
        self.uses_edges = uses_edges

    def _run(self, layer: torch.nn.Module, x: Tensor, edge_index: Tensor) -> Tensor:
        return layer(x, edge_index) if self.uses_edges else layer(x)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        x = feature_dropout(x, self.dropout, self.training)
        x = self._run(self.layer1, x, edge_index).relu()
        x = F.dropout(x, self.dropout, self.training)
        return self._run(self.layer2, x, edge_index)


class _SGC(torch.nn.Module):
    """Simplified graph convolution: a linear classifier on 2-hop propagated features (no dropout)."""

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.conv = SGConv(in_channels, num_classes, K=2)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.conv(x, edge_index)


_Builder = Callable[[int, int, int, float], torch.nn.Module]

#: evaluation models selectable in ``evaluate.models``: ``(in_channels, hidden, num_classes, dropout) -> module``
MODELS: Registry[_Builder] = Registry("model", "evaluate.models")
MODELS.register("gcn")(lambda i, h, c, p: _TwoLayer(GCNConv(i, h), GCNConv(h, c), p, uses_edges=True))
MODELS.register("sage")(lambda i, h, c, p: _TwoLayer(SAGEConv(i, h), SAGEConv(h, c), p, uses_edges=True))
MODELS.register("mlp")(lambda i, h, c, p: _TwoLayer(torch.nn.Linear(i, h), torch.nn.Linear(h, c), p, uses_edges=False))
MODELS.register("sgc")(lambda i, h, c, p: _SGC(i, c))
MODELS.register("centroid")(lambda i, h, c, p: NearestCentroid(i, c))
MODEL_NAMES: tuple[str, ...] = tuple(MODELS.names())


def build_model(
    name: str, in_channels: int, num_classes: int, hidden: int = 64, dropout: float = 0.5
) -> torch.nn.Module:
    """Return an untrained classifier with `forward(x, edge_index) -> logits [n, num_classes]`.

    `edge_index` may also be a sparse `adj_t` (see `sparse_adjacency`), as with any PyG layer.
    gcn/sage: two GCNConv/SAGEConv layers; mlp: two Linear layers that ignore `edge_index`; all three
    use ReLU and dropout on the input and hidden layer. sgc: one SGConv with K=2 (linear; `hidden` and
    `dropout` unused). centroid: `NearestCentroid`, cosine to class centroids of Â²x, fitted in closed form by
    `train_on_released` (`hidden` and `dropout` unused).
    Graph layers do not cache normalised adjacency, so a model trained on one graph can run on another.
    Raises DPGraphError for an unknown name.
    """
    return MODELS.get(name)(in_channels, hidden, num_classes, dropout)
