"""`dp-graph-generator`: a full-size synthetic attributed graph under node-level DP.

Privacy unit: node (add/remove one node with its features, label and all its edges). The structure statistics read
the whole graph (every node is protected); labels and features are read only on the labelled training nodes L
(public membership). Five releases, in this order, each recorded in the ledger at its stage:

* ``sizes``: class counts of L, Gaussian, Delta_2 = 1 (`sbm_statistics.class_counts`).
* ``theta``: the projection bound theta, chosen from the public ``theta_grid`` by the exponential mechanism
  (`PureDPEvent`) on `degree_statistics.theta_scores`, whose sensitivity `theta_score_sensitivity` is 2 max(grid).
  Its noise penalty uses the degrees stage's planned noise multiplier, a function of the configuration only.
* ``degrees``: cumulative histograms of the theta-projected degrees (edge addition, Day, Li and Lyu 2016;
  node order a public permutation), one per class over L or one over all nodes (``degree_histograms``), Gaussian,
  Delta_2 = theta + 1 either way (`degree_statistics`).
* ``edges``: flow-capped class-pair edge counts among L, Gaussian, Delta_2 = D sqrt(C) (`sbm_statistics`).
* ``features``: the class-conditional feature generator's statistic (`feature_generator`), one Gaussian release.

Everything after is post-processing of these releases with the public generator: class sizes apportioned to
``num_nodes`` (default: the public node count), per-class degree distributions by isotonic fitting of the noisy
cumulative histograms with a power-law tail above theta (`degree_estimates`), target degrees drawn from them, a
degree-corrected block model whose class-pair totals are the noisy pair counts rescaled to the degree totals
(`dcsbm_sampling`), or its clustering-aware BTER variant (`bter_sampling`; ``block_density`` is configuration, no
clustering statistic is released), and features drawn from the released generator. ``epsilon: null`` runs the same
steps on the exact statistics (theta by the noiseless arg-max): the method's ceiling.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from pydantic import Field, field_validator
from torch import Tensor
from torch_geometric.data import Data

from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.graphops import projected_degrees, theta_projection
from dpgraph.mechanisms.base import Mechanism, ReleaseContext, numpy_generator
from dpgraph.mechanisms.bter_sampling import sample_bter
from dpgraph.mechanisms.dcsbm_sampling import block_edge_targets, draw_degrees, sample_dcsbm
from dpgraph.mechanisms.degree_estimates import degree_pmf, extend_tail
from dpgraph.mechanisms.degree_statistics import (
    class_cumulative_histograms,
    cumulative_histogram_sensitivity,
    theta_score_sensitivity,
    theta_scores,
)
from dpgraph.mechanisms.feature_generator import FeatureGeneratorParams, release_feature_generator
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.mechanisms.sbm_sampling import apportion
from dpgraph.mechanisms.sbm_statistics import capped_pair_edges, class_counts, pair_edges_sensitivity
from dpgraph.privacy import GaussianEvent
from dpgraph.privacy.calibration import noise_multiplier_for
from dpgraph.releases import GraphRelease


class DPGraphGeneratorParams(StrictModel):
    """theta_grid: public candidates for the projection bound; degree_histograms: one cumulative histogram per class
    over the labelled training nodes, or one over all nodes shared by every class; degree_cap: the flow cap D of the
    class-pair counts;
    structure: dcsbm or bter (block_density: BTER's within-block edge probability); max_degree: public cap of the
    degree tail (default num_nodes - 1); num_nodes: synthetic size (default: the public node count)."""

    theta_grid: list[int] = Field(default=[3, 4, 6, 8, 10, 12, 16, 20], min_length=1)
    degree_histograms: Literal["per-class", "pooled"] = "pooled"
    degree_cap: int = Field(default=5, ge=1)
    structure: Literal["dcsbm", "bter"] = "bter"
    block_density: float = Field(default=0.6, ge=0, le=1)
    max_degree: int | None = Field(default=None, ge=1)
    num_nodes: int | None = Field(default=None, ge=2)
    features: FeatureGeneratorParams = FeatureGeneratorParams()

    @field_validator("theta_grid")
    @classmethod
    def _positive_distinct(cls, grid: list[int]) -> list[int]:
        if min(grid) < 1 or len(set(grid)) != len(grid):
            raise ValueError("theta_grid must hold distinct integers >= 1")
        return sorted(grid)


@MECHANISMS.register("dp-graph-generator")
class DPGraphGenerator(Mechanism):
    name = "dp-graph-generator"
    Params = DPGraphGeneratorParams
    units = ("node",)
    private = None
    releases = GraphRelease
    stages = ("sizes", "theta", "degrees", "edges", "features")
    default_split = {"sizes": 0.05, "theta": 0.1, "degrees": 0.3, "edges": 0.15, "features": 0.4}

    def memory_estimate(self, graph: GraphDataset, params: DPGraphGeneratorParams) -> tuple[float, str]:
        """The synthetic features, float32 probabilities and draws [n', F]; the edges are checked by the samplers."""
        nodes = params.num_nodes or graph.num_nodes
        return 12.0 * nodes * graph.num_features, "lower method.num_nodes"

    def release(self, graph: GraphDataset, params: DPGraphGeneratorParams, context: ReleaseContext) -> GraphRelease:
        d, c, n = graph.data, graph.num_classes, graph.num_nodes
        labelled = d.train_mask & (d.y >= 0)
        y = d.y[labelled]
        counts = context.gaussian_or_exact("sizes", class_counts(y, c), 1.0)
        rank = torch.randperm(n, generator=context.public)
        theta = self._theta(d.edge_index, n, rank, c, params, context)
        degrees = projected_degrees(theta_projection(d.edge_index, n, theta, rank), n)
        histograms = context.gaussian_or_exact("degrees", _degree_histograms(degrees, d.y, labelled, c, theta, params),
                                               cumulative_histogram_sensitivity(theta))
        pair_edges = context.gaussian_or_exact("edges",
                                               capped_pair_edges(d.edge_index, d.y, labelled, c, params.degree_cap),
                                               pair_edges_sensitivity(params.degree_cap, c))
        features = release_feature_generator(d.x[labelled], y, c, params.features, context, stage="features")
        total = params.num_nodes or n
        synthetic_y = _labels(counts, total, context.public)
        rng = numpy_generator(context.public)
        max_degree = params.max_degree or total - 1
        sizes = counts if params.degree_histograms == "per-class" else torch.full((1,), float(n))
        pmfs = np.stack([extend_tail(degree_pmf(row, float(size)), theta, max_degree)
                         for row, size in zip(histograms, sizes, strict=True)])
        pmfs = pmfs if params.degree_histograms == "per-class" else np.repeat(pmfs, c, axis=0)
        target_degrees = draw_degrees(synthetic_y, pmfs, rng)
        totals = np.bincount(synthetic_y.numpy(), weights=target_degrees, minlength=c)
        block_edges = block_edge_targets(pair_edges, totals)
        if params.structure == "bter":
            edge_index = sample_bter(synthetic_y, target_degrees, block_edges, params.block_density, rng)
        else:
            edge_index = sample_dcsbm(synthetic_y, target_degrees, block_edges, rng)
        x = features.sample(synthetic_y, context.public)
        masks = {key: d[key][:total].clone() for key in ("train_mask", "val_mask", "test_mask") if total == n}
        return GraphRelease(Data(x=x, edge_index=edge_index, y=synthetic_y, num_nodes=total, **masks))

    def _theta(self, edge_index: Tensor, n: int, rank: Tensor, c: int, params: DPGraphGeneratorParams,
               context: ReleaseContext) -> int:
        """The exponential mechanism's choice from the grid (the noiseless arg-max in a non-private run)."""
        grid = params.theta_grid
        rows = c if params.degree_histograms == "per-class" else 1
        scores = theta_scores(edge_index, n, rank, grid, rows, self._planned_noise(context))
        if not context.private:
            return grid[int(torch.argmax(scores))]
        return grid[context.exponential("theta", scores, theta_score_sensitivity(grid))]

    def _planned_noise(self, context: ReleaseContext) -> float:
        """The noise multiplier a lone Gaussian would get from the degrees stage's share of epsilon: a public
        function of the configuration, used only to weigh noise against projection loss when choosing theta."""
        privacy = context.privacy
        if not privacy.private:
            return 0.0
        share = (privacy.split or self.default_split)["degrees"]
        return noise_multiplier_for(privacy.epsilon * share, privacy.delta, lambda s: GaussianEvent(s))


def _degree_histograms(degrees: np.ndarray, y: Tensor, labelled: Tensor, num_classes: int, theta: int,
                       params: DPGraphGeneratorParams) -> Tensor:
    """Per-class cumulative histograms of the labelled training nodes, or one of all nodes (labels unread): one row
    per class or a single row, with the same sensitivity theta + 1."""
    if params.degree_histograms == "per-class":
        return class_cumulative_histograms(degrees, y, labelled, num_classes, theta)
    everyone = torch.ones_like(labelled)
    return class_cumulative_histograms(degrees, torch.zeros_like(y), everyone, 1, theta)


def _labels(counts: Tensor, total: int, generator: torch.Generator) -> Tensor:
    """``total`` labels with class sizes apportioned to the clamped noisy counts, in a public random order (so the
    copied split masks cut every class alike)."""
    sizes = apportion(counts.clamp_min(1.0), total)
    blocks = torch.cat([torch.full((s,), k, dtype=torch.long) for k, s in enumerate(sizes)])
    return blocks[torch.randperm(total, generator=generator)]
