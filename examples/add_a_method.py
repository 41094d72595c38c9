"""Add a method in one file: ``dp-label-prior``, a node-level DP release of the class sizes.

Importing this file registers the method; a pipeline then names it (``method: {name: dp-label-prior}``). What makes
it a dpgraph method: a parameter schema, the privacy unit it supports, its stages (each spends once through
``context.gaussian`` or ``context.spend``), and the release type it returns (evaluators are chosen by it).

Privacy: unit ``node``. The count of labelled training nodes of each class changes by at most 1 in one entry when a
node is added or removed: L2 sensitivity 1, one Gaussian release (stage ``counts``). The features are public noise
(the run's public generator) and there are no edges: a label prior, the floor any method should beat.

    python examples/add_a_method.py        # registers it and runs it on a generated SBM graph
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from pydantic import Field
from torch_geometric.data import Data

from dpgraph.config.read import read_pipeline_file
from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.mechanisms import MECHANISMS, Mechanism, ReleaseContext
from dpgraph.pipeline import parse_config, run_pipeline
from dpgraph.releases import GraphRelease


class LabelPriorParams(StrictModel):
    """``nodes``: the size of the released graph (public)."""

    nodes: int = Field(default=100, ge=1)


@MECHANISMS.register("dp-label-prior")
class DPLabelPrior(Mechanism):
    name = "dp-label-prior"
    Params = LabelPriorParams
    units = ("node",)
    releases = GraphRelease
    stages = ("counts",)
    default_split = {"counts": 1.0}

    def release(self, graph: GraphDataset, params: LabelPriorParams, context: ReleaseContext) -> GraphRelease:
        d, c = graph.data, graph.num_classes
        labelled = d.train_mask & (d.y >= 0)
        counts = torch.bincount(d.y[labelled], minlength=c).double()
        noisy = context.gaussian("counts", counts, sensitivity=1.0).clamp_min(0.0)
        share = noisy / noisy.sum() if float(noisy.sum()) > 0 else torch.full((c,), 1.0 / c)
        y = torch.multinomial(share, params.nodes, replacement=True, generator=context.public)
        x = torch.randn(params.nodes, graph.num_features, generator=context.public).abs()
        return GraphRelease(Data(x=x, edge_index=torch.zeros(2, 0, dtype=torch.long), y=y))


def run_on_smoke_graph(out: Path) -> dict:
    """pipelines/sbm-smoke.yaml with this method in place of dp-sbm; returns privacy.json's contents."""
    config = read_pipeline_file(Path(__file__).resolve().parents[1] / "pipelines" / "sbm-smoke.yaml")
    config["method"] = {"name": "dp-label-prior", "nodes": 300}
    result = run_pipeline(parse_config(config), out_dir=out, progress=False)
    print(f"epsilon {result.privacy['epsilon']:.3f}, events {[e['stage'] for e in result.privacy['events']]}, "
          f"gcn accuracy {result.metrics['utility']['gcn']['test_acc_mean']:.3f}")
    return result.privacy


if __name__ == "__main__":
    run_on_smoke_graph(Path(tempfile.mkdtemp()) / "label-prior")
