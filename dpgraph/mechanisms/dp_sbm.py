"""`dp-sbm`: a node-level DP statistical baseline (stochastic block model with per-class Bernoulli features).

Privacy unit: node (add/remove one node with its features, label and edges). Only labelled training nodes are
read. Three Gaussian releases, each recorded as GaussianEvent(sigma_stage) in the ledger (sensitivities derived
in `sbm_statistics`): stage `sizes` (class counts, Delta_2 = 1), `edges` (flow-capped class-pair edge counts,
Delta_2 = D sqrt(C)), `features` (per-class sums of features clipped to norm R, Delta_2 = R; each entry is first
clamped to [0, 1], a per-node transform, so real-valued features should be rescaled by the user beforehand).
Each stage's sigma is calibrated so the ledger's running epsilon reaches that stage's cumulative share of the
budget. Sampling the graph from the noisy statistics is post-processing. A plain SBM, not degree-corrected:
releasing a degree sequence is not node-stable without a further Lipschitz extension.
"""

from __future__ import annotations

from pydantic import Field

from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.mechanisms.base import Mechanism, ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.mechanisms.sbm_sampling import sample_sbm_graph
from dpgraph.mechanisms.sbm_statistics import (
    capped_pair_edges,
    class_counts,
    feature_sums,
    pair_edges_sensitivity,
)
from dpgraph.releases import GraphRelease


class DPSBMParams(StrictModel):
    """degree_cap: public cap D on each node's neighbours per class; feature_clip: public L2 clip norm R of a
    node's feature vector; num_nodes: synthetic graph size (default: the noisy count of labelled nodes)."""

    degree_cap: int = Field(default=5, ge=1)
    feature_clip: float = Field(default=5.0, gt=0)
    num_nodes: int | None = Field(default=None, ge=2)


@MECHANISMS.register("dp-sbm")
class DPSBM(Mechanism):
    name = "dp-sbm"
    Params = DPSBMParams
    units = ("node",)
    releases = GraphRelease
    stages = ("sizes", "edges", "features")
    default_split = {"sizes": 0.2, "edges": 0.3, "features": 0.5}

    def memory_estimate(self, graph: GraphDataset, params: DPSBMParams) -> tuple[float, str]:
        """The synthetic features: float32 means and Bernoulli draws, [n', F] each, n' = num_nodes (default at most
        about the public node count); the edges are checked by the block sampler itself."""
        nodes = params.num_nodes or graph.num_nodes
        return 12.0 * nodes * graph.num_features, "lower method.num_nodes"

    def release(self, graph: GraphDataset, params: DPSBMParams, context: ReleaseContext) -> GraphRelease:
        d, c = graph.data, graph.num_classes
        labelled = d.train_mask & (d.y >= 0)
        y = d.y[labelled]
        counts = context.gaussian("sizes", class_counts(y, c), 1.0)
        edges = capped_pair_edges(d.edge_index, d.y, labelled, c, params.degree_cap)
        pairs = context.gaussian("edges", edges, pair_edges_sensitivity(params.degree_cap, c))
        features = d.x[labelled].clamp(0.0, 1.0)  # per-entry, data-independent: Bernoulli features live in [0, 1]
        sums = context.gaussian("features", feature_sums(features, y, c, params.feature_clip), params.feature_clip)
        return GraphRelease(sample_sbm_graph(counts, pairs, sums, params.num_nodes, context.public))
