"""The three randomness sources: distributions, fresh entropy, the OS CSPRNG and the guarded Gaussian sampler."""

from __future__ import annotations

import os

import pytest
import torch

from dpgraph.privacy import randomness as module
from dpgraph.privacy.randomness import GeneratorRandomness, SecureRandomness, randomness_for


@pytest.mark.parametrize("source", [GeneratorRandomness.seeded(3), GeneratorRandomness.fresh(), SecureRandomness()],
                         ids=["reproducible", "secret", "secure"])
def test_draws_have_the_stated_distributions(source):
    normal = source.normal((100_000,), 1.5)
    assert normal.dtype == torch.float64
    assert normal.std().item() == pytest.approx(1.5, rel=0.02) and abs(normal.mean().item()) < 0.02
    uniform = source.uniform((50_000,))
    assert 0.0 <= uniform.min().item() and uniform.max().item() < 1.0
    assert uniform.mean().item() == pytest.approx(0.5, abs=0.01)
    assert source.bernoulli(50_000, 0.1).double().mean().item() == pytest.approx(0.1, abs=0.01)
    assert torch.equal(source.permutation(100).sort().values, torch.arange(100))
    assert 0 <= source.integer(40) < 2**40
    assert source.normal((3, 4), 1.0, dtype=torch.float32).shape == (3, 4)


def test_fresh_sources_differ_and_ignore_the_global_seed():
    torch.manual_seed(0)
    first = GeneratorRandomness.fresh().normal((8,), 1.0)
    torch.manual_seed(0)
    assert not torch.equal(first, GeneratorRandomness.fresh().normal((8,), 1.0))
    assert not torch.equal(SecureRandomness().normal((8,), 1.0), SecureRandomness().normal((8,), 1.0))


def test_seeded_source_repeats_and_is_not_a_release():
    a, b = GeneratorRandomness.seeded(5), GeneratorRandomness.seeded(5)
    assert torch.equal(a.normal((16,), 2.0), b.normal((16,), 2.0))
    assert not a.is_release and GeneratorRandomness.fresh().is_release and SecureRandomness().is_release
    assert not torch.equal(GeneratorRandomness.seeded(5).normal((4,), 1.0),
                           torch.randn(4, generator=torch.Generator().manual_seed(5), dtype=torch.float64))


def test_secure_source_reads_only_the_os_csprng_and_sums_four_gaussians(monkeypatch):
    calls = {"urandom": 0, "box_muller": 0}
    real_urandom, real_box_muller = os.urandom, SecureRandomness._box_muller

    def counting_urandom(n):
        calls["urandom"] += 1
        return real_urandom(n)

    def counting_box_muller(self, count):
        calls["box_muller"] += 1
        return real_box_muller(self, count)

    monkeypatch.setattr(module.os, "urandom", counting_urandom)
    monkeypatch.setattr(SecureRandomness, "_box_muller", counting_box_muller)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    SecureRandomness().normal((10,), 1.0)
    assert calls == {"urandom": 8, "box_muller": 4}  # 4 guarded draws, each from two uniform vectors
    assert torch.equal(torch.get_rng_state(), state)  # torch's generator is never touched
    SecureRandomness().bernoulli(10, 0.5)
    assert calls["urandom"] == 9


def test_mode_names():
    assert randomness_for("secret", 0).mode == "secret"
    assert randomness_for("secure", 0).mode == "secure"
    assert randomness_for("reproducible", 0).mode == "reproducible"
    with pytest.raises(ValueError, match="randomness"):
        randomness_for("seeded", 0)
