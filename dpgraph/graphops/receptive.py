"""Receptive fields of message passing: the nodes an L-layer model reads to produce some output rows, the blocks of a
sparse operator between those node sets, and their product with dense matrices (gradient through a transpose built
once per pattern, on first use)."""

from __future__ import annotations

from functools import cached_property

import torch
from torch import Tensor


def row_entries(crow: Tensor, rows: Tensor) -> tuple[Tensor, Tensor]:
    """(positions in the CSR value arrays of the entries stored in `rows`, in row order; the count of each row)."""
    starts, counts = crow[rows], crow[rows + 1] - crow[rows]
    first = torch.cumsum(counts, 0) - counts
    within = torch.arange(int(counts.sum()), device=crow.device) - torch.repeat_interleave(first, counts)
    return torch.repeat_interleave(starts, counts) + within, counts


def receptive_field(adj: Tensor, targets: Tensor) -> Tensor:
    """Sorted ``targets ∪ {j : adj[i, j] stored, i ∈ targets}``: where one round of ``h -> f(adj @ h, h)`` must know
    ``h`` to produce rows `targets`. ``adj`` is CSR [n, n]; ``targets`` a sorted tensor of node ids."""
    if targets.numel() == adj.size(0):
        return targets
    seen = torch.zeros(adj.size(0), dtype=torch.bool, device=targets.device)
    entries, _ = row_entries(adj.crow_indices(), targets)
    seen[adj.col_indices()[entries]] = True
    seen[targets] = True
    return seen.nonzero().flatten()


def csr_rows(matrix: Tensor, rows: Tensor, cols: Tensor | None = None) -> Tensor:
    """CSR ``matrix[rows][:, cols]``; ``cols`` (sorted, None: all) must hold every column the rows store."""
    every_col = cols is None or cols.numel() == matrix.size(1)
    if rows.numel() == matrix.size(0) and every_col:
        return matrix
    entries, counts = row_entries(matrix.crow_indices(), rows)
    col = matrix.col_indices()[entries]
    width = matrix.size(1)
    if not every_col:
        position = torch.full((width,), -1, dtype=col.dtype, device=col.device)
        position[cols] = torch.arange(cols.numel(), device=col.device)
        col, width = position[col], cols.numel()
    crow = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])
    return torch.sparse_csr_tensor(crow, col, matrix.values()[entries], (rows.numel(), width))


class _Pattern:
    """The sparsity pattern of a CSR matrix and, built on first use, that of its transpose with ``perm``:
    ``M.T.values() == M.values()[perm]``."""

    def __init__(self, matrix: Tensor):
        self.crow, self.col, self.shape = matrix.crow_indices(), matrix.col_indices(), matrix.shape

    @cached_property
    def transposed(self) -> tuple[Tensor, Tensor, Tensor]:
        rows, cols = self.shape
        row = torch.repeat_interleave(torch.arange(rows, device=self.crow.device), self.crow.diff())
        perm = torch.argsort(self.col * rows + row)
        crow_t = torch.cat([self.crow.new_zeros(1), torch.cumsum(torch.bincount(self.col, minlength=cols), 0)])
        return crow_t, row[perm], perm


class SparseBlock:
    """A fixed sparse matrix M (CSR): ``apply(h) = M @ h``, differentiable in ``h`` (gradient ``M.T @ grad``, the
    transpose built once, at the first backward, and shared by `with_values` copies)."""

    def __init__(self, matrix: Tensor, pattern: _Pattern | None = None):
        self.matrix = matrix
        self.pattern = pattern or _Pattern(matrix)

    def with_values(self, values: Tensor) -> SparseBlock:
        """The same pattern carrying `values` (in ``matrix``'s order)."""
        p = self.pattern
        return SparseBlock(torch.sparse_csr_tensor(p.crow, p.col, values, p.shape), p)

    @cached_property
    def transpose(self) -> Tensor:
        crow_t, col_t, perm = self.pattern.transposed
        return torch.sparse_csr_tensor(crow_t, col_t, self.matrix.values()[perm], (self.shape[1], self.shape[0]))

    @property
    def shape(self) -> torch.Size:
        return self.pattern.shape

    def apply(self, dense: Tensor) -> Tensor:
        return _Apply.apply(self, dense)


class _Apply(torch.autograd.Function):
    """``block.matrix @ dense`` whose gradient with respect to ``dense`` is ``block.transpose @ grad``."""

    @staticmethod
    def forward(ctx, block: SparseBlock, dense: Tensor) -> Tensor:  # type: ignore[override]
        ctx.block = block
        return block.matrix @ dense

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[None, Tensor]:  # type: ignore[override]
        return None, ctx.block.transpose @ grad

