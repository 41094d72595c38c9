"""Book-keeping ghost clipping (Bu et al. 2022, "Differentially private optimization on large model at small cost"):
the clipped per-unit gradient sum of a model whose trainable parameters all sit in ``nn.Linear`` modules, from one
forward and one backward, without per-unit gradients in memory and without a second backward.

A Linear ``y = a W^T + bias`` sees, for unit ``b``, activations ``a_b`` [T, d_in] (T: the middle dims flattened,
1 when absent; a module called several times concatenates its calls along T) and receives the output gradient
``g_b = d loss_b / d y_b`` [T, d_out]. Since ``loss_b`` depends on unit ``b`` only, ``g`` is the gradient of
``sum_b loss_b``, and unit ``b``'s gradients are ``grad_W = g_b^T a_b`` and ``grad_bias = sum_t g_bt``. Hence

    ||grad_W||_F^2 = <a_b a_b^T, g_b g_b^T>_F   (ghost norm: T^2 (d_in + d_out) per unit, then the sum below)
                   = ||g_b^T a_b||_F^2          (materialised: T d_in d_out per unit, kept for the sum),

the ghost norm where ``T (d_in + d_out) < d_in d_out`` (the crossover measured on CPU: a batched matmul that
materialises ``g_b^T a_b`` is memory-bound), ``||g_b||^2`` sums these over all layers, and with
``c_b = min(1, C / ||g_b||)``

    sum_b c_b grad_W = sum_b (c_b g_b)^T a_b    (one matmul over units and T, as in a plain backward; per group),

the book-keeping step: ``a`` and ``g`` are kept from the one backward, which takes ``torch.autograd.grad`` of
``sum_b loss_b`` with respect to the Linear outputs only, so it skips the weight gradients of a plain backward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from dpgraph.dpsgd.clip import clip_scale, weighted_sum

if TYPE_CHECKING:
    from dpgraph.dpsgd.per_sample import UnitLoss


def ghost_linears(model: nn.Module) -> dict[str, nn.Linear]:
    """``{module name: nn.Linear}`` holding the trainable parameters of ``model``; ValueError naming the module
    when one is held elsewhere (an exact ``nn.Linear`` is required: a subclass may change the forward), or when one
    parameter is shared by several modules (its per-unit norm would not split over them)."""
    linears: dict[str, nn.Linear] = {}
    seen: set[int] = set()
    for name, module in model.named_modules():
        own = [(pname, p) for pname, p in module.named_parameters(recurse=False) if p.requires_grad]
        if not own:
            continue
        if type(module) is not nn.Linear:
            raise ValueError(f"ghost clipping needs every trainable parameter in an nn.Linear; module "
                             f"{name or '<root>'!r} ({type(module).__name__}) holds {[pname for pname, _ in own]}")
        if seen & {id(p) for _, p in own}:
            raise ValueError(f"ghost clipping: module {name!r} shares a trainable parameter with another module")
        seen |= {id(p) for _, p in own}
        linears[name] = module
    return linears


def _units(t: Tensor, units: int, name: str) -> Tensor:
    """``t`` [B, *T, d] as [B, T, d] (T = 1 when absent)."""
    if t.dim() < 2 or t.size(0) != units:
        raise ValueError(f"ghost clipping: module {name!r} was called on shape {tuple(t.shape)}; the unit index "
                         f"must be its leading dim, of size {units}")
    return t.reshape(units, -1, t.size(-1))


def _along_t(parts: list[Tensor], losses: Tensor, features: int) -> Tensor:
    """The calls of one module concatenated along T, [B, T, features]; T = 0 (a zero gradient) when never called."""
    if len(parts) == 1:
        return parts[0]  # torch.cat would copy
    return torch.cat(parts, 1) if parts else losses.new_zeros(losses.size(0), 0, features)


def _outer_sum(g: Tensor, a: Tensor, segments: tuple[Tensor, list[int]] | None) -> Tensor:
    """``sum_b g_b^T a_b`` [d_out, d_in]; with ``segments`` (unit order sorted by group, group sizes): one sum per
    group, [num_groups, d_out, d_in]."""
    if segments is None:
        return g.flatten(0, 1).mT @ a.flatten(0, 1)
    order, sizes = segments
    blocks = zip(g[order].split(sizes), a[order].split(sizes), strict=True)
    return torch.stack([gk.flatten(0, 1).mT @ ak.flatten(0, 1) for gk, ak in blocks])


def ghost_clipped_gradient_sum(
    model: nn.Module,
    linears: dict[str, nn.Linear],
    unit_loss: UnitLoss,
    batch: tuple[Tensor, ...],
    clip_norm: float,
    groups: Tensor | None = None,
    num_groups: int | None = None,
) -> tuple[dict[str, Tensor], Tensor]:
    """The ghost path of :func:`dpgraph.dpsgd.per_sample.clipped_gradient_sum` (same contract, arguments checked
    there; ``linears``: :func:`ghost_linears` of ``model``): ``({name: sum_b c_b g_b}, ||g_b|| [B])`` by the
    identities of the module docstring."""
    units = batch[0].size(0)
    calls: dict[str, list[tuple[Tensor, int, Tensor]]] = {name: [] for name in linears}

    def saver(name: str) -> Callable[[nn.Module, tuple[Tensor, ...], Tensor], Tensor]:
        def save(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> Tensor:
            calls[name].append((inputs[0].detach(), inputs[0]._version, output))
            return output.clone()  # an in-place op downstream then leaves the saved output's gradient intact

        return save

    handles = [module.register_forward_hook(saver(name)) for name, module in linears.items()]
    try:
        losses = unit_loss(model, batch)
    finally:
        for handle in handles:
            handle.remove()
    if losses.shape != (units,):
        raise ValueError(f"unit_loss must return one loss per unit, shape [{units}]; got {tuple(losses.shape)}")
    outputs = [output for name in linears for _, _, output in calls[name]]
    out_grads = iter(torch.autograd.grad(losses.sum(), outputs, allow_unused=True, materialize_grads=True)
                     if outputs else ())

    sq_norms = losses.new_zeros(units)
    per_unit: dict[str, Tensor] = {}  # gradients kept per unit: biases, and weights materialised for their norm
    factored: dict[str, tuple[Tensor, Tensor]] = {}  # weights kept as (g, a)
    order: list[str] = []  # as model.named_parameters(), which visits modules in named_modules() order
    for name, module in linears.items():
        for x, version, _ in calls[name]:
            if x._version != version:
                raise RuntimeError(f"ghost clipping: the input of module {name!r} was modified in place after use")
        a = _along_t([_units(x, units, name) for x, _, _ in calls[name]], losses, module.in_features)
        g = _along_t([_units(next(out_grads), units, name) for _ in calls[name]], losses, module.out_features)
        prefix = f"{name}." if name else ""
        order += [f"{prefix}{p}" for p, param in module.named_parameters() if param.requires_grad]
        if module.weight.requires_grad:
            t, d_in, d_out = a.size(1), module.in_features, module.out_features
            if t * (d_in + d_out) < d_in * d_out:
                sq_norms += ((a @ a.mT) * (g @ g.mT)).sum((1, 2))
                factored[f"{prefix}weight"] = (g, a)
            else:
                per_unit[f"{prefix}weight"] = g.mT @ a
                sq_norms += per_unit[f"{prefix}weight"].pow(2).sum((1, 2))
        if module.bias is not None and module.bias.requires_grad:
            per_unit[f"{prefix}bias"] = g.sum(1)
            sq_norms += per_unit[f"{prefix}bias"].pow(2).sum(1)

    norms = sq_norms.clamp_min(0).sqrt()
    scale = clip_scale(norms, clip_norm)
    segments = None if groups is None else (groups.argsort(), torch.bincount(groups, minlength=num_groups).tolist())
    summed = weighted_sum(per_unit, scale, groups, num_groups)
    summed |= {name: _outer_sum(g * scale[:, None, None].to(g.dtype), a, segments)
               for name, (g, a) in factored.items()}
    return {name: summed[name] for name in order}, norms
