"""Per-subgraph gradients (torch.func) against one-at-a-time autograd; clipping to the total L2 norm."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dpgraph.dpsgd import DenseGCN, DenseSGC, DenseSubgraphBatch, clip_and_sum, per_subgraph_gradients
from dpgraph.dpsgd.batch import normalized_adjacency


def random_batch(sizes: list[int], max_size: int, features: int, classes: int, seed: int) -> DenseSubgraphBatch:
    """Random symmetric graphs of the given sizes, padded to ``max_size``."""
    gen = torch.Generator().manual_seed(seed)
    count = len(sizes)
    mask = torch.arange(max_size) < torch.tensor(sizes)[:, None]
    upper = (torch.rand(count, max_size, max_size, generator=gen) < 0.4).float().triu(1)
    adj = normalized_adjacency(upper + upper.transpose(1, 2), mask)
    x = torch.randn(count, max_size, features, generator=gen) * mask[..., None]
    root = torch.tensor([int(torch.randint(s, (1,), generator=gen)) for s in sizes])
    y = torch.randint(classes, (count,), generator=gen)
    return DenseSubgraphBatch(x, adj, mask, root, y)


@pytest.mark.parametrize("make_model", [
    lambda: DenseGCN(5, 8, 3, num_layers=3),
    lambda: DenseGCN(5, 8, 3, num_layers=1),
    lambda: DenseSGC(5, 3, k=2),
])
def test_per_subgraph_gradients_match_autograd(make_model) -> None:
    torch.manual_seed(0)
    model = make_model()
    sizes = [1, 3, 6, 4]
    batch = random_batch(sizes, 6, 5, 3, seed=1)
    grads = per_subgraph_gradients(model, batch)
    names = [name for name, _ in model.named_parameters()]
    assert set(grads) == set(names)
    for b, n in enumerate(sizes):
        for s in (6, n):  # padded, then cut to its valid nodes: padding must not change the gradient
            logits = model(batch.x[b, :s], batch.adj[b, :s, :s], batch.mask[b, :s], batch.root[b])
            expected = torch.autograd.grad(F.cross_entropy(logits[None], batch.y[b][None]), list(model.parameters()))
            for name, g in zip(names, expected, strict=True):
                torch.testing.assert_close(grads[name][b], g, atol=1e-6, rtol=1e-5)
    logits = model(batch.x, batch.adj, batch.mask, batch.root)
    assert logits.shape == (4, 3)


def test_clip_bounds_norm_and_keeps_small_gradients() -> None:
    gen = torch.Generator().manual_seed(0)
    scales = torch.tensor([0.01, 0.1, 1.0, 10.0, 100.0])
    grads = {
        "w": torch.randn(5, 3, 4, generator=gen) * scales[:, None, None],
        "b": torch.randn(5, 4, generator=gen) * scales[:, None],
    }
    clip = 1.5
    norms_in = (grads["w"].flatten(1).pow(2).sum(1) + grads["b"].pow(2).sum(1)).sqrt()
    summed, norms = clip_and_sum(grads, clip)
    torch.testing.assert_close(norms, norms_in)
    clipped_norms = []
    for i in range(5):  # clip one subgraph at a time to see each clipped gradient
        single, _ = clip_and_sum({k: v[i : i + 1] for k, v in grads.items()}, clip)
        norm = (single["w"].pow(2).sum() + single["b"].pow(2).sum()).sqrt()
        clipped_norms.append(norm)
        assert norm <= clip + 1e-6
        if norms_in[i] < clip:
            assert torch.equal(single["w"], grads["w"][i]) and torch.equal(single["b"], grads["b"][i])
    assert clipped_norms[-1] == pytest.approx(clip, rel=1e-5)
    scale = (clip / norms_in).clamp(max=1)
    torch.testing.assert_close(summed["w"], (grads["w"] * scale[:, None, None]).sum(0))
    torch.testing.assert_close(summed["b"], (grads["b"] * scale[:, None]).sum(0))
