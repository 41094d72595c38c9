"""A secret-randomness test double whose uniforms are given, for mechanisms that must be a function of their uniform
draws alone (the exponential mechanism's Gumbel-max, Laplace by inverse CDF)."""

from __future__ import annotations

import torch

from dpgraph.privacy.randomness import SecretRandomness


class FixedUniforms(SecretRandomness):
    """``uniform`` returns the given values (their shape must be the one asked for); any other draw fails."""

    mode = "reproducible"

    def __init__(self, values):
        self.values, self.calls = torch.tensor(values, dtype=torch.float64), 0

    def uniform(self, shape, device=None):
        self.calls += 1
        assert tuple(shape) == tuple(self.values.shape)
        return self.values.clone()

    def normal(self, shape, std, device=None, dtype=None):
        raise AssertionError("this mechanism draws no Gaussian")

    def integer(self, bits):
        raise AssertionError("this mechanism draws no integer")
