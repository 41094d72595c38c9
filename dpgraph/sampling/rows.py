"""Row-wise tensor helpers shared by the samplers (vectorised; no Python loop over rows)."""

from __future__ import annotations

import torch
from torch import Tensor

from dpgraph.sampling.subgraphs import PAD


def dedupe_rows(ids: Tensor) -> Tensor:
    """Drop repeated ids within each row of ``ids`` [N, M] (``PAD`` = empty), keep first occurrences in their
    order, left-align and pad to the longest row. Column 0 survives whenever it is not ``PAD``."""
    rows, width = ids.shape
    if rows == 0 or width == 0:
        return ids
    valid = ids != PAD
    row = torch.arange(rows, device=ids.device).unsqueeze(1).expand_as(ids)[valid]
    pos = torch.arange(width, device=ids.device).unsqueeze(0).expand_as(ids)[valid]
    node = ids[valid]
    span = int(node.max()) + 1 if node.numel() else 1
    order = torch.argsort((row * span + node) * width + pos)  # groups (row, node), earliest position first
    key = (row * span + node)[order]
    first = torch.ones_like(key, dtype=torch.bool)
    first[1:] = key[1:] != key[:-1]
    keep = order[first]
    keep = keep[torch.argsort(row[keep] * width + pos[keep])]  # back to (row, position) order
    return pack_rows(row[keep], node[keep], rows)


def pack_rows(row: Tensor, node: Tensor, rows: int) -> Tensor:
    """Left-aligned [rows, max count] table of ``node`` values grouped by ``row`` (``row`` sorted ascending)."""
    counts = torch.bincount(row, minlength=rows)
    width = int(counts.max()) if counts.numel() and row.numel() else 1
    starts = torch.cumsum(counts, 0) - counts
    col = torch.arange(row.numel(), device=row.device) - starts[row]
    out = torch.full((rows, max(width, 1)), PAD, dtype=torch.long, device=row.device)
    out[row, col] = node
    return out
