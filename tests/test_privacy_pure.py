"""Pure-DP events (randomized response accounting) against independent references: closed forms, the hockey-stick
and Renyi divergences of randomized response summed over its outcomes (mpmath), numerical integration (scipy),
dp_accounting's PLD of an (eps, 0) mechanism and of the Laplace mechanism."""

import math

import mpmath
import pytest
from dp_accounting.pld import privacy_loss_distribution as pld
from dp_accounting.pld.common import DifferentialPrivacyParameters
from privacy_reference import dp_sgd
from scipy.integrate import quad
from scipy.stats import norm

from dpgraph.errors import DPGraphError
from dpgraph.privacy import (
    RDP_ORDERS,
    ComposedEvent,
    GaussianEvent,
    PoissonSampledEvent,
    PrivacyLedger,
    PureDPEvent,
    SampledWithoutReplacementEvent,
    SelfComposedEvent,
    accounting_method,
    compute_epsilon,
    event_from_dict,
    noise_multiplier_for,
)
from dpgraph.privacy.analytic import MAX_SUPPORT
from dpgraph.privacy.rdp import rdp_curve
from dpgraph.privacy.spend import Budget

DELTA = 1e-5


def rr(eps: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``(p, q)`` of randomized response at ``eps``, in 50-digit arithmetic."""
    with mpmath.workdps(50):
        return 1 / (1 + mpmath.e ** -mpmath.mpf(eps)), 1 / (1 + mpmath.e ** mpmath.mpf(eps))


def k_fold_rr_delta(eps: float, eps0: float, k: int) -> float:
    """Hockey-stick H_{e^eps} of k independent RR bits against their neighbour, summed over the outcomes grouped by
    the number d of bits that differ from the true ones: C(k, d) (p^(k-d) q^d - e^eps q^(k-d) p^d)_+."""
    p, q = rr(eps0)
    with mpmath.workdps(50):
        total = mpmath.fsum(mpmath.binomial(k, d) * max(0, p ** (k - d) * q**d - mpmath.e ** mpmath.mpf(eps)
                                                        * q ** (k - d) * p**d) for d in range(k + 1))
    return float(total)


def rr_gaussian_delta(eps: float, eps0: float, k: int, s: float) -> float:
    """H_{e^eps} of k RR_eps0 bits x N(1, s^2) against the neighbour's bits x N(0, s^2): for each number d of bits that
    differ from the true ones, C(k, d) times the integral over y of (p^(k-d) q^d N(y; 1) - e^eps q^(k-d) p^d N(y; 0))_+.
    """
    p, q = rr(eps0)
    total = 0.0
    for d in range(k + 1):
        mass, other = float(p ** (k - d) * q**d), float(q ** (k - d) * p**d)
        crossing = 0.5 + s**2 * (eps - math.log(mass / other))  # where the integrand's sign changes
        total += math.comb(k, d) * quad(
            lambda y, m=mass, o=other: max(0.0, m * norm.pdf(y, 1, s) - math.exp(eps) * o * norm.pdf(y, 0, s)),
            -40 * s, 40 * s, points=[crossing], limit=500, epsabs=1e-15, epsrel=1e-11)[0]
    return total


def dp_accounting_pure_pld(epsilons: list[tuple[float, int]], gaussians=(), dp_sgd_runs=()) -> float:
    """Epsilon at DELTA of dp_accounting's PLDs: (eps, 0) mechanisms (count times each), plain Gaussians and
    (sigma, q, steps) Poisson-subsampled Gaussians."""
    composed = pld.identity()
    for eps, count in epsilons:
        composed = composed.compose(pld.from_privacy_parameters(DifferentialPrivacyParameters(eps, 0.0)).self_compose(
            count))
    for sigma in gaussians:
        composed = composed.compose(pld.from_gaussian_mechanism(sigma))
    for sigma, q, steps in dp_sgd_runs:
        composed = composed.compose(pld.from_gaussian_mechanism(sigma, sampling_prob=q).self_compose(steps))
    return composed.get_epsilon_for_delta(DELTA)


@pytest.mark.parametrize("eps0", [0.01, 0.3, 1.0, 4.0, 20.0, 600.0])
def test_one_pure_event_is_the_closed_form(eps0):
    # RR's delta(eps) = p (1 - e^(eps - eps0)) for 0 <= eps < eps0, so eps = log(e^eps0 - delta (1 + e^eps0))
    event = PureDPEvent(eps0)
    eps = compute_epsilon(event, DELTA)
    assert accounting_method(event) == "analytic-gaussian"
    closed = eps0 + math.log1p(-DELTA * (1 + math.exp(-eps0)))  # the closed form, without overflow at eps0 = 600
    assert closed <= eps <= closed + 1e-10 * (1 + eps0)
    assert k_fold_rr_delta(eps, eps0, 1) <= DELTA


def test_tiny_delta_tends_to_the_pure_epsilon_and_tiny_epsilon_to_zero():
    assert compute_epsilon(PureDPEvent(2.0), 1e-14) == pytest.approx(2.0, abs=1e-11)
    # total variation tanh(eps0 / 2) <= delta: (0, delta)-DP
    assert compute_epsilon(PureDPEvent(1e-6), DELTA) == 0.0


@pytest.mark.parametrize("eps0", [0.05, 1.0, 8.0])
def test_rdp_is_randomized_response_summed_over_its_two_outcomes(eps0):
    p, q = rr(eps0)
    curve = rdp_curve(PureDPEvent(eps0))
    with mpmath.workdps(50):
        direct = [float(mpmath.log(p**a * q ** (1 - a) + q**a * p ** (1 - a)) / (a - 1))
                  for a in (mpmath.mpf(order) for order in RDP_ORDERS)]
    assert curve == pytest.approx(direct, rel=1e-12, abs=1e-15)
    # known bounds for pure DP (Bun and Steinke 2016): D_a <= min(eps0, a eps0^2 / 2), and D_a -> eps0 as a grows
    assert all(d <= min(eps0, a * eps0**2 / 2) * (1 + 1e-12) for a, d in zip(RDP_ORDERS, curve, strict=True))
    assert curve[-1] == pytest.approx(eps0, rel=0.02)


@pytest.mark.parametrize("eps0", [0.1, 1.0, 3.0])
def test_randomized_response_dominates_other_pure_mechanisms(eps0):
    # dp_accounting's pessimistic PLD of an (eps0, 0) mechanism agrees within its discretisation and never below ours
    ours = compute_epsilon(PureDPEvent(eps0), DELTA)
    reference = dp_accounting_pure_pld([(eps0, 1)])
    assert ours <= reference + 1e-9 and reference - ours < 2e-4
    # the Laplace mechanism of scale 1/eps0 is eps0-DP; RR's profile bounds it, also composed with others
    laplace = pld.from_laplace_mechanism(1 / eps0)
    assert laplace.get_epsilon_for_delta(DELTA) <= ours + 1e-4
    mixed = laplace.self_compose(3).compose(pld.from_gaussian_mechanism(2.0)).get_epsilon_for_delta(DELTA)
    assert mixed <= compute_epsilon(ComposedEvent((SelfComposedEvent(PureDPEvent(eps0), 3), GaussianEvent(2.0))),
                                    DELTA) + 1e-3


@pytest.mark.parametrize(("eps0", "k"), [(0.3, 10), (1.0, 3), (0.05, 400)])
def test_k_pure_events_are_exact(eps0, k):
    event = SelfComposedEvent(PureDPEvent(eps0), k)
    eps = compute_epsilon(event, DELTA)
    assert accounting_method(event) == "analytic-gaussian"
    assert k_fold_rr_delta(eps, eps0, k) <= DELTA * (1 + 1e-9)  # an upper bound on epsilon ...
    assert k_fold_rr_delta(eps * (1 - 1e-8), eps0, k) > DELTA  # ... and the least one
    reference = dp_accounting_pure_pld([(eps0, k)])
    assert eps <= reference + 1e-6 and reference - eps < 1e-3
    assert eps <= compute_epsilon(event, DELTA, "rdp")
    assert eps < k * eps0  # tighter than basic composition
    # split events of one epsilon count together
    assert compute_epsilon(ComposedEvent((SelfComposedEvent(PureDPEvent(eps0), k - 1), PureDPEvent(eps0))),
                           DELTA) == eps


@pytest.mark.parametrize(("eps0", "k", "s"), [(0.5, 1, 2.0), (2.0, 1, 0.8), (0.1, 1, 5.0), (0.1, 100, 5.0)])
def test_pure_with_a_gaussian_matches_the_integrated_hockey_stick(eps0, k, s):
    # (0.1, 100, 5.0): the losses of the 100 bits exceed the answer with mass ~delta: delta_G is needed below 0
    event = ComposedEvent((SelfComposedEvent(PureDPEvent(eps0), k), GaussianEvent(s)))
    assert accounting_method(event) == "analytic-gaussian"
    eps = compute_epsilon(event, DELTA)
    assert rr_gaussian_delta(eps, eps0, k, s) <= DELTA * (1 + 1e-7)  # an upper bound on epsilon ...
    assert rr_gaussian_delta(eps * (1 - 1e-6), eps0, k, s) > DELTA  # ... and the least one
    assert eps <= dp_accounting_pure_pld([(eps0, k)], gaussians=[s]) + 1e-6
    assert eps <= compute_epsilon(event, DELTA, "pld") + 1e-6
    assert compute_epsilon(event, DELTA, "pld") - eps < 2e-3
    assert eps <= compute_epsilon(event, DELTA, "rdp")
    alone = SelfComposedEvent(PureDPEvent(eps0), k)
    assert max(compute_epsilon(alone, DELTA), compute_epsilon(GaussianEvent(s), DELTA)) < eps


def test_distinct_epsilons_and_several_gaussians():
    event = ComposedEvent((PureDPEvent(0.5), SelfComposedEvent(PureDPEvent(0.2), 3), GaussianEvent(3.0),
                           SelfComposedEvent(GaussianEvent(6.0), 4)))
    eps = compute_epsilon(event, DELTA)
    assert accounting_method(event) == "analytic-gaussian"
    s = 1 / math.sqrt(1 / 3.0**2 + 4 / 6.0**2)  # the Gaussians are one
    reference = dp_accounting_pure_pld([(0.5, 1), (0.2, 3)], gaussians=[s])
    assert eps <= reference + 1e-6 and reference - eps < 2e-3
    assert eps <= compute_epsilon(event, DELTA, "rdp")


def test_pure_with_sampled_gaussians_goes_to_pld():
    event = ComposedEvent((PureDPEvent(0.5), GaussianEvent(4.0), dp_sgd(2.0, 0.05, 50)))
    assert accounting_method(event) == "pld"
    eps = compute_epsilon(event, DELTA)
    assert eps == pytest.approx(dp_accounting_pure_pld([(0.5, 1)], [4.0], [(2.0, 0.05, 50)]), rel=1e-6)
    without = compute_epsilon(ComposedEvent((GaussianEvent(4.0), dp_sgd(2.0, 0.05, 50))), DELTA)
    assert without < eps <= compute_epsilon(event, DELTA, "rdp")
    with pytest.raises(DPGraphError, match="analytic-gaussian accountant only handles") as err:
        compute_epsilon(event, DELTA, "analytic-gaussian")
    assert "\n" not in str(err.value)


def test_an_exploding_support_is_refused_by_analytic_and_auto_uses_pld():
    event = ComposedEvent(tuple(PureDPEvent(0.1 + 0.01 * i) for i in range(18)))  # 2^18 sign patterns
    assert 2**18 > MAX_SUPPORT
    with pytest.raises(DPGraphError, match="privacy-loss values .*use accountant 'pld' or 'rdp'") as err:
        compute_epsilon(event, DELTA, "analytic-gaussian")
    assert "\n" not in str(err.value)
    assert accounting_method(event) == "pld"
    reference = dp_accounting_pure_pld([(0.1 + 0.01 * i, 1) for i in range(18)])
    assert compute_epsilon(event, DELTA) == pytest.approx(reference, rel=1e-9)


def test_prv_refuses_pure_events_in_one_line():
    for event in (PureDPEvent(1.0), ComposedEvent((GaussianEvent(2.0), PureDPEvent(1.0)))):
        with pytest.raises(DPGraphError, match="prv accountant does not handle pure-DP events.*'pld' or 'rdp'") as err:
            compute_epsilon(event, DELTA, "prv")
        assert "\n" not in str(err.value)


@pytest.mark.parametrize("event", [PoissonSampledEvent(0.1, PureDPEvent(1.0)),
                                   SampledWithoutReplacementEvent(100, 10, PureDPEvent(1.0))])
def test_sampled_pure_events_are_refused(event):
    for accountant in ("auto", "rdp", "analytic-gaussian", "pld"):
        with pytest.raises(DPGraphError) as err:
            compute_epsilon(event, DELTA, accountant)
        assert "\n" not in str(err.value)
    with pytest.raises(DPGraphError, match="only a GaussianEvent may be subsampled"):
        compute_epsilon(event, DELTA, "rdp")
    # keeping every unit is no sampling: the inner event itself
    assert compute_epsilon(PoissonSampledEvent(1.0, PureDPEvent(1.0)), DELTA) == compute_epsilon(PureDPEvent(1.0),
                                                                                                 DELTA)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan, True, "1"])
def test_bad_epsilons_are_one_line_errors(bad):
    with pytest.raises(DPGraphError, match="epsilon of a pure-DP event must be a finite number > 0") as err:
        PureDPEvent(bad)
    assert "\n" not in str(err.value)


def test_serialisation_ledger_and_budget():
    event = PureDPEvent(0.7)
    assert event.to_dict() == {"type": "pure", "epsilon": 0.7}
    assert event_from_dict(event.to_dict()) == event
    with pytest.raises(DPGraphError, match="malformed 'pure'"):
        event_from_dict({"type": "pure"})
    # a Gaussian stage, then a pure stage calibrated to the cumulative target
    budget = Budget(PrivacyLedger(DELTA, "node"), {"counts": 1.0, "theta": 1.5})
    first = budget.calibrate("counts", GaussianEvent)
    first.record(first.event)
    spend = budget.calibrate("theta", lambda s: PureDPEvent(1.0 / s))
    spend.record(PureDPEvent(1.0 / spend.noise_multiplier))
    budget.close()
    ledger = budget.ledger
    assert 0.99 * 1.5 <= ledger.epsilon() <= 1.5
    assert ledger.accounted_with() == "analytic-gaussian"
    assert ledger.epsilon() == compute_epsilon(ComposedEvent((first.event, spend.event)), DELTA)
    again = PrivacyLedger.from_dict(ledger.to_dict())
    assert again.events == ledger.events and again.epsilon() == ledger.epsilon()


@pytest.mark.parametrize(("accountant", "prior"), [("auto", GaussianEvent(3.0)), ("pld", GaussianEvent(3.0)),
                                                   ("rdp", dp_sgd(1.5, 0.05, 100))])
def test_calibration_meets_the_target(accountant, prior):
    prior = (prior,)
    sigma = noise_multiplier_for(2.0, DELTA, lambda s: PureDPEvent(1.0 / s), accountant, prior)
    eps = compute_epsilon(ComposedEvent((*prior, PureDPEvent(1.0 / sigma))), DELTA, accountant)
    assert 0.99 * 2.0 <= eps <= 2.0
