"""Fitting a public conditional generator to a released class-conditional mean embedding (post-processing: it reads
only the released embedding and public randomness), and initialising such a generator from public randomness."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

Module = TypeVar("Module", bound=nn.Module)


def publicly_initialised(build: Callable[[], Module], public: torch.Generator) -> Module:
    """``build()`` with torch's default initialisers seeded from ``public`` (torch's global generator is restored
    afterwards: model initialisation is public randomness and must not depend on, or disturb, the global state)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**62, (1,), generator=public)))
        return build()


def fit_to_embedding(generator: nn.Module, featurise: Callable[[Tensor], Tensor], target: Tensor, weights: Tensor,
                     *, steps: int, batch_size: int, lr: float, latent_dim: int, public: torch.Generator,
                     device: torch.device | str = "cpu", progress: bool = False, desc: str = "fitting") -> None:
    """Adam on ``||target - (1/B) sum_j onehot(y_j) featurise(G(z_j, y_j))^T||_F^2`` (``target`` [C, D]: the squared
    MMD of two class-conditional embeddings under the product of the feature kernel and the label kernel when
    ``target`` is the joint embedding ``S[:, :D] / N``). Each step draws ``B`` labels in proportion to ``weights`` [C]
    (uniform if they sum to zero), then ``z`` [B, latent_dim] standard normal, both from ``public``."""
    num_classes = target.size(0)
    weights = weights if float(weights.sum()) > 0 else torch.ones(num_classes)
    optimizer = torch.optim.Adam(generator.parameters(), lr=lr)
    generator.train()
    for _ in tqdm(range(steps), desc=desc, unit="step", disable=not progress):
        labels = torch.multinomial(weights, batch_size, replacement=True, generator=public)
        z = torch.randn(batch_size, latent_dim, generator=public)
        labels, z = labels.to(device), z.to(device)
        phi = featurise(generator(z, labels))
        embedding = torch.zeros_like(target).index_add_(0, labels, phi) / batch_size
        loss = (target - embedding).pow(2).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
