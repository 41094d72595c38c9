"""Per-unit gradients (torch.func) and clipped gradient sums (vmap and ghost clipping) against one-at-a-time
autograd; clipping to the total L2 norm."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dpgraph.dpsgd import DenseGCN, DenseSGC, clip_and_sum
from dpgraph.dpsgd.per_sample import clipped_gradient_sum, per_unit_gradients
from dpgraph.graphops import normalized_dense
from dpgraph.sampling.dense_batch import DenseSubgraphBatch


def random_batch(sizes: list[int], max_size: int, features: int, classes: int, seed: int) -> DenseSubgraphBatch:
    """Random symmetric graphs of the given sizes, padded to ``max_size``."""
    gen = torch.Generator().manual_seed(seed)
    count = len(sizes)
    mask = torch.arange(max_size) < torch.tensor(sizes)[:, None]
    upper = (torch.rand(count, max_size, max_size, generator=gen) < 0.4).float().triu(1)
    adj = normalized_dense(upper + upper.transpose(1, 2), mask)
    x = torch.randn(count, max_size, features, generator=gen) * mask[..., None]
    root = torch.tensor([int(torch.randint(s, (1,), generator=gen)) for s in sizes])
    y = torch.randint(classes, (count,), generator=gen)
    return DenseSubgraphBatch(x, adj, mask, root, y)


def node_loss(model: nn.Module, batch: tuple[Tensor, ...]) -> Tensor:
    """Cross-entropy at each subgraph's root: ``batch = (x, adj, mask, root, y)``."""
    return F.cross_entropy(model(*batch[:4]), batch[4], reduction="none")


def row_loss(model: nn.Module, batch: tuple[Tensor, ...]) -> Tensor:
    """Cross-entropy of each row: ``batch = (x, y)``."""
    return F.cross_entropy(model(batch[0]), batch[1], reduction="none")


class TwiceLinear(nn.Module):
    """Calls one Linear twice (on [B, 3, d] then [B, d]): ghost clipping concatenates the calls along T."""

    def __init__(self, features: int, classes: int):
        super().__init__()
        self.shared = nn.Linear(features, features)
        self.out = nn.Linear(features, classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(torch.tanh(self.shared(x)).mean(1) + self.shared(x[:, 0]))


class EmbeddingModel(nn.Module):
    """An nn.Embedding (not an nn.Linear) holds a trainable parameter: ghost clipping does not apply."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.head = nn.Linear(4, 3)

    def forward(self, tokens: Tensor) -> Tensor:
        return self.head(self.embed(tokens).mean(1))


class BareParameterModel(nn.Module):
    """A bare nn.Parameter on the root module: ghost clipping does not apply."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, 5))
        self.head = nn.Linear(5, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(x * self.scale)


def dense_tuple(sizes: list[int], features: int) -> tuple[Tensor, ...]:
    """:func:`random_batch` (3 classes) as the tuple ``(x, adj, mask, root, y)``."""
    b = random_batch(sizes, max(sizes), features, 3, seed=1)
    return b.x, b.adj, b.mask, b.root, b.y


def mlp() -> nn.Module:
    """In-place ReLU: ghost clipping must keep the saved Linear output's gradient intact."""
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(inplace=True), nn.Linear(5, 3))


def frozen_bias_gcn() -> nn.Module:
    model = DenseGCN(40, 16, 3, num_layers=2)
    model.layers[0].bias.requires_grad_(False)
    return model


# (model, unit_loss, batch as a tuple); the DenseGCN(40, 16, ...) cases take the ghost-norm branch on their
# [B, S, d] layers, the DenseGCN(5, 8, ...) ones the materialised branch (module docstring of dpgraph.dpsgd.ghost).
CASES: dict[str, Callable[[], tuple[nn.Module, Callable, tuple[Tensor, ...]]]] = {
    "gcn3-materialised": lambda: (DenseGCN(5, 8, 3, num_layers=3), node_loss, dense_tuple([1, 3, 6, 4, 6, 2], 5)),
    "gcn3-ghost-norm": lambda: (DenseGCN(40, 16, 3, num_layers=3), node_loss, dense_tuple([1, 3, 6, 4, 6, 2], 40)),
    "gcn1": lambda: (DenseGCN(5, 8, 3, num_layers=1), node_loss, dense_tuple([1, 3, 6, 4, 6, 2], 5)),
    "sgc": lambda: (DenseSGC(5, 3, k=2), node_loss, dense_tuple([1, 3, 6, 4, 6, 2], 5)),
    "gcn-frozen-bias": lambda: (frozen_bias_gcn(), node_loss, dense_tuple([1, 3, 6, 4, 6, 2], 40)),
    "mlp": lambda: (mlp(), row_loss, (torch.randn(7, 6), torch.randint(3, (7,)))),
    "twice-linear": lambda: (TwiceLinear(4, 3), row_loss, (torch.randn(6, 3, 4), torch.randint(3, (6,)))),
}


def make_case(name: str) -> tuple[nn.Module, Callable, tuple[Tensor, ...]]:
    torch.manual_seed(0)
    return CASES[name]()


def reference_gradients(model: nn.Module, unit_loss: Callable, batch: tuple[Tensor, ...]) -> list[dict[str, Tensor]]:
    """One autograd call per unit, on the unit alone (a batch of one)."""
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    out = []
    for b in range(batch[0].size(0)):
        loss = unit_loss(model, tuple(t[b : b + 1] for t in batch))[0]
        out.append(dict(zip(params, torch.autograd.grad(loss, list(params.values())), strict=True)))
    return out


def reference_clipped_sum(per_unit: list[dict[str, Tensor]], clip: float, groups: Tensor | None,
                          num_groups: int | None) -> tuple[dict[str, Tensor], Tensor]:
    """Explicit clip of each unit to norm ``clip`` and (grouped) sum."""
    norms = torch.stack([torch.cat([g.flatten() for g in grads.values()]).norm() for grads in per_unit])
    lead = () if groups is None else (num_groups,)
    summed = {name: torch.zeros(*lead, *g.shape) for name, g in per_unit[0].items()}
    for b, grads in enumerate(per_unit):
        factor = min(1.0, clip / float(norms[b]))
        for name, g in grads.items():
            if groups is None:
                summed[name] += factor * g
            else:
                summed[name][groups[b]] += factor * g
    return summed, norms


def assert_relative(actual: Tensor, expected: Tensor) -> None:
    """Equal to 1e-5 relative to the scale of ``expected``."""
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5 * float(expected.abs().max()) + 1e-12)


