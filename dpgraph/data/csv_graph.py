"""Reading a graph from a CSV pair (nodes.csv, edges.csv), UTF-8 (a byte-order mark is allowed).

nodes.csv: header `id,label,x0,...,x{F-1}` (F >= 1 feature columns, any names), one row per node; ids are
non-empty, unique strings (surrounding spaces ignored); labels are integers, -1 = unlabelled; features are numbers.
An optional `split` column with train/val/test gives a public split. edges.csv: header `source,target`, one
undirected edge per row naming two node ids. The graph is simple: self-loops are dropped and repeated edges
(either direction) merged. Blank lines are skipped. Errors name the file and line, not the values found there.
"""

from __future__ import annotations

import csv
from array import array
from collections.abc import Iterator
from pathlib import Path

import torch
from torch_geometric.data import Data

from dpgraph.data.split import MASKS
from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_undirected
from dpgraph.resources import check_memory

SPLIT_NAMES = ("train", "val", "test")
EDGE_HEADER = ["source", "target"]
# rough upper bounds on the bytes held per byte of file (a value takes >= 2 bytes, an edge line >= 4)
_NODE_BYTES_PER_FILE_BYTE, _EDGE_BYTES_PER_FILE_BYTE = 8, 32


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each non-blank record; the first is the header."""
    if not path.is_file():
        raise DPGraphError(f"{path} does not exist: a CSV graph folder needs nodes.csv and edges.csv")
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except OSError as err:
        raise DPGraphError(f"cannot read {path} ({err.strerror}): check its permissions") from None
    with fh:
        reader = csv.reader(fh)
        try:
            for row in reader:
                if row:
                    yield reader.line_num, row
        except UnicodeDecodeError:
            raise DPGraphError(f"{path} is not UTF-8 text: save it as UTF-8") from None
        except csv.Error as err:
            raise DPGraphError(f"{path} line {reader.line_num}: {err}; fix the CSV syntax") from None


def _header(path: Path, records: Iterator[tuple[int, list[str]]]) -> list[str]:
    first = next(records, None)
    if first is None:
        raise DPGraphError(f"{path} is empty: it needs a header row and one row per item")
    names = [name.strip() for name in first[1]]
    if len(set(names)) != len(names):
        raise DPGraphError(f"{path}: the header names a column twice; give every column its own name")
    return names


def _check_size(folder: Path) -> None:
    """Refuse, from the file sizes, a graph too large to hold in memory."""
    nodes, edges = (folder / name for name in ("nodes.csv", "edges.csv"))
    size = sum(f.stat().st_size * k for f, k in ((nodes, _NODE_BYTES_PER_FILE_BYTE),
                                                  (edges, _EDGE_BYTES_PER_FILE_BYTE)) if f.is_file())
    check_memory(size, f"loading the CSV graph in {folder}", "use a machine with more memory")


def _read_nodes(path: Path) -> tuple[dict[str, int], Data]:
    """Node ids -> index (file order), and a `Data` with x, y and (with a split column) the split masks."""
    records = _records(path)
    names = _header(path, records)
    if names[:2] != ["id", "label"]:
        raise DPGraphError(f"{path} must be comma-separated and start with columns id,label (then feature columns, "
                           f"optionally split)")
    split_col = names.index("split") if "split" in names else None
    feature_cols = [j for j in range(2, len(names)) if j != split_col]
    if not feature_cols:
        raise DPGraphError(f"{path} has no feature columns: add at least one after id,label")
    ids: dict[str, int] = {}
    lines: list[int] = []
    labels, features, splits = array("q"), array("f"), []
    for line, row in records:
        if len(row) != len(names):
            raise DPGraphError(f"{path} line {line} has {len(row)} fields, the header {len(names)}: "
                               f"give every node one value per column")
        node = row[0].strip()
        if not node:
            raise DPGraphError(f"{path} line {line} has an empty id: give every node an id")
        if node in ids:
            raise DPGraphError(f"{path} line {line} repeats the id of line {lines[ids[node]]}: node ids must be "
                               f"unique")
        try:
            labels.append(int(row[1]))
        except (ValueError, OverflowError):
            raise DPGraphError(f"{path} line {line} has a malformed label: labels must be integers "
                               f"(-1 = unlabelled)") from None
        try:
            features.extend(float(row[j]) for j in feature_cols)
        except ValueError:
            raise DPGraphError(f"{path} line {line} has a malformed or missing feature value: features must be "
                               f"numbers") from None
        if split_col is not None:
            splits.append(row[split_col].strip())
        ids[node] = len(lines)
        lines.append(line)
    if not ids:
        raise DPGraphError(f"{path} has no node rows: add one row per node after the header")
    n = len(ids)
    x = torch.frombuffer(features, dtype=torch.float32).reshape(n, len(feature_cols)).clone()
    data = Data(x=x, y=torch.frombuffer(labels, dtype=torch.long).clone(), num_nodes=n)
    if split_col is not None:
        unknown = sorted(set(splits) - set(SPLIT_NAMES))
        if unknown:
            raise DPGraphError(f"{path}: unknown split value(s) {unknown[:5]}; use train/val/test")
        for name, mask in zip(SPLIT_NAMES, MASKS, strict=True):
            data[mask] = torch.tensor([s == name for s in splits], dtype=torch.bool)
    return ids, data


def _read_edges(path: Path, ids: dict[str, int]) -> torch.Tensor:
    """The edges as a [2, E] index tensor, in file order."""
    records = _records(path)
    if _header(path, records) != EDGE_HEADER:
        raise DPGraphError(f"{path} must start with the header line source,target (without it, the first edge "
                           f"would be read as the header); edges are unweighted, with no other columns")
    ends = array("q")
    for line, row in records:
        if len(row) != 2:
            raise DPGraphError(f"{path} line {line} has {len(row)} fields: an edge is source,target")
        try:
            ends.extend(ids[end.strip()] for end in row)
        except KeyError:
            raise DPGraphError(f"{path} line {line} names a node missing from nodes.csv: every edge must join "
                               f"two listed ids") from None
    if not ends:
        return torch.empty(2, 0, dtype=torch.long)
    return torch.frombuffer(ends, dtype=torch.long).reshape(-1, 2).t()


def load_graph_csv(folder: Path) -> Data:
    """Load nodes.csv + edges.csv (format: this module's docstring); node ids map to 0..n-1 in file order."""
    _check_size(folder)
    ids, data = _read_nodes(folder / "nodes.csv")
    data.edge_index = simple_undirected(_read_edges(folder / "edges.csv", ids), data.num_nodes)
    return data
