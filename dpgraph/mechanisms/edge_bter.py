"""`edge-bter`: a class-aware BTER-style structure generator under edge-level DP, on the real node ids.

Privacy unit: edge (neighbouring graphs differ by one undirected edge {u, w}, u != w, added or removed). Node
features, labels and the split are public under this unit and node ids are kept; labels are still read only on the
labelled training nodes, so that evaluation on the other nodes stays clean. Groups (public): g_u = y_u for a
labelled training node u; every other node (validation, test, unlabelled) either shares one extra group C
(``other_nodes: one-group``, G = C + 1) or gets the class a logistic regression fitted on the training nodes'
features and labels predicts for it (``other_nodes: predicted``, G = C). Either way the groups are a function of
public data only (features, training labels, the split; never an edge), so they cost no budget. Both statistics read
the simple undirected graph (self-loops and repeated edges dropped).

Two Gaussian releases, each recorded as ``GaussianEvent(sigma_stage)`` at its stage:

* ``degrees``: the degree vector (d_u)_u, [n]. Removing {u, w} lowers exactly d_u and d_w by 1 and nothing else,
  so Delta_2 = sqrt(2) (Delta_1 = 2: the PGB BTER code's sensitivity of 1 per edge is wrong).
* ``edges``: the group-pair edge counts e_ab = #{edges {u, w}: {g_u, g_w} = {a, b}}, a <= b, the G(G+1)/2 entries
  of the upper triangle in row-major order. The groups are public, so {u, w} lies in exactly one pair
  (min(g_u, g_w), max(g_u, g_w)), whose count changes by 1: Delta_2 = 1.

Post-processing (public randomness only): degrees rounded and clamped to [0, n - 1] (``degree_estimate: rounded``)
or estimated by deconvolution from the noisy vector and its public noise std (``deconvolved``,
`degree_denoising.deconvolved_degrees`); the symmetric block targets
fitted by `dcsbm_sampling.block_edge_targets` to the noisy pair counts and each group's total of those degrees;
edges drawn by `bter_sampling.sample_bter` (``structure: bter``; ``block_density`` is configuration, no clustering
statistic is released) or `dcsbm_sampling.sample_dcsbm` (``structure: dcsbm``) with node u's target degree on node
u. The release keeps the real features, the training labels and the masks (`edge_release`). ``epsilon: null`` runs
the same steps on the exact statistics: the method's ceiling.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import Field
from sklearn.linear_model import LogisticRegression
from torch import Tensor

from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.graphops import simple_pairs
from dpgraph.mechanisms.base import Mechanism, ReleaseContext, numpy_generator
from dpgraph.mechanisms.bter_sampling import sample_bter
from dpgraph.mechanisms.dcsbm_sampling import block_edge_targets, sample_dcsbm
from dpgraph.mechanisms.degree_denoising import deconvolved_degrees
from dpgraph.mechanisms.edge_dp1k import DegreeEstimate, degree_vector, noisy_degrees
from dpgraph.mechanisms.edge_release import synthetic_edges_release
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.releases import GraphRelease

#: L2 sensitivities under the edge unit (module docstring)
PAIR_EDGES_SENSITIVITY = 1.0


def edge_groups(y: Tensor, train_mask: Tensor, num_classes: int) -> Tensor:
    """int64 [n]: y_u on the labelled training nodes, ``num_classes`` on every other node (no other label read)."""
    labelled = train_mask & (y >= 0)
    groups = torch.full_like(y, num_classes, dtype=torch.long)
    groups[labelled] = y[labelled].long()
    return groups


def predicted_groups(x: Tensor, y: Tensor, train_mask: Tensor, num_classes: int) -> Tensor:
    """int64 [n]: y_u on the labelled training nodes, elsewhere the class predicted by a multinomial logistic
    regression (scikit-learn, L2 penalty, C = 1) fitted on their unit-L2 feature rows: public data only. (Unit-L2 rows
    were chosen on CiteSeer's validation nodes over raw and unit-L1 rows, which the penalty underfits.)"""
    labelled = train_mask & (y >= 0)
    rows = (x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)).double().numpy()
    model = LogisticRegression(max_iter=1000).fit(rows[labelled.numpy()], y[labelled].numpy())
    groups = torch.from_numpy(model.predict(rows)).long()
    groups[labelled] = y[labelled].long()
    return groups.clamp(0, num_classes - 1)


def group_pair_edges(edge_index: Tensor, groups: Tensor, num_groups: int) -> Tensor:
    """float64 [G(G+1)/2]: simple edges between groups a <= b, upper triangle in row-major order (the layout
    `block_edge_targets` reads)."""
    first, second = groups[simple_pairs(edge_index, groups.numel())]
    low, high = torch.minimum(first, second), torch.maximum(first, second)
    counts = torch.bincount(low * num_groups + high, minlength=num_groups * num_groups).view(num_groups, num_groups)
    rows, cols = torch.triu_indices(num_groups, num_groups)
    return counts[rows, cols].double()


def target_degrees(noisy: Tensor, num_nodes: int) -> np.ndarray:
    """int64 [n]: released degrees rounded and clamped to [0, n - 1] (post-processing)."""
    return noisy.round().clamp(0, num_nodes - 1).long().numpy()


class EdgeBTERParams(StrictModel):
    """structure: bter (dense affinity blocks, then a class-aware configuration model) or dcsbm (the configuration
    model alone); block_density: BTER's within-block edge probability (public configuration); other_nodes: how the
    nodes outside the labelled training set are grouped; degree_estimate: how the noisy degree vector becomes target
    degrees (module docstring)."""

    structure: Literal["bter", "dcsbm"] = "bter"
    block_density: float = Field(default=0.6, ge=0, le=1)
    other_nodes: Literal["one-group", "predicted"] = "predicted"
    degree_estimate: DegreeEstimate = "rounded"


@MECHANISMS.register("edge-bter")
class EdgeBTER(Mechanism):
    name = "edge-bter"
    Params = EdgeBTERParams
    units = ("edge",)
    private = None
    releases = GraphRelease
    stages = ("degrees", "edges")
    default_split = {"degrees": 0.8, "edges": 0.2}

    def release(self, graph: GraphDataset, params: EdgeBTERParams, context: ReleaseContext) -> GraphRelease:
        d, n, c = graph.data, graph.num_nodes, graph.num_classes
        if params.other_nodes == "predicted":
            groups, num_groups = predicted_groups(d.x, d.y, d.train_mask, c), c
        else:
            groups, num_groups = edge_groups(d.y, d.train_mask, c), c + 1
        degrees, noise_std = noisy_degrees(context, degree_vector(d.edge_index, n))
        pair_edges = context.gaussian_or_exact("edges", group_pair_edges(d.edge_index, groups, num_groups),
                                               PAIR_EDGES_SENSITIVITY)
        if params.degree_estimate == "rounded":
            targets = target_degrees(degrees, n)
        else:
            targets = deconvolved_degrees(degrees, noise_std, context.public)
        totals = np.bincount(groups.numpy(), weights=targets, minlength=num_groups)
        block_edges = block_edge_targets(pair_edges, totals)
        rng = numpy_generator(context.public)
        if params.structure == "bter":
            edge_index = sample_bter(groups, targets, block_edges, params.block_density, rng)
        else:
            edge_index = sample_dcsbm(groups, targets, block_edges, rng)
        return synthetic_edges_release(graph, edge_index)
