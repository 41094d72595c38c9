"""Class-conditional mean embeddings of a table of records (one record per row) and their L2 sensitivity.

Random Fourier features (Rahimi and Recht 2007): for ``x`` in R^P, ``phi(x) = [cos(W x), sin(W x)] / sqrt(D / 2)``
in R^D with the ``D / 2`` rows of ``W`` i.i.d. N(0, I / (l^2 P)), so ``phi(x) . phi(x')`` is an unbiased estimate of
the Gaussian kernel ``exp(-||x - x'||^2 / (2 l^2 P))``, and ``||phi(x)||_2^2 = sum_k (cos^2 + sin^2) / (D / 2) = 1``
exactly for every ``x``. ``W`` comes from a public generator and ``l`` is a parameter, so both are public.

The statistic ``S`` [C, D + 1]: row ``y`` is ``sum_{i: y_i = y} [phi(x_i), w]`` for any feature map ``phi`` with unit
L2 norm on every record and a public count weight ``w``. Adding or removing one record changes only its own row, by
``[phi(x_i), w]``, of L2 norm ``sqrt(1 + w^2)`` exactly: the L2 sensitivity under add/remove of one record.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

EMBEDDING_CHUNK = 1024  # records featurised at once when summing the private statistic
_UNIT_TOLERANCE = 1e-9  # float64 feature norms are 1 to within about 1e-15


def fourier_frequencies(num_inputs: int, num_features: int, lengthscale: float, public: torch.Generator) -> Tensor:
    """``W`` [D/2, P], i.i.d. N(0, 1 / (lengthscale^2 P)), drawn from the public generator (P = ``num_inputs``)."""
    return torch.randn(num_features // 2, num_inputs, generator=public) / (lengthscale * math.sqrt(num_inputs))


def fourier_features(rows: Tensor, frequencies: Tensor) -> Tensor:
    """``phi(x) = [cos(W x), sin(W x)] / sqrt(D/2)`` [M, D] of ``rows`` [M, P], in ``rows``' dtype; unit L2 norm per
    row."""
    projected = rows @ frequencies.to(rows.dtype).T
    return torch.cat([projected.cos(), projected.sin()], dim=1) / math.sqrt(frequencies.size(0))


def embedding_statistic(rows: Tensor, labels: Tensor, featurise: Callable[[Tensor], Tensor], num_classes: int,
                        count_weight: float, device: torch.device | str = "cpu") -> Tensor:
    """``S`` [C, D + 1] in float64 on ``device``: row ``y`` is ``sum_{i: y_i = y} [featurise(x_i), count_weight]``,
    ``rows`` [M, ...] passed to ``featurise`` in float64 chunks of records (so each feature norm is 1 to within about
    1e-15, not float32's 1e-7). ``featurise`` must map every record to a unit-L2 row, whatever its values: the
    sensitivity :func:`embedding_sensitivity` rests on it, so a row off the unit sphere is refused."""
    width = featurise(rows[:0].to(device, torch.float64)).size(1)
    total = torch.zeros(num_classes, width + 1, dtype=torch.float64, device=device)
    for start in range(0, rows.size(0), EMBEDDING_CHUNK):
        phi = featurise(rows[start:start + EMBEDDING_CHUNK].to(device, torch.float64))
        if not bool(((phi.norm(dim=1) - 1).abs() <= _UNIT_TOLERANCE).all()):
            raise ValueError("featurise must return unit-L2 rows for every record (the sensitivity relies on it)")
        weighted = torch.cat([phi, phi.new_full((phi.size(0), 1), count_weight)], dim=1)
        total.index_add_(0, labels[start:start + EMBEDDING_CHUNK].to(device), weighted)
    return total


def embedding_sensitivity(count_weight: float) -> float:
    """The L2 sensitivity of :func:`embedding_statistic`: one record moves its class's row by ``[phi(x), w]``, of
    norm ``sqrt(1 + w^2)``."""
    return math.sqrt(1.0 + count_weight**2)