@pytest.mark.parametrize("case", ["gcn3-materialised", "gcn1", "sgc", "mlp", "gcn-frozen-bias"])
def test_per_unit_gradients_match_autograd(case: str) -> None:
    model, unit_loss, batch = make_case(case)
    grads = per_unit_gradients(model, unit_loss, batch)
    expected = reference_gradients(model, unit_loss, batch)
    assert list(grads) == list(expected[0])  # trainable parameters only, in model order
    for b, reference in enumerate(expected):
        for name, g in reference.items():
            torch.testing.assert_close(grads[name][b], g, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("method", ["ghost", "vmap"])
@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("case", list(CASES))
def test_clipped_gradient_sum_matches_reference(case: str, grouped: bool, method: str) -> None:
    model, unit_loss, batch = make_case(case)
    units = batch[0].size(0)
    per_unit = reference_gradients(model, unit_loss, batch)
    _, norms_in = reference_clipped_sum(per_unit, math.inf, None, None)
    groups, num_groups = (torch.arange(units) % 3, 4) if grouped else (None, None)  # group 3 stays empty
    median = float(norms_in.median())
    assert (norms_in > median).any() and (norms_in < median).any()  # the median clip clips some units, not all
    for clip in (median, 2 * float(norms_in.max()), math.inf):
        summed, norms = clipped_gradient_sum(model, unit_loss, batch, clip, groups=groups, num_groups=num_groups,
                                             method=method)
        expected, _ = reference_clipped_sum(per_unit, clip, groups, num_groups)
        assert_relative(norms, norms_in)
        assert list(summed) == list(expected)
        for name in expected:
            assert summed[name].shape == expected[name].shape
            assert_relative(summed[name], expected[name])
    plain = {name: sum(grads[name] for grads in per_unit) for name in per_unit[0]}
    summed, _ = clipped_gradient_sum(model, unit_loss, batch, math.inf, method=method)
    for name in plain:
        assert_relative(summed[name], plain[name])


@pytest.mark.parametrize("make_model, tokens_or_rows, offender", [
    (EmbeddingModel, lambda: torch.randint(10, (5, 3)), "embed"),
    (BareParameterModel, lambda: torch.randn(5, 5), "<root>"),
])
def test_ghost_refuses_non_linear_parameters_and_auto_falls_back(make_model, tokens_or_rows, offender) -> None:
    torch.manual_seed(0)
    model = make_model()
    batch = (tokens_or_rows(), torch.randint(3, (5,)))
    with pytest.raises(ValueError, match=offender):
        clipped_gradient_sum(model, row_loss, batch, 1.0, method="ghost")
    per_unit = reference_gradients(model, row_loss, batch)
    clip = float(reference_clipped_sum(per_unit, math.inf, None, None)[1].median())
    summed, _ = clipped_gradient_sum(model, row_loss, batch, clip, method="auto")
    expected, _ = reference_clipped_sum(per_unit, clip, None, None)
    for name in expected:
        assert_relative(summed[name], expected[name])


@pytest.mark.parametrize("method", ["ghost", "vmap"])
@pytest.mark.parametrize("make_model", [
    lambda: DenseGCN(40, 16, 3, num_layers=3),
    lambda: DenseGCN(5, 8, 3, num_layers=2),
    lambda: DenseSGC(5, 3, k=2),
])
def test_padding_nodes_do_not_change_a_unit_gradient(make_model, method: str) -> None:
    torch.manual_seed(0)
    model = make_model()
    sizes = [1, 3, 6, 4]
    batch = random_batch(sizes, 6, model.layers[0].in_features if isinstance(model, DenseGCN) else 5, 3, seed=2)
    for b, n in enumerate(sizes):
        padded, cut = ((batch.x[b : b + 1, :s], batch.adj[b : b + 1, :s, :s], batch.mask[b : b + 1, :s],
                        batch.root[b : b + 1], batch.y[b : b + 1]) for s in (6, n))
        with_padding, norm_padded = clipped_gradient_sum(model, node_loss, padded, math.inf, method=method)
        without, norm_cut = clipped_gradient_sum(model, node_loss, cut, math.inf, method=method)
        torch.testing.assert_close(norm_padded, norm_cut, atol=1e-6, rtol=1e-5)
        for name in without:
            torch.testing.assert_close(with_padding[name], without[name], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("method", ["ghost", "vmap"])
def test_dropout_draws_independently_per_unit(method: str) -> None:
    torch.manual_seed(0)
    model = DenseGCN(40, 16, 3, num_layers=2, dropout=0.5)
    one = random_batch([6], 6, 40, 3, seed=3)
    batch = tuple(t.expand(8, *t.shape[1:]) for t in (one.x, one.adj, one.mask, one.root, one.y))  # 8 equal units
    _, norms = clipped_gradient_sum(model, node_loss, batch, math.inf, method=method)
    assert norms.unique().numel() > 1
    model.eval()
    _, norms = clipped_gradient_sum(model, node_loss, batch, math.inf, method=method)
    torch.testing.assert_close(norms, norms[:1].expand(8))


def test_empty_batch_and_argument_checks() -> None:
    torch.manual_seed(0)
    model = DenseGCN(5, 8, 3)
    empty = tuple(t[:0] for t in dense_tuple([2, 3], 5))
    summed, norms = clipped_gradient_sum(model, node_loss, empty, 1.0, groups=torch.zeros(0, dtype=torch.long),
                                         num_groups=2)
    assert norms.shape == (0,)
    assert all(s.shape == (2, *p.shape) and not s.any() for s, p in zip(summed.values(), model.parameters(),
                                                                           strict=True))
    batch = dense_tuple([2, 3], 5)
    for kwargs in ({"method": "opacus"}, {"groups": torch.tensor([0, 1])}, {"groups": torch.tensor([0, 2]),
                                                                           "num_groups": 2}):
        with pytest.raises(ValueError):
            clipped_gradient_sum(model, node_loss, batch, 1.0, **kwargs)
    with pytest.raises(ValueError, match="clip_norm"):
        clipped_gradient_sum(model, node_loss, batch, 0.0)


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
