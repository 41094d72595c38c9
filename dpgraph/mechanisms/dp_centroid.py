"""`dp-centroid`: the trivial DP floor, one released node per class.

Privacy unit: node (add/remove one node with its features, label and edges) or attributes (replace one node's
features and label; edges public). Only labelled training nodes are read; edges are not read at all. Each node's
feature vector is scaled to unit L2 norm (a per-node transform), and the per-class sums
S_c = sum_{u in L_c} x_u / ||x_u||_2 form a [C, F] matrix whose L2 (Frobenius) sensitivity is 1 under add/remove
(one node changes one row by a vector of norm <= 1) and 2 under replace-one (one unit vector leaves its row, another
enters a row: :func:`~dpgraph.privacy.units.sum_sensitivity`). One Gaussian release of S (stage `sums`,
recorded as GaussianEvent(sigma), sigma calibrated to the whole budget). Class counts are not released: the
classifiers downstream only use the centroid directions, which S_c already gives.

The released graph (post-processing) has C isolated nodes: node c has features max(S_c + noise, 0) and label c.
A model trained on it (SGC/GCN, propagating over the real graph at test time) is a noisy nearest-centroid
classifier on propagated features; the `centroid` evaluation model is exactly that classifier.

Non-private mode (``epsilon: null``): the exact sums S_c, the noiseless ceiling of this release.
"""

from __future__ import annotations

import torch
from torch_geometric.data import Data

from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.graphops import normalized_class_sums
from dpgraph.mechanisms.base import Mechanism, ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.privacy.units import sum_sensitivity
from dpgraph.releases import GraphRelease


class DPCentroidParams(StrictModel):
    """`dp-centroid` takes no parameters."""


@MECHANISMS.register("dp-centroid")
class DPCentroid(Mechanism):
    name = "dp-centroid"
    Params = DPCentroidParams
    units = ("node", "attributes")
    private = None
    releases = GraphRelease
    stages = ("sums",)
    default_split = {"sums": 1.0}

    def release(self, graph: GraphDataset, params: DPCentroidParams, context: ReleaseContext) -> GraphRelease:
        d, c = graph.data, graph.num_classes
        labelled = d.train_mask & (d.y >= 0)
        sums = normalized_class_sums(d.x[labelled], d.y[labelled], c)
        if context.private:
            sums = context.gaussian("sums", sums, sum_sensitivity(context.privacy.unit, 1.0))
        return GraphRelease(Data(x=sums.clamp_min(0.0).float(), edge_index=torch.zeros(2, 0, dtype=torch.long),
                                 y=torch.arange(c), num_nodes=c))
