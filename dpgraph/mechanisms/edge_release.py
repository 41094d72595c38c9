"""The release of an edge-level mechanism: the real nodes with synthetic edges.

Under ``unit: edge`` one edge is protected and node features, labels and the split are public, so node ids are kept:
the release holds the real features, the real labels on training nodes only (-1 elsewhere, as `real` releases them,
so that evaluation never trains on a held-out label), the split masks, and the mechanism's synthetic edges.
"""

from __future__ import annotations

from torch import Tensor
from torch_geometric.data import Data

from dpgraph.data.graph import GraphDataset
from dpgraph.data.split import MASKS
from dpgraph.releases import GraphRelease


def synthetic_edges_release(graph: GraphDataset, edge_index: Tensor) -> GraphRelease:
    """The real nodes of ``graph`` (features, training labels, masks) with ``edge_index`` as their edges."""
    d = graph.data
    y = d.y.clone()
    y[~d.train_mask] = -1
    masks = {key: d[key].clone() for key in MASKS if key in d}
    return GraphRelease(Data(x=d.x.clone(), edge_index=edge_index, y=y, num_nodes=graph.num_nodes, **masks))
