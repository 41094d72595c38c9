"""dp-dcgan: opacus trains the discriminator, the ledger holds what opacus accounted, noise and batches come from the
secret randomness only, the generator step is post-processing, and the release holds only the generator's output."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from opacus import GradSampleModule
from opacus.accountants import RDPAccountant

from dpgraph.config.sections import DatasetSection, PrivacySection
from dpgraph.data.spec import NoParams, load_dataset
from dpgraph.errors import DPGraphError
from dpgraph.images.mechanisms.dp_dcgan import DPDCGAN, DPDCGANParams, train_gan
from dpgraph.images.mechanisms.gan_training import GAN
from dpgraph.images.models import ImageDiscriminator
from dpgraph.mechanisms.base import ReleaseContext
from dpgraph.pipeline import run_pipeline
from dpgraph.pipeline.config import parse_config
from dpgraph.pipeline.run import seed_everything
from dpgraph.privacy import compute_epsilon, dpsgd_event_factory, event_from_opacus

DELTA = 1e-5
TINY = {"latent_dim": 8, "width": 8, "groups": 4, "batch_size": 32, "generator_steps": 3, "discriminator_steps": 2,
        "samples_per_class": 3}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These 8x8 models are far too small for intra-op parallelism: one thread is faster, and much faster on a
    machine whose cores are busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits():
    return load_dataset(DatasetSection(name="digits"), NoParams(), Path("."))


def train(digits, epsilon: float | None = 10.0, seed: int = 0, randomness: str = "secret", accountant: str = "rdp",
          global_seed: int | None = None, **overrides):
    """A tiny dp-dcgan training on digits, as run_pipeline runs it (the global generators seeded first)."""
    privacy = PrivacySection(epsilon=epsilon, delta=DELTA, unit="example", accountant=accountant,
                             randomness=randomness)
    mechanism, params = DPDCGAN(), DPDCGANParams(**{**TINY, **overrides})
    mechanism.check(privacy, digits, params)
    seed_everything(seed if global_seed is None else global_seed)
    context = ReleaseContext.create(privacy, mechanism, seed, progress=False)
    return train_gan(digits, params, context), context


def weights(module: torch.nn.Module) -> torch.Tensor:
    return torch.cat([value.flatten().float() for value in module.state_dict().values()])


def test_opacus_trains_the_discriminator_and_the_ledger_holds_its_event(digits):
    trained, context = train(digits, accountant="prv")
    assert isinstance(trained.discriminator, GradSampleModule)
    ((stage, event),) = context.budget.ledger.events
    steps, rate = TINY["generator_steps"] * TINY["discriminator_steps"], 1 / math.ceil(digits.size / 32)
    sigma = event.event.event.noise_multiplier
    assert stage == "train" and trained.accountant.history == [(sigma, rate, steps)]
    assert event == event_from_opacus(trained.accountant) == dpsgd_event_factory(steps, rate)(sigma)
    epsilon = context.budget.ledger.epsilon()
    # the ledger's PRV is opacus' PRV on the same history (dpgraph.privacy.prv uses opacus' PRVAccountant)
    assert epsilon == pytest.approx(trained.accountant.get_epsilon(DELTA), rel=1e-9)
    assert 0.99 * 10.0 <= epsilon <= 10.0  # calibrated to the target, never above it
    # the default (auto) accountant, PLD, against opacus' PRV: both numerically tight upper bounds; opacus reports
    # its estimate plus eps_error = 0.01, and PLD's pessimistic discretisation costs less than that
    assert compute_epsilon(event, DELTA, "pld") == pytest.approx(epsilon, abs=0.02)
    rdp = RDPAccountant()
    rdp.history = list(trained.accountant.history)
    # same RDP-to-DP conversion on a superset of opacus' orders: never looser, tighter by at most 1%
    assert rdp.get_epsilon(DELTA) * (1 - 1e-2) <= compute_epsilon(event, DELTA, "rdp") <= rdp.get_epsilon(DELTA) + 1e-9


def test_noise_and_batches_come_from_the_secret_randomness_only(digits):
    """Same public seed: fresh secret randomness gives other discriminators and generators; reproducible randomness
    gives identical ones, whatever state torch's global generator is in (it draws neither noise nor batches)."""
    first, _ = train(digits, randomness="reproducible", global_seed=1)
    again, _ = train(digits, randomness="reproducible", global_seed=2)
    secret_a, _ = train(digits)
    secret_b, _ = train(digits)
    assert torch.equal(weights(first.discriminator), weights(again.discriminator))
    assert torch.equal(weights(first.generator), weights(again.generator))
    assert not torch.equal(weights(secret_a.discriminator), weights(secret_b.discriminator))
    assert not torch.equal(weights(secret_a.generator), weights(secret_b.generator))


