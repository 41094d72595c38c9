"""A DP class-conditional generator of binary node features, released from the labelled training rows.

Privacy unit: one labelled training node's feature row and label (a record of the per-node table); under node-level
DP a node's edges do not enter this release, so node add/remove is record add/remove here. Every entry is first
clamped to [0, 1] (a per-record, data-independent transform: the features are Bernoulli probabilities). N, the
number of training rows, is public (the split is). One Gaussian release at ``stage``, event ``GaussianEvent(sigma)``;
``epsilon: null`` (``context.private`` False) releases the statistic without noise (the ceiling). Everything after
the release reads only the noisy statistic and ``context.public``: post-processing.

Both kinds add the class count, scaled by ``w`` times the bound on a row's feature part, as a last column of the same
query (so their class sizes need no other release).

* ``means``: ``S`` [C, F + 1], row c = ``sum_{i in c} [clip_R(x_i), R w]`` (:func:`feature_sums` with clip norm R,
  :func:`class_counts`). Removing or adding one row moves only its class's row, by ``[clip_R(x_i), R w]`` of norm
  ``sqrt(||clip_R(x_i)||^2 + R^2 w^2) <= R sqrt(1 + w^2)``: Delta_2 = R sqrt(1 + w^2) (attained when ``||x_i|| >= R``).
  A generated row of class c is Bernoulli(clamp(S[c, :F] / n_c, 0, 1)) entry-wise, n_c = max(S[c, F] / (R w), 1).
* ``merf``: ``S`` [C, K + 1], row c = ``sum_{i in c} [phi(x_i), w]`` with the unit-norm map (u = x / ||x||_2, u = 0
  and e = 1 for an all-zero row, e = 0 otherwise; theta = (pi / 2) (1 - exp(-||x||_1 / s)), s public)
  ``phi(x) = [sqrt(a) u, sqrt(a) e, sqrt(1 - a - b) rff(u), sqrt(b) cos(theta), sqrt(b) sin(theta)]``, rff the random
  Fourier features of the unit rows (Gaussian kernel of lengthscale l on unit rows, frequencies from
  ``context.public``). ``||phi||^2 = a (||u||^2 + e^2) + (1 - a - b) ||rff||^2 + b = a + (1 - a - b) + b = 1``
  exactly, so adding or removing one row moves only its class's row, by exactly ``sqrt(1 + w^2)``: Delta_2 =
  sqrt(1 + w^2) (:mod:`dpgraph.generative.mean_embedding`). The linear part carries the class's mean direction, rff
  its higher moments, the angle columns its number of active features: the angle of the class's summed (cos, sin)
  pair, mapped back through theta, gives k_c (:func:`released_ones`). A conditional MLP (latent and one-hot class ->
  hidden -> ``k_y softmax``, capped at 1: F probabilities summing to the released k_y) initialised from
  ``context.public`` is fitted (:func:`~dpgraph.generative.fit_to_embedding`) to ``S[:, :K] / N``, labels drawn in
  proportion to ``max(S[:, K] / w, 0)``, each generated row p featurised by the expectation of ``phi`` under its own
  Bernoulli(p) draws (:func:`expected_unit_row_features`), so that what is fitted is what is sampled.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from functools import partial
from typing import Literal

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from dpgraph.config.validation import StrictModel
from dpgraph.generative import (
    embedding_sensitivity,
    embedding_statistic,
    fit_to_embedding,
    fourier_features,
    fourier_frequencies,
    publicly_initialised,
)
from dpgraph.mechanisms.base import ReleaseContext
from dpgraph.mechanisms.sbm_statistics import class_counts, feature_sums


class FeatureGeneratorParams(StrictModel):
    """Public settings of the feature generator (fixed in the pipeline file; the defaults were chosen on CiteSeer, a
    public proxy)."""

    kind: Literal["merf", "means"] = Field(default="merf", description="random-feature embedding or class means")
    count_weight: float = Field(default=0.3, gt=0,
                                description="w: the class counts' scale relative to a row's feature-part norm bound")
    feature_clip: float = Field(default=5.0, gt=0, description="means: L2 clip norm R of a feature row")
    num_features: int = Field(default=1000, ge=2, multiple_of=2, description="merf: D random Fourier features")
    lengthscale: float = Field(default=1.0, gt=0, description="merf: Gaussian kernel lengthscale on unit-L2 rows")
    linear_weight: float = Field(default=0.8, ge=0, le=1, description="merf: a, the linear part's share of ||phi||^2")
    ones_weight: float = Field(default=0.05, gt=0, lt=1, description="merf: b, the ones count's share of ||phi||^2")
    ones_scale: float = Field(default=32.0, gt=0, description="merf: public scale s of a row's number of ones")
    steps: int = Field(default=300, ge=1, description="merf: Adam steps of the generator")
    batch_size: int = Field(default=200, ge=1, description="merf: generated rows per step")
    lr: float = Field(default=0.01, gt=0, description="merf: Adam learning rate")
    hidden: int = Field(default=256, ge=1, description="merf: hidden width of the generator")
    latent_dim: int = Field(default=32, ge=1, description="merf: latent size of the generator")

    @model_validator(mode="after")
    def _shares_fit(self) -> FeatureGeneratorParams:
        if self.linear_weight + self.ones_weight > 1:
            raise ValueError("linear_weight + ones_weight must be at most 1 (they are shares of a unit norm)")
        return self


class FeatureGenerator(ABC):
    """A released generator of binary feature rows: sampling it is post-processing."""

    @abstractmethod
    def probabilities(self, labels: Tensor, generator: torch.Generator) -> Tensor:
        """Bernoulli probabilities [n, F] of rows with classes ``labels`` [n]."""

    @torch.no_grad()
    def sample(self, labels: Tensor, generator: torch.Generator) -> Tensor:
        """Binary rows [n, F] (float 0/1) of classes ``labels``, drawn from the public ``generator``."""
        return torch.bernoulli(self.probabilities(labels, generator), generator=generator)


class ClassMeanFeatures(FeatureGenerator):
    """Independent Bernoulli features with the released per-class means [C, F]."""

    def __init__(self, means: Tensor) -> None:
        self.means = means

    def probabilities(self, labels: Tensor, generator: torch.Generator) -> Tensor:
        return self.means[labels]


class ConditionalFeatureMLP(nn.Module):
    """``(z, y) -> min(1, k_y softmax(W2 relu(W1 [z, onehot(y)])))``: F probabilities per row summing to the class's
    number of active features ``k_y`` (``ones`` [C], a post-processed release) unless some entry reaches 1."""

    def __init__(self, latent_dim: int, ones: Tensor, hidden: int, num_outputs: int) -> None:
        super().__init__()
        self.num_classes = ones.numel()
        self.register_buffer("ones", ones.float())
        self.net = nn.Sequential(nn.Linear(latent_dim + self.num_classes, hidden), nn.ReLU(),
                                 nn.Linear(hidden, num_outputs))

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        onehot = nn.functional.one_hot(labels, self.num_classes).to(z.dtype)
        shares = torch.softmax(self.net(torch.cat([z, onehot], dim=1)), dim=1)
        return (self.ones[labels, None] * shares).clamp(max=1.0)


class FittedFeatures(FeatureGenerator):
    """The fitted conditional MLP: latents standard normal from the public generator."""

    def __init__(self, module: ConditionalFeatureMLP, latent_dim: int) -> None:
        self.module, self.latent_dim = module.eval().cpu(), latent_dim

    @torch.no_grad()
    def probabilities(self, labels: Tensor, generator: torch.Generator) -> Tensor:
        z = torch.randn(labels.size(0), self.latent_dim, generator=generator)
        return self.module(z, labels)


def unit_row_features(rows: Tensor, frequencies: Tensor, params: FeatureGeneratorParams) -> Tensor:
    """``phi`` [M, F + 1 + D + 2] of rows [M, F] with entries in [0, 1] (module docstring); unit L2 norm per row,
    differentiable in ``rows`` wherever some entry is positive."""
    a, b = params.linear_weight, params.ones_weight
    l2 = rows.norm(dim=1, keepdim=True)
    empty = (l2 == 0).to(rows.dtype)
    unit = rows / l2.clamp_min(torch.finfo(rows.dtype).tiny)
    theta = (math.pi / 2) * -torch.expm1(-rows.sum(dim=1, keepdim=True) / params.ones_scale)
    return torch.cat([math.sqrt(a) * unit, math.sqrt(a) * empty,
                      math.sqrt(max(1.0 - a - b, 0.0)) * fourier_features(unit, frequencies),
                      math.sqrt(b) * theta.cos(), math.sqrt(b) * theta.sin()], dim=1)


def expected_unit_row_features(probabilities: Tensor, frequencies: Tensor, params: FeatureGeneratorParams) -> Tensor:
    """An approximation of ``E[phi(x)]`` [M, F + 1 + D + 2] for rows x of independent Bernoulli(p) entries,
    ``probabilities`` p [M, F]: ``||x||_2^2 = ||x||_1`` is replaced by its mean ``k = sum p``, ``W x / sqrt(k)`` by a
    Gaussian of mean ``W p / sqrt(k)`` and variance ``W^2 (p (1 - p)) / k`` (so ``E cos = cos(mean) exp(-var / 2)``,
    likewise sin), the angle by its value at k, and the all-zero indicator is exact: ``prod (1 - p)``."""
    a, b = params.linear_weight, params.ones_weight
    ones = probabilities.sum(dim=1, keepdim=True)
    scale = ones.clamp_min(torch.finfo(probabilities.dtype).tiny).rsqrt()
    empty = torch.log1p(-probabilities.clamp(max=1 - 1e-6)).sum(dim=1, keepdim=True).exp()
    mean = (probabilities @ frequencies.T) * scale
    damping = torch.exp(-0.5 * (probabilities * (1 - probabilities)) @ frequencies.pow(2).T * scale.pow(2))
    fourier = torch.cat([mean.cos() * damping, mean.sin() * damping], dim=1) / math.sqrt(frequencies.size(0))
    theta = (math.pi / 2) * -torch.expm1(-ones / params.ones_scale)
    return torch.cat([math.sqrt(a) * probabilities * scale, math.sqrt(a) * empty,
                      math.sqrt(max(1.0 - a - b, 0.0)) * fourier,
                      math.sqrt(b) * theta.cos(), math.sqrt(b) * theta.sin()], dim=1)


def unit_row_frequencies(num_inputs: int, params: FeatureGeneratorParams, public: torch.Generator) -> Tensor:
    """Frequencies [D/2, F] of N(0, I / l^2): the Gaussian kernel ``exp(-||u - u'||^2 / (2 l^2))`` on unit rows."""
    return fourier_frequencies(num_inputs, params.num_features, params.lengthscale / math.sqrt(num_inputs), public)


def means_statistic(x: Tensor, y: Tensor, num_classes: int, params: FeatureGeneratorParams) -> Tensor:
    """``[feature_sums(x, y, C, R), R w n_c]`` [C, F + 1] (module docstring)."""
    counts = params.feature_clip * params.count_weight * class_counts(y, num_classes)
    return torch.cat([feature_sums(x, y, num_classes, params.feature_clip), counts[:, None]], dim=1)


def released_ones(statistic: Tensor, params: FeatureGeneratorParams, num_inputs: int) -> Tensor:
    """Each class's number of active features [C] from a (noisy) merf statistic: the angle of its summed
    ``(cos theta, sin theta)`` columns, clamped to [0, pi / 2), mapped back through theta = (pi / 2)(1 - exp(-k / s)),
    clamped to [1, F]."""
    theta = torch.atan2(statistic[:, -2], statistic[:, -3]).clamp(0.0, math.pi / 2 * (1 - 1e-9))
    return (-params.ones_scale * torch.log1p(-theta / (math.pi / 2))).clamp(1.0, num_inputs)


def statistic_sensitivity(params: FeatureGeneratorParams) -> float:
    """Delta_2 of the released statistic under add/remove of one row: R sqrt(1 + w^2) (means), sqrt(1 + w^2)
    (merf)."""
    if params.kind == "means":
        return math.hypot(params.feature_clip, params.feature_clip * params.count_weight)
    return embedding_sensitivity(params.count_weight)


def release_feature_generator(x: Tensor, y: Tensor, num_classes: int, params: FeatureGeneratorParams,
                              context: ReleaseContext, stage: str) -> FeatureGenerator:
    """Release a class-conditional feature generator from the private training rows ``x`` [N, F] and labels ``y``
    [N] (values 0..C-1) with one Gaussian release at ``stage`` (module docstring: statistic, sensitivity, event)."""
    rows = x.clamp(0.0, 1.0)  # per-entry, data-independent: Bernoulli features live in [0, 1]
    if params.kind == "means":
        noisy = context.gaussian_or_exact(stage, means_statistic(rows, y, num_classes, params),
                                          statistic_sensitivity(params))
        sizes = (noisy[:, -1] / (params.feature_clip * params.count_weight)).clamp(min=1.0)
        return ClassMeanFeatures((noisy[:, :-1] / sizes[:, None]).clamp(0.0, 1.0).float())
    frequencies = unit_row_frequencies(x.size(1), params, context.public).to(context.device)
    featurise = partial(unit_row_features, frequencies=frequencies, params=params)
    statistic = embedding_statistic(rows, y, featurise, num_classes, params.count_weight, context.device)
    noisy = context.gaussian_or_exact(stage, statistic, statistic_sensitivity(params))
    target = (noisy[:, :-1] / x.size(0)).float()
    weights = (noisy[:, -1] / params.count_weight).clamp(min=0).float().cpu()
    ones = released_ones(noisy, params, x.size(1))
    module = publicly_initialised(lambda: ConditionalFeatureMLP(params.latent_dim, ones, params.hidden, x.size(1)),
                                  context.public).to(context.device)
    expected = partial(expected_unit_row_features, frequencies=frequencies, params=params)
    fit_to_embedding(module, expected, target, weights, steps=params.steps, batch_size=params.batch_size,
                     lr=params.lr, latent_dim=params.latent_dim, public=context.public, device=context.device,
                     progress=context.progress, desc="feature generator")
    return FittedFeatures(module, params.latent_dim)
