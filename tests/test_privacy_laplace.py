"""The Laplace mechanism: its noise follows scipy's Laplace law (KS), the calibrated scale makes it exactly eps-DP
(hockey-stick by scipy integration), the event recorded and the ledger's epsilon match closed forms and
dp_accounting's Laplace PLD, and every draw comes from the secret randomness alone."""

import math

import numpy as np
import pytest
import torch
from dp_accounting.pld import privacy_loss_distribution as pld
from fixed_uniforms import FixedUniforms
from scipy.integrate import quad
from scipy.stats import kstest, laplace

from dpgraph.errors import DPGraphError
from dpgraph.privacy import PrivacyLedger, PureDPEvent
from dpgraph.privacy.laplace import centred_uniform, laplace_event, laplace_noise, laplace_release
from dpgraph.privacy.randomness import GeneratorRandomness
from dpgraph.privacy.spend import Budget

DELTA = 1e-5


@pytest.mark.parametrize("scale", [0.05, 1.0, 7.5])
def test_noise_follows_the_laplace_law(scale):
    noise = laplace_noise((100_000,), scale, GeneratorRandomness.seeded(3)).numpy()
    assert noise.dtype == np.float64 and np.isfinite(noise).all()
    assert kstest(noise, laplace(scale=scale).cdf).pvalue > 1e-3
    assert kstest(noise, laplace(scale=1.2 * scale).cdf).pvalue < 1e-6  # the test can tell a wrong scale
    assert np.mean(np.abs(noise)) == pytest.approx(scale, rel=0.02)  # E|X| = b
    assert abs(np.mean(noise > 0) - 0.5) < 0.01


def test_the_noise_is_a_function_of_the_secret_uniforms_alone():
    state = torch.get_rng_state()
    first = laplace_noise((500,), 2.0, GeneratorRandomness.seeded(1))
    assert torch.equal(torch.get_rng_state(), state)  # the public (global) generator is untouched
    assert torch.equal(first, laplace_noise((500,), 2.0, GeneratorRandomness.seeded(1)))
    assert not torch.equal(first, laplace_noise((500,), 2.0, GeneratorRandomness.seeded(2)))
    # the inverse CDF at given uniforms: the grid's ends give the finite, symmetric extremes +-53 b ln 2
    b, u = 2.0, [0.0, 1 - 2.0**-53, 0.25, 0.75 - 2.0**-53, 0.5]
    source = FixedUniforms(u)
    noise = laplace_noise((5,), b, source)
    assert source.calls == 1
    extreme = 53 * b * math.log(2)
    assert noise[0] == pytest.approx(-extreme, rel=1e-12) and noise[1] == pytest.approx(extreme, rel=1e-12)
    # inside the grid, scipy's inverse CDF (whose u + 2^-54 would round to 1 at the top end: the reason for centring)
    assert noise[2:].numpy() == pytest.approx(laplace(scale=b).ppf(np.array(u[2:]) + 2.0**-54), rel=1e-9, abs=1e-12)
    assert float(noise[2]) == -float(noise[3])  # the midpoint grid is symmetric: u and 1 - 2^-53 - u
    grid = centred_uniform((3,), FixedUniforms([0.0, 0.5, 1 - 2.0**-53])).tolist()
    assert grid == [-0.5 + 2.0**-54, 2.0**-54, 0.5 - 2.0**-54]


@pytest.mark.parametrize(("epsilon", "sensitivity"), [(0.3, 1.0), (1.0, 2.0), (4.0, 0.5)])
def test_the_calibrated_scale_is_exactly_epsilon_dp(epsilon, sensitivity):
    # b = s * Delta_1 with s = 1 / epsilon: the hockey-stick of Lap(0, b) against Lap(Delta_1, b) at e^eps is 0,
    # and positive at any smaller eps
    s = 1 / epsilon
    b = s * sensitivity

    def hockey(eps):
        return quad(lambda y: max(0.0, laplace.pdf(y, 0, b) - math.exp(eps) * laplace.pdf(y, sensitivity, b)),
                    -60 * b, 60 * b + sensitivity, points=[0.0, sensitivity], limit=400)[0]

    assert hockey(epsilon) < 1e-12
    assert hockey(0.95 * epsilon) > 1e-4
    assert laplace_event(s) == PureDPEvent(epsilon)


@pytest.mark.parametrize("target", [0.5, 2.0])
def test_release_records_one_pure_event_meeting_the_target(target):
    ledger = PrivacyLedger(DELTA, "edge")
    spend = Budget(ledger, {"count": target}).calibrate("count", laplace_event)
    value = torch.arange(6, dtype=torch.int64).reshape(2, 3)
    noisy = laplace_release(value, 3.0, spend, GeneratorRandomness.seeded(0))
    assert noisy.dtype == torch.float64 and noisy.shape == value.shape
    twin = GeneratorRandomness.seeded(0)
    assert torch.equal(noisy, value.double() + laplace_noise((2, 3), 3.0 * spend.noise_multiplier, twin))
    [(stage, event)] = ledger.events
    eps0 = 1 / spend.noise_multiplier
    assert stage == "count" and event == PureDPEvent(eps0)
    # one pure event: eps(delta) = eps0 + log(1 - delta (1 + e^-eps0)) in closed form
    closed = eps0 + math.log1p(-DELTA * (1 + math.exp(-eps0)))
    assert ledger.epsilon() == pytest.approx(closed, abs=1e-9)
    assert 0.99 * target <= ledger.epsilon() <= target
    # the Laplace mechanism's own PLD (dp_accounting) is dominated by the accounting as randomized response
    laplace_pld = pld.from_laplace_mechanism(3.0 * spend.noise_multiplier, sensitivity=3.0)
    assert laplace_pld.get_epsilon_for_delta(DELTA) <= ledger.epsilon() + 1e-4


def test_noise_scale_of_a_release():
    ledger = PrivacyLedger(DELTA, "edge")
    spend = Budget(ledger, {"s": 1.0}).calibrate("s", laplace_event)
    noisy = laplace_release(torch.full((100_000,), 5.0), 2.0, spend, GeneratorRandomness.seeded(9))
    assert kstest((noisy - 5.0).numpy(), laplace(scale=2.0 * spend.noise_multiplier).cdf).pvalue > 1e-3


@pytest.mark.parametrize(("call", "message"), [
    (lambda: laplace_noise((3,), 0.0, GeneratorRandomness.seeded(0)), "scale of the Laplace noise"),
    (lambda: laplace_noise((3,), math.nan, GeneratorRandomness.seeded(0)), "scale of the Laplace noise"),
    (lambda: laplace_event(-1.0), "noise_multiplier"),
])
def test_bad_inputs_are_one_line_errors(call, message):
    with pytest.raises(DPGraphError, match=message) as err:
        call()
    assert "\n" not in str(err.value)


def test_a_bad_sensitivity_records_nothing():
    ledger = PrivacyLedger(DELTA, "edge")
    spend = Budget(ledger, {"s": 1.0}).calibrate("s", laplace_event)
    with pytest.raises(DPGraphError, match="L1 sensitivity must be a finite number > 0"):
        laplace_release(torch.zeros(2), 0.0, spend, GeneratorRandomness.seeded(0))
    assert ledger.events == [] and not spend.recorded