def test_the_generator_step_computes_no_per_sample_gradient(digits, monkeypatch):
    """While the generator steps, the discriminator got ordinary gradients (the generator's loss flows through it)
    but no per-sample ones; after the step it holds no gradient and its hooks are on again."""
    during, after = [], []
    generator_step = GAN.generator_step

    def spied(gan: GAN, public: torch.Generator, device: torch.device) -> None:
        optimizer_step = gan.generator_optimizer.step

        def check_then_step(*args, **kwargs):
            params = list(gan.discriminator.parameters())
            during.append((all(p.grad_sample is None for p in params), any(p.grad is not None for p in params)))
            return optimizer_step(*args, **kwargs)

        gan.generator_optimizer.step = check_then_step
        generator_step(gan, public, device)
        del gan.generator_optimizer.step
        params = list(gan.discriminator.parameters())
        after.append((all(p.grad is None and p.grad_sample is None for p in params), gan.discriminator.hooks_enabled))

    monkeypatch.setattr(GAN, "generator_step", spied)
    trained, _ = train(digits)
    assert during == [(True, True)] * TINY["generator_steps"]
    assert after == [(True, True)] * TINY["generator_steps"]
    # the generator steps stepped no DP optimizer: opacus accounted the discriminator's steps only
    assert trained.accountant.history[0][2] == TINY["generator_steps"] * TINY["discriminator_steps"]


def test_unconditional_wasserstein_critic_is_weight_clipped(digits):
    trained, context = train(digits, conditional=False, loss="wasserstein", weight_clip=0.05)
    assert context.budget.ledger.events and trained.discriminator._module.embed is None
    assert all(bool(p.abs().max() <= torch.tensor(0.05)) for p in trained.discriminator.parameters())  # float32
    images = DPDCGAN().release(digits, DPDCGANParams(**{**TINY, "conditional": False}),
                               ReleaseContext.create(PrivacySection(epsilon=None, unit="example"), DPDCGAN(), 0,
                                                     progress=False))
    assert images.labels is None and images.images.shape == (30, 1, 8, 8)


def test_non_private_mode_trains_without_opacus_and_records_nothing(digits):
    trained, context = train(digits, epsilon=None)
    assert context.budget is None and trained.accountant is None
    assert type(trained.discriminator) is ImageDiscriminator


@pytest.mark.parametrize(("overrides", "message"), [
    ({"groups": 3}, "groups"),
    ({"weight_clip": 0.1}, "weight_clip only applies"),
    ({"discriminator_steps": 0}, "discriminator_steps"),
])
def test_bad_parameters_fail_when_the_config_is_read(overrides, message):
    config = {"name": "bad", "modality": "image", "dataset": {"name": "digits"},
              "privacy": {"epsilon": 1.0, "unit": "example"}, "method": {"name": "dp-dcgan", **overrides}}
    with pytest.raises(DPGraphError, match=message):
        parse_config(config)


def test_refusals_before_training(digits):
    with pytest.raises(DPGraphError, match="at most the number of training images"):
        train(digits, batch_size=digits.size + 1)
    with pytest.raises(DPGraphError, match="secure"):
        train(digits, randomness="secure")


def test_the_release_folder_holds_only_the_generator_and_its_samples(tmp_path):
    config = parse_config({
        "name": "dcgan-digits", "seed": 0, "modality": "image", "dataset": {"name": "digits"},
        "privacy": {"epsilon": 10.0, "delta": DELTA, "unit": "example", "accountant": "rdp"},
        "method": {"name": "dp-dcgan", **TINY},
        "evaluate": {"evaluators": ["image-utility"], "models": ["logreg"], "seeds": 1}})
    result = run_pipeline(config, out_dir=tmp_path / "run", progress=False)
    assert sorted(p.name for p in result.release_dir.iterdir()) == \
        ["config.yaml", "generator.pt", "privacy.json", "samples.pt"]
    samples = torch.load(result.release_dir / "samples.pt")
    assert samples["images"].shape == (30, 1, 8, 8) and samples["labels"].tolist() == sorted(list(range(10)) * 3)
    assert 0.99 * 10.0 <= result.privacy["epsilon"] <= 10.0
