"""`real`: the non-private reference; the released graph is the real training graph."""

from __future__ import annotations

from torch_geometric.data import Data

from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.mechanisms.base import Mechanism, ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.releases import GraphRelease


class RealParams(StrictModel):
    """`real` takes no parameters."""


@MECHANISMS.register("real")
class RealGraph(Mechanism):
    """Releases the whole real graph (features, edges) with labels kept only on training nodes (others -1),
    so a model trained on it is the usual transductive semi-supervised baseline. Not private."""

    name = "real"
    Params = RealParams
    private = False
    releases = GraphRelease

    def release(self, graph: GraphDataset, params: RealParams, context: ReleaseContext) -> GraphRelease:
        d = graph.data
        y = d.y.clone()
        y[~d.train_mask] = -1
        return GraphRelease(Data(x=d.x.clone(), edge_index=d.edge_index.clone(), y=y))
