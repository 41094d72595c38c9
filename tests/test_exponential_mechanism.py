"""The exponential mechanism: its draws follow the softmax (chi-square on a fixed reproducible seed), the softmax is
eps-DP on neighbouring score vectors (exact ratios), the draws come only from the secret randomness, and
``ReleaseContext.exponential`` spends through the budget and records one pure-DP event."""

import math

import numpy as np
import pytest
import torch
from fixed_uniforms import FixedUniforms
from scipy.stats import chisquare

from dpgraph.config.sections import PrivacySection
from dpgraph.errors import DPGraphError
from dpgraph.mechanisms.base import ReleaseContext
from dpgraph.privacy import GaussianEvent, PrivacyLedger, PureDPEvent, compute_epsilon, exponential_mechanism
from dpgraph.privacy.randomness import GeneratorRandomness
from dpgraph.privacy.spend import Budget

DELTA = 1e-5


def softmax(scores: np.ndarray, sensitivity: float, epsilon: float) -> np.ndarray:
    """P(i) = exp(eps u_i / (2 Delta)) / sum_j exp(eps u_j / (2 Delta)), in float64."""
    logits = epsilon * np.asarray(scores, dtype=float) / (2 * sensitivity)
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def draws(scores, sensitivity, epsilon, randomness, n):
    return np.array([exponential_mechanism(scores, sensitivity, epsilon, randomness) for _ in range(n)])


@pytest.mark.parametrize(("scores", "sensitivity", "epsilon"), [
    ([0.0, 1.0, 2.0, 3.5, -1.0], 1.0, 2.0),
    ([10.0, 10.0, 9.0, 4.0], 2.0, 1.0),
    ([1e6, 1e6 + 50.0, 1e6 + 48.0, 1e6 + 49.0, 1e6 + 47.0, 1e6 + 1.0], 3.0, 0.5),  # far from 0, some cells empty
])
def test_draws_follow_the_softmax(scores, sensitivity, epsilon):
    n = 20_000
    expected = softmax(np.array(scores), sensitivity, epsilon)
    counts = np.bincount(draws(torch.tensor(scores), sensitivity, epsilon, GeneratorRandomness.seeded(11), n),
                         minlength=len(scores))
    live = expected * n >= 5  # chi-square on the cells it is valid for, the others pooled into one
    observed, predicted = counts[live], expected[live] * n
    if not live.all():
        observed, predicted = np.append(observed, counts[~live].sum()), np.append(predicted, expected[~live].sum() * n)
    assert chisquare(observed, predicted).pvalue > 1e-3
    assert 0.5 * np.abs(counts / n - expected).sum() < 0.02


def test_softmax_is_eps_dp_on_neighbouring_scores():
    # every entry moved by at most Delta: each outcome's probability moves by a factor <= e^eps, and the worst case
    # (the outcome up by Delta, all others down by Delta) comes close to it, so the factor 2 in the exponent is needed
    rng = np.random.default_rng(3)
    sensitivity, epsilon = 1.5, 0.8
    worst = 0.0
    for _ in range(300):
        scores = rng.normal(0.0, 4.0, rng.integers(2, 12))
        shifted = scores + rng.uniform(-sensitivity, sensitivity, scores.shape)
        for a, b in ((scores, shifted), (shifted, scores)):
            ratio = softmax(a, sensitivity, epsilon) / softmax(b, sensitivity, epsilon)
            assert ratio.max() <= math.exp(epsilon) * (1 + 1e-12)
            worst = max(worst, ratio.max())
    scores = np.array([-300.0, 0.0, 0.0])  # outcome 0 unlikely: its ratio is nearly the product of both factors
    extreme = softmax(scores + np.array([sensitivity, -sensitivity, -sensitivity]), sensitivity, epsilon)
    assert extreme[0] / softmax(scores, sensitivity, epsilon)[0] == pytest.approx(math.exp(epsilon), rel=1e-9)
    assert worst > math.exp(epsilon / 2)


