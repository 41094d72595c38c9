"""gs-wgan: the sanitiser clips and noises exactly the generator-facing gradient, shards come from the secret
randomness and each discriminator reads only its own, the ledger holds the calibrated drawn-Gaussian event, and the
release holds only the generator and its samples (tiny runs on the 8x8 digits)."""

import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import yaml

from dpgraph.config.sections import DatasetSection, PrivacySection
from dpgraph.data.spec import NoParams, load_dataset
from dpgraph.errors import DPGraphError
from dpgraph.generative.fitting import publicly_initialised
from dpgraph.images.mechanisms import gs_wgan
from dpgraph.images.mechanisms.gs_wgan import (
    GSWGAN,
    GSWGANParams,
    generator_step,
    sanitise,
    uniform_choices,
)
from dpgraph.images.models import ImageDiscriminator, ImageGenerator
from dpgraph.mechanisms.base import ReleaseContext
from dpgraph.pipeline import run_pipeline
from dpgraph.pipeline.config import load_config
from dpgraph.privacy import DrawnGaussianEvent
from dpgraph.privacy.randomness import GeneratorRandomness

TINY = {"discriminators": 4, "iterations": 6, "critic_steps": 2, "batch_size": 8, "samples_per_class": 3,
        "latent_dim": 8, "generator_width": 8, "discriminator_width": 8}


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DatasetSection(name="digits"), NoParams(), Path("."))


def context(epsilon: float | None, seed: int = 0) -> ReleaseContext:
    privacy = PrivacySection(epsilon=epsilon, delta=1e-5, unit="example", randomness="reproducible")
    return ReleaseContext.create(privacy, GSWGAN(), seed=seed, progress=False)


def test_sanitiser_clips_each_sample_and_adds_noise_of_std_sigma_c():
    grads = torch.randn(16, 1, 8, 8) * torch.linspace(0.01, 3.0, 16).view(-1, 1, 1, 1)
    clipped = sanitise(grads, 1.0, 0.0, GeneratorRandomness.seeded(0))
    norms, before = clipped.flatten(1).norm(dim=1), grads.flatten(1).norm(dim=1)
    assert (norms <= 1.0 + 1e-6).all()
    assert torch.allclose(norms, before.clamp(max=1.0), atol=1e-6)
    assert torch.allclose(clipped.flatten(1) / norms[:, None], grads.flatten(1) / before[:, None], atol=1e-6)
    noise = sanitise(torch.zeros(256, 1, 16, 16), 0.5, 0.5 * 3.0, GeneratorRandomness.seeded(1))
    assert noise.mean().abs() < 0.05 and noise.std().item() == pytest.approx(1.5, rel=0.03)


def test_generator_receives_the_backprop_of_the_sanitised_sample_gradients():
    public = torch.Generator().manual_seed(3)
    generator = publicly_initialised(lambda: ImageGenerator((1, 8, 8), 8, 10, True, 8), public)
    critic = publicly_initialised(lambda: ImageDiscriminator((1, 8, 8), 10, True, 8), public)
    released = []

    def sanitiser(grads):
        released.append(sanitise(grads, 0.1, 0.2, GeneratorRandomness.seeded(2)))
        return released[-1]

    replay = torch.Generator().set_state(public.get_state())
    generator_step(generator, torch.optim.SGD(generator.parameters(), lr=0.0), critic, 8, public, sanitiser)
    z, labels = torch.randn(8, 8, generator=replay), torch.randint(10, (8,), generator=replay)
    params = [p for p in generator.parameters()]
    expected = torch.autograd.grad(generator(z, labels), params, grad_outputs=released[0] / 8)
    for param, grad in zip(params, expected, strict=True):
        assert torch.allclose(param.grad, grad, atol=1e-6)
    # what the sanitiser saw: the per-sample image gradients of -D, one row per generated sample
    sample = generator(z, labels).detach().requires_grad_(True)
    (raw,) = torch.autograd.grad(-critic(sample, labels).sum(), sample)
    assert (released[0] - sanitise(raw, 0.1, 0.2, GeneratorRandomness.seeded(2))).abs().max() < 1e-5


def test_uniform_choices_are_uniform_and_from_the_given_randomness():
    draws = uniform_choices(GeneratorRandomness.seeded(0), 30_000, 3)
    assert draws.min() == 0 and draws.max() == 2
    counts = torch.bincount(draws, minlength=3).double()
    assert ((counts - 10_000) ** 2 / 10_000).sum() < 13.8  # chi-square, 2 dof, p = 0.001
    assert torch.equal(draws, uniform_choices(GeneratorRandomness.seeded(0), 30_000, 3))
    assert not torch.equal(draws, uniform_choices(GeneratorRandomness.seeded(1), 30_000, 3))


def test_shards_from_the_secret_and_each_critic_reads_only_its_shard(digits, monkeypatch):
    ctx = context(8.0)
    assignments, reads = [], []
    choose, step = gs_wgan.uniform_choices, gs_wgan.critic_step

    def recording_choices(randomness, n, k):
        assert randomness is ctx.secret
        assignments.append(choose(randomness, n, k))
        return assignments[-1]

    def recording_step(critic, optimizer, generator, real, labels, penalty, rng):
        reads.append((critic, real.clone(), labels.clone()))
        step(critic, optimizer, generator, real, labels, penalty, rng)

    monkeypatch.setattr(gs_wgan, "uniform_choices", recording_choices)
    monkeypatch.setattr(gs_wgan, "critic_step", recording_step)
    GSWGAN().release(digits, GSWGANParams(**TINY), ctx)
    shard_of, draws = assignments[0], assignments[1]  # one shard per example (disjoint), then the draws
    assert shard_of.shape == (digits.size,) and len(draws) == TINY["iterations"]
    critics = list(dict.fromkeys(critic for critic, _, _ in reads))
    assert len(reads) == TINY["iterations"] * TINY["critic_steps"]
    flat = digits.train_images.flatten(1)
    for (critic, real, labels), j in zip(reads, draws.repeat_interleave(TINY["critic_steps"]).tolist(), strict=True):
        assert critic is critics[list(dict.fromkeys(int(d) for d in draws)).index(j)]
        for image, label in zip(real.flatten(1), labels, strict=True):
            owners = ((flat == image).all(1) & (digits.train_labels == label)).nonzero().flatten()
            assert (shard_of[owners] == j).any()


