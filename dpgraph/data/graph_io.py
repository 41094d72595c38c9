"""Writing attributed graphs (PyG `Data` as .pt, and the CSV pair read by `dpgraph.data.csv_graph`) and reading .pt.

nodes.csv: header `id,label,x0,...,x{F-1}`, one row per node (label -1 = unlabelled). edges.csv: header
`source,target`, each undirected edge once.
"""

from __future__ import annotations

import csv
from pathlib import Path

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
from torch_geometric.data.storage import GlobalStorage

from dpgraph.data.split import MASKS
from dpgraph.data.validate import check_edges
from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_undirected
from dpgraph.resources import check_memory

_SAFE_PYG_CLASSES = [Data, DataEdgeAttr, DataTensorAttr, GlobalStorage]
_REQUIRED = ("x", "edge_index", "y")
_BYTES_PER_FILE_BYTE = 4  # the loaded tensors, plus the undirected, coalesced copy of the edges


def save_graph(data: Data, folder: Path) -> None:
    """Write `graph.pt`, `nodes.csv` and `edges.csv` for a graph with `x`, `edge_index`, `y`; `graph.pt` also keeps
    the split masks (`MASKS`) the graph carries."""
    folder.mkdir(parents=True, exist_ok=True)
    masks = {key: data[key].cpu() for key in MASKS if key in data}
    released = Data(x=data.x.detach().cpu(), edge_index=data.edge_index.cpu(), y=data.y.cpu(), **masks)
    torch.save(released, folder / "graph.pt")
    x = released.x.numpy()
    with open(folder / "nodes.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "label", *[f"x{j}" for j in range(x.shape[1])]])
        for i, (label, row) in enumerate(zip(released.y.tolist(), x, strict=True)):
            writer.writerow([i, label, *(f"{v:.6g}" for v in row)])
    src, dst = released.edge_index
    keep = src < dst
    with open(folder / "edges.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["source", "target"])
        writer.writerows(zip(src[keep].tolist(), dst[keep].tolist(), strict=True))


def load_graph_pt(path: Path) -> Data:
    """Load a saved PyG `Data` without unpickling arbitrary objects (only PyG's storage classes are allowed).
    Its edges become a simple undirected graph (self-loops dropped, duplicates merged), as for CSV graphs."""
    if not path.is_file():
        raise DPGraphError(f"graph file {path} does not exist: check 'dataset.path'")
    check_memory(_BYTES_PER_FILE_BYTE * path.stat().st_size, f"loading {path}", "use a machine with more memory")
    try:
        with torch.serialization.safe_globals(_SAFE_PYG_CLASSES):
            data = torch.load(path)
    except Exception as err:
        raise DPGraphError(f"could not read {path} as a PyG Data file ({type(err).__name__}): save it with "
                           f"torch.save(Data(x=..., edge_index=..., y=...), path)") from None
    if not isinstance(data, Data) or not all(isinstance(getattr(data, k, None), Tensor) for k in _REQUIRED):
        raise DPGraphError(f"{path} must hold a torch_geometric Data with tensors x, edge_index and y")
    if data.x.dim() != 2:
        raise DPGraphError(f"{path}: x must have shape [num_nodes, num_features]")
    check_edges(data.edge_index, data.x.size(0), str(path))
    data.edge_index = simple_undirected(data.edge_index, data.x.size(0))
    return data
