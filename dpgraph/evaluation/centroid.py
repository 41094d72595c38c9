"""`centroid`: nearest class centroid by cosine on GCN-propagated features, the design's trivial-floor classifier."""

from __future__ import annotations

import torch
from torch import Tensor

from dpgraph.graphops import normalized_class_sums, propagate, sparse_adjacency, unit_rows
from dpgraph.graphops.conv_operators import gcn_operator


class NearestCentroid(torch.nn.Module):
    """h_v = unit(Â^K x)_v with Â = D^-1/2 (A + I) D^-1/2; logits_v,c = cos(h_v, m_c).

    Fitted in closed form (no gradient step, nothing random): m_c = sum of h_u over the fitting nodes u of class c
    on the graph it is fitted on (a class with no such node gets m_c = 0, cosine 0). With K = 2 and a released
    graph of isolated nodes, m_c is the sum of the released class-c rows' directions."""

    def __init__(self, in_channels: int, num_classes: int, hops: int = 2):
        super().__init__()
        self.hops = hops
        self.register_buffer("centroids", torch.zeros(num_classes, in_channels))

    def propagate(self, x: Tensor, adj: Tensor) -> Tensor:
        """Â^K x; ``adj`` is an ``adj_t`` from `sparse_adjacency` or a plain ``edge_index``."""
        if not adj.is_sparse_csr:
            adj = sparse_adjacency(adj, x.size(0))
        return propagate(x, gcn_operator(adj), self.hops)

    @torch.no_grad()
    def fit(self, x: Tensor, adj: Tensor, y: Tensor, mask: Tensor) -> NearestCentroid:
        """Set m_c from the ``mask`` nodes of this graph; returns self."""
        sums = normalized_class_sums(self.propagate(x, adj)[mask], y[mask], self.centroids.size(0))
        self.centroids = sums.to(self.centroids.dtype)
        return self

    def forward(self, x: Tensor, adj: Tensor) -> Tensor:
        return unit_rows(self.propagate(x, adj)) @ unit_rows(self.centroids).T
