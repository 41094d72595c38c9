"""One gradient per subgraph with ``torch.func``: ``vmap(grad(loss of one subgraph))``."""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap

from dpgraph.dpsgd.batch import DenseSubgraphBatch

LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {"cross_entropy": F.cross_entropy}


def per_subgraph_gradients(
    model: nn.Module, batch: DenseSubgraphBatch, loss: str = "cross_entropy"
) -> dict[str, Tensor]:
    """``{name: [B, *param.shape]}``: gradient of ``loss(model(subgraph_b), y_b)`` for each trainable parameter.

    Dropout draws differ per subgraph (``randomness="different"``); buffers are shared, not updated per sample.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    loss_fn = LOSSES[loss]
    params = {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}
    buffers = {name: b.detach() for name, b in model.named_buffers()}

    def one_loss(p: dict[str, Tensor], x: Tensor, adj: Tensor, mask: Tensor, root: Tensor, y: Tensor) -> Tensor:
        logits = functional_call(model, (p, buffers), (x, adj, mask, root))
        return loss_fn(logits.unsqueeze(0), y.unsqueeze(0))

    per_sample = vmap(grad(one_loss), in_dims=(None, 0, 0, 0, 0, 0), randomness="different")
    return per_sample(params, batch.x, batch.adj, batch.mask, batch.root, batch.y)