def test_ledger_records_the_calibrated_event_and_meets_the_target(digits, monkeypatch):
    ctx, stds = context(6.0), []
    clean = gs_wgan.sanitise
    monkeypatch.setattr(gs_wgan, "sanitise", lambda grads, clip_norm, noise_std, randomness:
                        stds.append((clip_norm, noise_std)) or clean(grads, clip_norm, noise_std, randomness))
    params = GSWGANParams(**{**TINY, "clip_norm": 0.5})
    GSWGAN().release(digits, params, ctx)
    ((stage, event),) = ctx.budget.ledger.events
    assert stage == "train" and len(stds) == TINY["iterations"]
    clip, std = stds[0]
    sigma = std / clip
    assert clip == 0.5 and event == DrawnGaussianEvent(1 / 4, sigma / (2 * math.sqrt(8)), TINY["iterations"])
    assert 0.99 * 6.0 <= ctx.budget.ledger.epsilon() <= 6.0
    assert ctx.budget.ledger.accounted_with() == "analytic-gaussian"


def test_non_private_mode_records_nothing_and_never_sanitises(digits, monkeypatch):
    monkeypatch.setattr(gs_wgan, "sanitise", lambda *a: pytest.fail("non-private mode sanitised"))
    ctx = context(None)
    release = GSWGAN().release(digits, GSWGANParams(**TINY), ctx)
    assert ctx.budget is None and release.images.shape == (30, 1, 8, 8)


def test_critic_steps_leave_no_trace_in_the_generator(digits):
    public = torch.Generator().manual_seed(0)
    generator = publicly_initialised(lambda: ImageGenerator((1, 8, 8), 8, 10, True, 8), public)
    critic = publicly_initialised(lambda: ImageDiscriminator((1, 8, 8), 10, True, 8), public)
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    gs_wgan.critic_step(critic, gs_wgan.adam(critic, 1e-3), generator, digits.train_images[:8],
                        digits.train_labels[:8], 10.0, torch.Generator().manual_seed(1))
    assert all(torch.equal(before[k], v) for k, v in generator.state_dict().items())


def test_bad_parameters_fail_when_read(digits):
    with pytest.raises(ValueError, match="warm_start"):
        GSWGANParams(warm_start="digits")
    with pytest.raises(ValueError, match="discriminator_width"):
        GSWGANParams(discriminator_width=6)
    privacy = PrivacySection(epsilon=1.0, delta=1e-5, unit="example")
    with pytest.raises(DPGraphError, match="private dataset itself"):
        GSWGAN().check(privacy, digits, GSWGANParams(warm_start="digits", warm_start_steps=1))
    with pytest.raises(DPGraphError, match="exceeds the 1438 training images"):
        GSWGAN().check(privacy, digits, GSWGANParams(discriminators=2000))


def test_warm_start_reads_only_the_public_images(digits, monkeypatch):
    renamed = replace(digits, name="digits-copy")  # the check refuses a warm start on digits itself
    public_images, _ = gs_wgan.public_digits(digits.image_shape)
    reads, step = [], gs_wgan.critic_step
    monkeypatch.setattr(gs_wgan, "critic_step", lambda critic, opt, gen, real, *rest: reads.append(real.clone())
                        or step(critic, opt, gen, real, *rest))
    params = GSWGANParams(**{**TINY, "warm_start": "digits", "warm_start_steps": 3})
    GSWGAN().release(renamed, params, context(None))
    warm = 3 * TINY["critic_steps"]
    flat, private = public_images.flatten(1), digits.train_images.flatten(1)
    for real in reads[:warm]:
        assert all((flat == image).all(1).any() for image in real.flatten(1))
    for real in reads[warm:]:
        assert all((private == image).all(1).any() for image in real.flatten(1))


def test_public_warm_start_images_fit_the_image_shape():
    images, labels = gs_wgan.public_digits((3, 28, 28))
    assert images.shape == (1797, 3, 28, 28) and labels.shape == (1797,)
    assert 0 <= images.min() and images.max() <= 1 and images[:, :, :4].abs().max() == 0  # the 4-pixel margin


def test_end_to_end_release_holds_only_the_generator_and_its_samples(tmp_path):
    config = yaml.safe_load(Path("pipelines/mnist-gswgan.yaml").read_text())
    config["dataset"] = {"name": "digits"}
    config["privacy"]["randomness"] = "reproducible"
    config["method"] = {"name": "gs-wgan", **TINY}
    config["evaluate"] = {"seeds": 1, "epochs": 1}
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config))
    result = run_pipeline(load_config(path), out_dir=tmp_path / "run", progress=False)
    released = sorted(p.name for p in result.release_dir.iterdir())
    assert released == ["config.yaml", "generator.pt", "privacy.json", "samples.pt"]
    state = torch.load(result.release_dir / "generator.pt")
    assert all(not key.startswith(("critic", "score", "embed", "features")) for key in state)
    samples = torch.load(result.release_dir / "samples.pt")
    assert samples["images"].shape == (30, 1, 8, 8) and samples["labels"].tolist() == sorted(list(range(10)) * 3)
