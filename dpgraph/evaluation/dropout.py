"""Seeded inverted dropout from 16-bit uniform integers (several times cheaper to draw than `F.dropout`'s Bernoulli
floats), and dropout followed by ReLU in place, whose gradient needs only its output."""

from __future__ import annotations

import math

import torch
from torch import Tensor

_LEVELS = 1 << 16


def drop_probability(p: float) -> float:
    """The drop probability `keep_scale` realises: p rounded to the nearest multiple of 2^-16 (p itself for 0.5,
    0.25, 0.1875, ...)."""
    return round(p * _LEVELS) / _LEVELS


def keep_scale(shape: tuple[int, ...], p: float, generator: torch.Generator, out: Tensor | None = None) -> Tensor:
    """Float32 tensor of `shape` on the generator's device (written into `out` when given): 0 where an entry is
    dropped, 1 / (1 - q) where it is kept, q = `drop_probability(p)` < 1; ``x * keep_scale(x.shape, p, g)`` is
    inverted dropout (E = x).

    Entry k is dropped iff the k-th 16-bit integer cut from 64-bit words drawn from `generator` is among the lowest
    q * 2^16 values; nothing else is read, so a generator seeded alone gives the same mask wherever it is drawn."""
    dropped = round(p * _LEVELS)
    if not 0 <= dropped < _LEVELS:
        raise ValueError(f"dropout p={p} must round to a drop probability in [0, 1)")
    out = torch.empty(shape, device=generator.device) if out is None else out
    if dropped == 0:
        return out.fill_(1.0)
    words = torch.randint(-(2**63), 2**63 - 1, ((math.prod(shape) + 3) // 4,), dtype=torch.int64,
                          generator=generator, device=generator.device)
    threshold = dropped - _LEVELS // 2  # the 16-bit integers are signed: uniform on [-2^15, 2^15)
    kept = words.view(torch.int16)[:math.prod(shape)].clamp_(threshold - 1, threshold).sub_(threshold - 1)
    return out.copy_(kept.view(shape)).mul_(_LEVELS / (_LEVELS - dropped))  # kept: 0 or 1


class _DropoutReLU(torch.autograd.Function):
    """``relu(h * keep)`` in place on `h`. With keep in {0, c}, c > 0, the gradient is c * grad where the output is
    positive and 0 elsewhere, so only the output is kept for the backward pass."""

    @staticmethod
    def forward(ctx, h: Tensor, keep: Tensor, scale: float) -> Tensor:  # type: ignore[override]
        out = h.mul_(keep).relu_()
        ctx.mark_dirty(h)
        ctx.save_for_backward(out)
        ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:  # type: ignore[override]
        (out,) = ctx.saved_tensors
        return torch.ops.aten.threshold_backward(grad, out, 0).mul_(ctx.scale), None, None


def dropout_relu_(h: Tensor, keep: Tensor, p: float) -> Tensor:
    """``relu(h * keep)`` computed in place on `h` (which must be a fresh result nothing else reads), for
    ``keep = keep_scale(h.shape, p, g)``."""
    return _DropoutReLU.apply(h, keep, 1.0 / (1.0 - drop_probability(p)))
