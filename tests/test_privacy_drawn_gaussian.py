"""The drawn Gaussian (GS-WGAN's revealed-draw accounting) against independent references: the T-fold Gaussian
(dp_accounting), direct numerical integration of one iteration's hockey-stick and Renyi divergences (scipy), a
Monte-Carlo simulation of the mechanism, and the Poisson-subsampled Gaussian it must never undercut (dp_accounting's
PLD)."""

import math

import dp_accounting as dpa
import numpy as np
import pytest
from dp_accounting import get_epsilon_gaussian
from dp_accounting.pld import PLDAccountant
from opacus.accountants.analysis.rdp import compute_rdp
from privacy_reference import dp_sgd
from scipy.integrate import quad
from scipy.stats import norm

from dpgraph.errors import DPGraphError
from dpgraph.privacy import (
    RDP_ORDERS,
    ComposedEvent,
    DrawnGaussianEvent,
    GaussianEvent,
    PrivacyLedger,
    SelfComposedEvent,
    accounting_method,
    compute_epsilon,
    event_from_dict,
    noise_multiplier_for,
)
from dpgraph.privacy.drawn_gaussian import drawn_gaussian_composition, drawn_gaussian_rdp, mixture_delta
from dpgraph.privacy.rdp import rdp_curve

DELTA = 1e-5


def one_step_hockey_stick(eps: float, q: float, s: float) -> float:
    """delta(eps) of one revealed-draw iteration by integrating max(0, p - e^eps p') over the output (draw, y):
    a hit (probability q) releases N(1, s^2) against N(0, s^2), a miss N(0, s^2) under both."""
    hit = quad(lambda y: max(0.0, norm.pdf(y, 1, s) - math.exp(eps) * norm.pdf(y, 0, s)), -40 * s, 40 * s,
               points=[0.5, 0.5 + eps * s**2], limit=500, epsabs=1e-14, epsrel=1e-10)[0]
    miss = max(0.0, 1 - math.exp(eps))
    return q * hit + (1 - q) * miss


def poisson_pld_epsilon(q: float, s: float, steps: int) -> float:
    accountant = PLDAccountant(dpa.NeighboringRelation.ADD_OR_REMOVE_ONE)
    accountant.compose(dpa.PoissonSampledDpEvent(q, dpa.GaussianDpEvent(s)), steps)
    return accountant.get_epsilon(DELTA)


@pytest.mark.parametrize(("s", "steps"), [(0.8, 1), (2.0, 10), (12.0, 300)])
def test_always_drawn_is_the_t_fold_gaussian(s, steps):
    event = DrawnGaussianEvent(1.0, s, steps)
    eps = compute_epsilon(event, DELTA)
    assert accounting_method(event) == "analytic-gaussian"
    assert eps == pytest.approx(get_epsilon_gaussian(s / math.sqrt(steps), DELTA), rel=1e-9)
    assert eps == pytest.approx(compute_epsilon(SelfComposedEvent(GaussianEvent(s), steps), DELTA), rel=1e-9)


@pytest.mark.parametrize(("q", "s"), [(0.1, 0.5), (0.3, 1.0), (0.05, 0.3)])
def test_one_iteration_matches_the_integrated_hockey_stick(q, s):
    composition = drawn_gaussian_composition(DrawnGaussianEvent(q, s, 1))
    for eps in (0.1, 1.0, 3.0):
        assert mixture_delta(eps, composition) == pytest.approx(one_step_hockey_stick(eps, q, s), rel=1e-7)
    eps = compute_epsilon(DrawnGaussianEvent(q, s, 1), DELTA)
    assert one_step_hockey_stick(eps, q, s) <= DELTA * (1 + 1e-7)  # an upper bound on epsilon ...
    assert one_step_hockey_stick(eps * (1 - 1e-6), q, s) > DELTA  # ... and the least one


def test_one_iteration_renyi_divergence_matches_integration():
    q, s = 0.2, 1.3
    event = DrawnGaussianEvent(q, s, 1)
    orders = [1.5, 2.0, 4.0, 8.0]
    for order, ours in zip(orders, drawn_gaussian_rdp(event, orders), strict=True):
        moment = quad(lambda y, a=order: math.exp(a * norm.logpdf(y, 1, s) + (1 - a) * norm.logpdf(y, 0, s)),
                      -40, 40, limit=200)[0]
        assert ours == pytest.approx(math.log(1 - q + q * moment) / (order - 1), rel=1e-8)
    gaussian = compute_rdp(q=1.0, noise_multiplier=s, steps=7, orders=list(RDP_ORDERS))
    assert rdp_curve(DrawnGaussianEvent(1.0, s, 7)) == pytest.approx(gaussian, rel=1e-9)


def test_monte_carlo_delta_agrees_with_the_mixture():
    # the mechanism itself, draws revealed: T iterations, a hit releases y ~ N(1, s^2) (vs N(0, s^2)); its privacy
    # loss is the sum over hits of (2y - 1) / (2 s^2), and delta(eps) = E_P[(1 - e^(eps - L))_+]
    q, s, steps, eps, trials = 0.2, 1.5, 20, 1.0, 400_000
    rng = np.random.default_rng(0)
    hits = rng.random((trials, steps)) < q
    y = rng.normal(0.0, s, (trials, steps)) + hits
    loss = np.where(hits, (2 * y - 1) / (2 * s**2), 0.0).sum(1)
    samples = np.clip(1 - np.exp(eps - loss), 0, None)
    estimate, error = samples.mean(), samples.std() / math.sqrt(trials)
    exact = mixture_delta(eps, drawn_gaussian_composition(DrawnGaussianEvent(q, s, steps)))
    assert error < 0.02 * exact
    assert abs(estimate - exact) < 4 * error


