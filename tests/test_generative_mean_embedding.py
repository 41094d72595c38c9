"""dpgraph.generative: unit-norm random Fourier features that estimate the Gaussian kernel, the chunked float64
embedding statistic and its exact sensitivity by deletion, the refusal of a feature map off the unit sphere, the
fitting loop, and public initialisation."""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch
from torch import nn

from dpgraph.generative import (
    embedding_sensitivity,
    embedding_statistic,
    fit_to_embedding,
    fourier_features,
    fourier_frequencies,
    publicly_initialised,
)
from dpgraph.generative.mean_embedding import EMBEDDING_CHUNK


def _table(n: int = 100, p: int = 20, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    rows = torch.cat([torch.zeros(1, p), torch.ones(1, p), 1e3 * torch.randn(3, p, generator=gen),
                      torch.rand(n - 5, p, generator=gen)])
    return rows, torch.randint(0, 3, (n,), generator=gen)


def test_fourier_features_have_unit_norm_and_estimate_the_gaussian_kernel():
    rows, _ = _table()
    lengthscale, w = 0.4, fourier_frequencies(20, 20_000, 0.4, torch.Generator().manual_seed(1)).double()
    phi = fourier_features(rows.double(), w)
    assert phi.dtype == torch.float64 and phi.shape == (100, 20_000)
    assert torch.allclose(phi.norm(dim=1), torch.ones(100, dtype=torch.float64), atol=1e-12)
    near = rows[5:25].double()  # rows in [0, 1]: kernel values spread over (0, 1)
    kernel = torch.exp(-torch.cdist(near, near).pow(2) / (2 * lengthscale**2 * 20))
    estimate = fourier_features(near, w) @ fourier_features(near, w).T
    assert float((estimate - kernel).abs().max()) < 0.04  # about 4 standard errors of 1/sqrt(D/2)
    assert float(kernel.min()) < 0.5  # the check is not trivial


@pytest.mark.parametrize("count_weight", [0.3, 1.0])
def test_every_deletion_and_extreme_addition_moves_the_statistic_by_exactly_the_sensitivity(count_weight):
    rows, labels = _table()
    featurise = partial(fourier_features, frequencies=fourier_frequencies(20, 300, 1.0, torch.Generator()))
    full = embedding_statistic(rows, labels, featurise, 3, count_weight)
    keep, moves = torch.ones(100, dtype=torch.bool), []
    for i in range(100):
        keep[i] = False
        moves.append(float((full - embedding_statistic(rows[keep], labels[keep], featurise, 3, count_weight)).norm()))
        keep[i] = True
    for extreme in (torch.zeros(1, 20), torch.ones(1, 20), -1e6 * torch.ones(1, 20)):
        more = embedding_statistic(torch.cat([rows, extreme]), torch.cat([labels, labels[:1]]), featurise, 3,
                                   count_weight)
        moves.append(float((more - full).norm()))
    bound = embedding_sensitivity(count_weight)
    assert bound == pytest.approx(math.sqrt(1 + count_weight**2))
    assert max(moves) <= bound + 1e-9 and min(moves) >= bound - 1e-9


def test_statistic_is_chunked_float64_and_equals_the_direct_class_sums():
    gen, n = torch.Generator().manual_seed(2), 2 * EMBEDDING_CHUNK + 7
    rows, labels = torch.rand(n, 5, generator=gen), torch.randint(0, 4, (n,), generator=gen)
    w = fourier_frequencies(5, 40, 0.5, gen)
    statistic = embedding_statistic(rows, labels, partial(fourier_features, frequencies=w), 4, 0.5)
    direct = torch.zeros(4, 41, dtype=torch.float64)
    direct.index_add_(0, labels, torch.cat([fourier_features(rows.double(), w.double()),
                                            torch.full((n, 1), 0.5, dtype=torch.float64)], dim=1))
    assert statistic.dtype == torch.float64 and torch.allclose(statistic, direct, atol=1e-10)
    assert torch.allclose(statistic[:, -1], 0.5 * torch.bincount(labels, minlength=4).double())
    empty = embedding_statistic(rows[:0], labels[:0], partial(fourier_features, frequencies=w), 4, 0.5)
    assert torch.equal(empty, torch.zeros(4, 41, dtype=torch.float64))


def test_a_feature_map_off_the_unit_sphere_is_refused():
    rows, labels = _table()
    with pytest.raises(ValueError, match="unit-L2"):
        embedding_statistic(rows, labels, lambda r: 1.01 * nn.functional.normalize(r, dim=1), 3, 1.0)


class _Shift(nn.Module):
    """G(z, y) = mean_y + 0.01 z: fitted means should reach the target class means."""

    def __init__(self) -> None:
        super().__init__()
        self.means = nn.Parameter(torch.zeros(2, 2))

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.means[labels] + 0.01 * z


def test_fitting_loop_moves_a_generator_to_the_target_embedding():
    w = fourier_frequencies(2, 400, 1.0, torch.Generator().manual_seed(3))
    featurise = partial(fourier_features, frequencies=w)
    centres = torch.tensor([[1.0, -1.0], [-1.5, 0.5]])
    weights = torch.tensor([0.3, 0.7])
    target = (weights[:, None] * featurise(centres)).float()  # the joint embedding of point masses at the centres
    generator = _Shift()
    fit_to_embedding(generator, featurise, target, weights, steps=400, batch_size=100, lr=0.05, latent_dim=2,
                     public=torch.Generator().manual_seed(4))
    assert torch.allclose(generator.means.detach(), centres, atol=0.1)


def test_public_initialisation_is_reproducible_and_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = publicly_initialised(lambda: nn.Linear(4, 3), torch.Generator().manual_seed(7))
    second = publicly_initialised(lambda: nn.Linear(4, 3), torch.Generator().manual_seed(7))
    other = publicly_initialised(lambda: nn.Linear(4, 3), torch.Generator().manual_seed(8))
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.equal(first.weight, second.weight) and not torch.equal(first.weight, other.weight)
