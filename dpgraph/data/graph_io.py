"""Reading and writing attributed graphs: PyG `Data` (.pt) and a CSV pair (nodes.csv, edges.csv).

nodes.csv: header `id,label,x0,...,x{F-1}`, one row per node (label -1 = unlabelled; an optional `split` column
with train/val/test gives a public split). edges.csv: header `source,target`, each undirected edge once.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
from torch_geometric.data.storage import GlobalStorage
from torch_geometric.utils import coalesce, to_undirected

from dpgraph.errors import DPGraphError

_SAFE_PYG_CLASSES = [Data, DataEdgeAttr, DataTensorAttr, GlobalStorage]
SPLIT_NAMES = ("train", "val", "test")


def save_graph(data: Data, folder: Path) -> None:
    """Write `graph.pt`, `nodes.csv` and `edges.csv` for a graph with `x`, `edge_index`, `y`."""
    folder.mkdir(parents=True, exist_ok=True)
    released = Data(x=data.x.detach().cpu(), edge_index=data.edge_index.cpu(), y=data.y.cpu())
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
    """Load a saved PyG `Data` without unpickling arbitrary objects (only PyG's storage classes are allowed)."""
    if not path.is_file():
        raise DPGraphError(f"graph file {path} does not exist: check 'dataset.path'")
    try:
        with torch.serialization.safe_globals(_SAFE_PYG_CLASSES):
            data = torch.load(path)
    except Exception as err:
        raise DPGraphError(f"could not read {path} as a PyG Data file ({type(err).__name__}): save it with "
                           f"torch.save(Data(x=..., edge_index=..., y=...), path)") from None
    if not isinstance(data, Data) or data.x is None or data.y is None or data.edge_index is None:
        raise DPGraphError(f"{path} must hold a torch_geometric Data with x, edge_index and y")
    data.edge_index = to_undirected(data.edge_index, num_nodes=data.num_nodes)
    return data


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.is_file():
        raise DPGraphError(f"{path} does not exist: a CSV graph folder needs nodes.csv and edges.csv")
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise DPGraphError(f"{path} is empty: it needs a header row and one row per item")
    return rows[0], rows[1:]


def load_graph_csv(folder: Path) -> Data:
    """Load nodes.csv + edges.csv; node ids may be any strings, they are mapped to 0..n-1 in file order."""
    header, rows = _read_rows(folder / "nodes.csv")
    if header[:2] != ["id", "label"]:
        raise DPGraphError(f"{folder / 'nodes.csv'} must start with columns id,label (then feature columns)")
    has_split = "split" in header
    feat_cols = [j for j, h in enumerate(header) if j >= 2 and h != "split"]
    try:
        ids = {row[0]: i for i, row in enumerate(rows)}
        y = torch.tensor([int(row[1]) for row in rows], dtype=torch.long)
        x = torch.tensor(np.array([[float(row[j]) for j in feat_cols] for row in rows], dtype=np.float32))
    except (ValueError, IndexError) as err:
        raise DPGraphError(f"{folder / 'nodes.csv'} has a malformed row ({err}): labels must be integers, "
                           f"features numbers") from None
    data = Data(x=x, y=y, num_nodes=len(rows))
    if has_split:
        split = [row[header.index("split")] for row in rows]
        unknown = set(split) - set(SPLIT_NAMES)
        if unknown:
            raise DPGraphError(f"{folder / 'nodes.csv'}: unknown split value(s) {sorted(unknown)}; use train/val/test")
        for name in SPLIT_NAMES:
            data[f"{name}_mask"] = torch.tensor([s == name for s in split])
    _, edge_rows = _read_rows(folder / "edges.csv")
    try:
        pairs = [(ids[a], ids[b]) for a, b, *_ in edge_rows]
    except (KeyError, ValueError) as err:
        raise DPGraphError(f"{folder / 'edges.csv'} names a node missing from nodes.csv or has a short row ({err})") \
            from None
    edge_index = torch.tensor(pairs, dtype=torch.long).t().reshape(2, -1)
    data.edge_index = coalesce(to_undirected(edge_index, num_nodes=len(rows)), num_nodes=len(rows))
    return data
