"""One gradient per subgraph with ``torch.func``: ``vmap(grad(loss of one subgraph))``."""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap

from dpgraph.dpsgd.batch import DenseSubgraphBatch

LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {"cross_entropy": F.cross_entropy}


def per_sample_gradients(
    model: nn.Module, inputs: tuple[Tensor, ...], y: Tensor, loss: str = "cross_entropy"
) -> dict[str, Tensor]:
    """``{name: [B, *param.shape]}``: gradient of ``loss(model(*inputs_b), y_b)`` for each trainable parameter,
    where ``inputs_b`` is the b-th slice of every tensor in ``inputs`` (one example, unbatched).

    Dropout draws differ per sample (``randomness="different"``); buffers are shared, not updated per sample.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    loss_fn = LOSSES[loss]
    params = {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}
    buffers = {name: b.detach() for name, b in model.named_buffers()}

    def one_loss(p: dict[str, Tensor], example: tuple[Tensor, ...], target: Tensor) -> Tensor:
        logits = functional_call(model, (p, buffers), example)
        return loss_fn(logits.unsqueeze(0), target.unsqueeze(0))

    return vmap(grad(one_loss), in_dims=(None, 0, 0), randomness="different")(params, inputs, y)


def per_subgraph_gradients(
    model: nn.Module, batch: DenseSubgraphBatch, loss: str = "cross_entropy"
) -> dict[str, Tensor]:
    """:func:`per_sample_gradients` with one subgraph (``x``, ``adj``, ``mask``, ``root``) per sample."""
    return per_sample_gradients(model, (batch.x, batch.adj, batch.mask, batch.root), batch.y, loss)