@pytest.mark.parametrize(("q", "s", "steps"), [(0.1, 1.0, 100), (0.02, 3.0, 2000), (0.5, 4.0, 50)])
def test_exact_between_poisson_subsampled_and_rdp(q, s, steps):
    event = DrawnGaussianEvent(q, s, steps)
    exact = compute_epsilon(event, DELTA)
    assert exact <= compute_epsilon(event, DELTA, "rdp")
    # revealing the draw costs more than Poisson subsampling, whose miss is the neighbour's own distribution
    assert exact > poisson_pld_epsilon(q, s, steps)


def test_rare_draws_amplify_delta_not_epsilon():
    # delta(eps) >= P(m = 1) delta_G(eps; 1/s): epsilon stays above one Gaussian's at delta / P(m = 1), however small q
    s, steps = 1.0, 10
    for q in (1e-3, 1e-5):
        hit_once = steps * q * (1 - q) ** (steps - 1)
        eps = compute_epsilon(DrawnGaussianEvent(q, s, steps), DELTA)
        assert get_epsilon_gaussian(s, DELTA / hit_once) <= eps
    assert eps == pytest.approx(get_epsilon_gaussian(s, DELTA / hit_once), rel=1e-3)  # q = 1e-5: one hit dominates


def test_epsilon_grows_with_the_draw_probability():
    epsilons = [compute_epsilon(DrawnGaussianEvent(q, 2.0, 500), DELTA) for q in (0.01, 0.02, 0.05, 0.2, 1.0)]
    assert epsilons == sorted(epsilons)


def test_composition_with_gaussians_is_exact():
    # q = 1: everything is one Gaussian; q < 1: the mixture over hits, each count with the plain Gaussians added
    drawn, plain = DrawnGaussianEvent(1.0, 3.0, 4), GaussianEvent(2.0)
    combined = 1 / math.sqrt(4 / 3.0**2 + 1 / 2.0**2)
    assert compute_epsilon(ComposedEvent((drawn, plain)), DELTA) == pytest.approx(
        get_epsilon_gaussian(combined, DELTA), rel=1e-9)
    mixed = ComposedEvent((DrawnGaussianEvent(0.1, 2.0, 60), SelfComposedEvent(GaussianEvent(6.0), 2)))
    assert accounting_method(mixed) == "analytic-gaussian"
    assert compute_epsilon(DrawnGaussianEvent(0.1, 2.0, 60), DELTA) < compute_epsilon(mixed, DELTA)
    assert compute_epsilon(mixed, DELTA) <= compute_epsilon(mixed, DELTA, "rdp")
    # drawn events of one (q, s) add their steps
    split = ComposedEvent((DrawnGaussianEvent(0.1, 2.0, 20), DrawnGaussianEvent(0.1, 2.0, 40)))
    assert compute_epsilon(split, DELTA) == compute_epsilon(DrawnGaussianEvent(0.1, 2.0, 60), DELTA)


def test_other_mixtures_go_to_rdp_and_other_accountants_refuse():
    drawn = DrawnGaussianEvent(0.1, 2.0, 60)
    with_dp_sgd = ComposedEvent((drawn, dp_sgd(1.0, 0.01, 100)))
    assert accounting_method(with_dp_sgd) == "rdp"
    assert rdp_curve(with_dp_sgd) == pytest.approx(rdp_curve(drawn) + rdp_curve(dp_sgd(1.0, 0.01, 100)))
    assert accounting_method(ComposedEvent((drawn, DrawnGaussianEvent(0.2, 2.0, 10)))) == "rdp"
    for accountant in ("pld", "prv"):
        with pytest.raises(DPGraphError, match=f"the {accountant} accountant only handles"):
            compute_epsilon(drawn, DELTA, accountant)
    with pytest.raises(DPGraphError, match="analytic-gaussian accountant only handles"):
        compute_epsilon(with_dp_sgd, DELTA, "analytic-gaussian")


def test_serialisation_and_ledger_round_trip():
    event = DrawnGaussianEvent(0.02, 1.7, 3000)
    assert event_from_dict(event.to_dict()) == event
    ledger = PrivacyLedger(DELTA, "example")
    ledger.record("train", event)
    ledger.record("labels", GaussianEvent(5.0))
    again = PrivacyLedger.from_dict(ledger.to_dict())
    assert again.events == ledger.events and again.epsilon() == ledger.epsilon()
    assert ledger.accounted_with() == "analytic-gaussian"
    with pytest.raises(DPGraphError, match="malformed 'drawn_gaussian'"):
        event_from_dict({"type": "drawn_gaussian", "draw_probability": 0.1})


@pytest.mark.parametrize("bad", [dict(draw_probability=0.0), dict(draw_probability=1.5), dict(steps=0),
                                 dict(noise_multiplier=-1.0)])
def test_bad_parameters_fail(bad):
    with pytest.raises(DPGraphError, match=next(iter(bad))):
        DrawnGaussianEvent(**{"draw_probability": 0.1, "noise_multiplier": 1.0, "steps": 10, **bad})


def test_calibration_meets_the_target():
    k, batch, steps, target = 20, 32, 400, 4.0
    sigma = noise_multiplier_for(target, DELTA, lambda s: DrawnGaussianEvent(1 / k, s / (2 * math.sqrt(batch)), steps))
    eps = compute_epsilon(DrawnGaussianEvent(1 / k, sigma / (2 * math.sqrt(batch)), steps), DELTA)
    assert 0.99 * target <= eps <= target