def test_the_draw_uses_only_the_secret_randomness():
    scores = torch.tensor([0.0, 1.0, 0.5])
    state = torch.get_rng_state()
    first = draws(scores, 1.0, 1.0, GeneratorRandomness.seeded(1), 200)
    assert torch.equal(torch.get_rng_state(), state)  # the public (global) generator is untouched
    assert np.array_equal(first, draws(scores, 1.0, 1.0, GeneratorRandomness.seeded(1), 200))
    assert not np.array_equal(first, draws(scores, 1.0, 1.0, GeneratorRandomness.seeded(2), 200))
    # a given set of uniforms decides the draw: Gumbel-max on log w_i - log(-log u_i)
    for winner in range(3):
        uniforms = [1e-9] * 3
        uniforms[winner] = 1 - 1e-12  # a huge Gumbel
        source = FixedUniforms(uniforms)
        assert exponential_mechanism(scores, 1.0, 1.0, source) == winner and source.calls == 1
    uniforms = torch.tensor([0.3, 0.6, 0.9], dtype=torch.float64)
    log_weights = torch.tensor([-0.5, 0.0, -0.25], dtype=torch.float64)  # (scores - max) * eps / (2 Delta)
    expected = int(torch.argmax(log_weights - torch.log(-torch.log(uniforms))))
    assert exponential_mechanism(scores, 1.0, 1.0, FixedUniforms(uniforms.tolist())) == expected


def test_scores_of_any_dtype_are_used_in_float64():
    randomness = [GeneratorRandomness.seeded(5) for _ in range(3)]
    picks = [draws(torch.tensor([1, 3, 2], dtype=dtype), 1.0, 3.0, source, 50)
             for dtype, source in zip((torch.int64, torch.float32, torch.float64), randomness, strict=True)]
    assert np.array_equal(picks[0], picks[1]) and np.array_equal(picks[1], picks[2])


@pytest.mark.parametrize(("scores", "sensitivity", "epsilon", "message"), [
    (torch.tensor([0.0, math.nan]), 1.0, 1.0, "finite"),
    (torch.tensor([0.0, math.inf]), 1.0, 1.0, "finite"),
    (torch.tensor([]), 1.0, 1.0, "non-empty 1-D"),
    (torch.zeros(2, 2), 1.0, 1.0, "non-empty 1-D"),
    ([0.0, 1.0], 1.0, 1.0, "non-empty 1-D"),
    (torch.tensor([0.0, 1.0]), 0.0, 1.0, "sensitivity"),
    (torch.tensor([0.0, 1.0]), math.nan, 1.0, "sensitivity"),
    (torch.tensor([0.0, 1.0]), 1.0, -1.0, "epsilon"),
])
def test_bad_inputs_are_one_line_errors(scores, sensitivity, epsilon, message):
    with pytest.raises(DPGraphError, match=message) as err:
        exponential_mechanism(scores, sensitivity, epsilon, GeneratorRandomness.seeded(0))
    assert "\n" not in str(err.value)


def context(budget: Budget | None, seed: int = 4) -> ReleaseContext:
    privacy = PrivacySection(epsilon=None if budget is None else 2.0, randomness="reproducible")
    return ReleaseContext(privacy=privacy, budget=budget, public=torch.Generator().manual_seed(0),
                          secret=GeneratorRandomness.seeded(seed), device=torch.device("cpu"))


def test_release_context_spends_and_records_one_pure_event():
    ledger = PrivacyLedger(DELTA, "node")
    ctx = context(Budget(ledger, {"counts": 1.0, "theta": 2.0}))
    ctx.gaussian("counts", torch.zeros(3), 1.0)
    scores = torch.tensor([0.0, 2.0, 1.0, -3.0])
    choice = ctx.exponential("theta", scores, 2.0)
    (_, gaussian), (stage, event) = ledger.events
    assert stage == "theta" and isinstance(event, PureDPEvent) and isinstance(gaussian, GaussianEvent)
    assert 0.99 * 1.0 <= compute_epsilon(gaussian, DELTA) <= 1.0
    assert 0.99 * 2.0 <= ledger.epsilon() <= 2.0  # the cumulative target of the stage
    assert ledger.accounted_with() == "analytic-gaussian"
    # the choice is the mechanism's draw at the recorded epsilon from the context's secret source
    twin = GeneratorRandomness.seeded(4)
    twin.normal((3,), 1.0)  # the counts stage's noise came first
    assert choice == exponential_mechanism(scores, 2.0, event.epsilon, twin)
    ctx.budget.close()


def test_release_context_refuses_a_non_private_run():
    with pytest.raises(DPGraphError, match="non-private run"):
        context(None).exponential("theta", torch.tensor([0.0, 1.0]), 1.0)
