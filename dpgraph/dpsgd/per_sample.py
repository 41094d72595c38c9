"""Per-unit gradients and their clipped sum, the quantity DP-SGD noises.

A *unit* is what one privacy unit contributes (one node, one rooted subgraph). ``unit_loss(model, batch)`` returns
the loss of each of the ``B`` units of ``batch``, a tuple of tensors with the unit index as leading dim; entry
``b`` must depend only on unit ``b`` and the parameters. :func:`clipped_gradient_sum` computes
``sum_b g_b min(1, C / ||g_b||)`` (``g_b``: the gradient of loss ``b`` over ALL trainable parameters) either
from materialised per-unit gradients (``torch.func``: ``vmap(grad(loss of one unit))``, any model) or by ghost
clipping (:mod:`dpgraph.dpsgd.ghost`, models whose trainable parameters all sit in ``nn.Linear`` modules).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap

from dpgraph.dpsgd.clip import check_groups, clip_and_sum
from dpgraph.dpsgd.ghost import ghost_clipped_gradient_sum, ghost_linears

UnitLoss = Callable[[nn.Module, tuple[Tensor, ...]], Tensor]
"""``unit_loss(model, batch) -> Tensor[B]``: the loss of each unit of ``batch`` (see the module docstring)."""

METHODS = ("auto", "vmap", "ghost")


class _BoundLoss(nn.Module):
    """``unit_loss`` bound to ``model`` as a module, so :func:`torch.func.functional_call` can swap its parameters."""

    def __init__(self, model: nn.Module, unit_loss: UnitLoss):
        super().__init__()
        self.model = model
        self.unit_loss = unit_loss

    def forward(self, *batch: Tensor) -> Tensor:
        return self.unit_loss(self.model, batch)


def per_unit_gradients(model: nn.Module, unit_loss: UnitLoss, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
    """``{name: [B, *param.shape]}``: the gradient of ``unit_loss(model, batch)[b]`` for each unit ``b`` and each
    trainable parameter, via ``vmap(grad(...))``; each unit is passed to ``unit_loss`` as a batch of one.

    Dropout draws differ per unit (``randomness="different"``); buffers are shared, not updated per unit.
    """
    bound = _BoundLoss(model, unit_loss)
    params = {f"model.{name}": p.detach() for name, p in model.named_parameters() if p.requires_grad}
    buffers = {f"model.{name}": b.detach() for name, b in model.named_buffers()}

    def one_loss(p: dict[str, Tensor], unit: tuple[Tensor, ...]) -> Tensor:
        loss = functional_call(bound, (p, buffers), tuple(t.unsqueeze(0) for t in unit))
        if loss.shape != (1,):
            raise ValueError(f"unit_loss must return one loss per unit, shape [B]; got {tuple(loss.shape)} for B=1")
        return loss[0]

    grads = vmap(grad(one_loss), in_dims=(None, 0), randomness="different")(params, batch)
    return {name.removeprefix("model."): g for name, g in grads.items()}


def clipped_gradient_sum(
    model: nn.Module,
    unit_loss: UnitLoss,
    batch: tuple[Tensor, ...],
    clip_norm: float,
    *,
    groups: Tensor | None = None,
    num_groups: int | None = None,
    method: str = "auto",
) -> tuple[dict[str, Tensor], Tensor]:
    """``({name: sum_b g_b min(1, C / ||g_b||)}, ||g_b|| [B])``: the clipped per-unit gradients summed, and their
    norms before clipping (over ALL trainable parameters; those with ``requires_grad=False`` are skipped).

    ``clip_norm`` may be ``math.inf`` (no clipping). With ``groups`` (long [B], ids in ``0..num_groups-1``) each
    summed tensor is ``[num_groups, *param.shape]`` and unit ``b`` adds to block ``groups[b]`` only.
    ``method``: ``"vmap"`` (materialised per-unit gradients, any model), ``"ghost"`` (ghost clipping; ValueError
    naming the module when a trainable parameter sits outside an ``nn.Linear``), ``"auto"`` (ghost when
    applicable, else vmap). Dropout draws independently per unit in both.
    """
    if not (clip_norm > 0):
        raise ValueError(f"clip_norm must be > 0 (math.inf for no clipping), got {clip_norm!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    units = batch[0].size(0)
    check_groups(groups, num_groups, units)
    linears = None
    if method != "vmap":
        try:
            linears = ghost_linears(model)
        except ValueError:
            if method == "ghost":
                raise
    if units == 0:
        lead = () if groups is None else (num_groups,)
        zeros = {name: p.new_zeros(*lead, *p.shape) for name, p in model.named_parameters() if p.requires_grad}
        return zeros, torch.zeros(0, device=batch[0].device)
    if linears is not None:
        return ghost_clipped_gradient_sum(model, linears, unit_loss, batch, clip_norm, groups, num_groups)
    return clip_and_sum(per_unit_gradients(model, unit_loss, batch), clip_norm, groups, num_groups)

