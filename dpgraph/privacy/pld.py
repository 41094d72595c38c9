"""PLD accountant: dp_accounting's privacy loss distributions (composed by FFT, connect-the-dots discretisation,
Doroshenko et al. 2022) of (Poisson-)subsampled Gaussians and unsampled pure-DP events under add/remove neighbours,
the relation of ``PoissonSampledEvent``, and of Poisson K-occurrence steps with K = 1.

A K = 1 step (:class:`SubgraphSampledGaussianEvent`, ``sampler="poisson"``) is the replace-one Poisson-subsampled
Gaussian: a neighbour modifies one unit, which enters the batch with probability q in both datasets and contributes
a vector of norm <= C in each, under noise of std s C. Its dominating pair is dp_accounting's ``REPLACE`` adjacency
with sensitivity C: mu_upper = q N(-C, (sC)^2) + (1 - q) N(0, (sC)^2) against mu_lower = the same with +C (the
worst case puts the two contributions opposite; Zhu, Dong, Wang 2022 on the substitution relation), built by
``from_gaussian_mechanism(s, sampling_prob=q, neighboring_relation=REPLACE_ONE)``. It is second order in q, far
below the first-order RDP bound of :mod:`dpgraph.privacy.k_occurrence` for small q. Such a step composes with the
other PLDs of the run because each is a dominating pair of the same neighbouring datasets (a symmetric PLD serves
both directions of an add/remove one).

The event is flattened (:func:`~dpgraph.privacy.pure.pure_and_gaussians`): its plain Gaussians become one exact
Gaussian, each ``(sigma, q)`` group one Poisson-subsampled Gaussian PLD self-composed ``count`` times, built as
dp_accounting's ``PLDAccountant`` builds them, and each group of pure events of one epsilon the pessimistic PLD of an
``(eps, 0)`` mechanism (``from_privacy_parameters``: losses ``+-eps`` rounded up to the grid, masses of randomized
response, :mod:`dpgraph.privacy.pure`) self-composed ``count`` times (``PLDAccountant`` takes no such event under
add/remove). Every PLD is pessimistic (dp_accounting's default): the discretised PLD dominates the exact one and
truncated upper tails go to the infinite-loss mass, so the epsilon is an upper bound.

Work and memory grow with the number of discretisation points: about ``(1 + 20 s) / s^2`` loss units for one
Gaussian of multiplier ``s`` (its tails cut at mass e^-50) and ``2 eps`` for one pure event and, after composition,
twice the epsilon at the tail mass ``TAIL_MASS`` (bounded by RDP at the integer orders of ``RDP_ORDERS``, which
opacus evaluates fast), divided by ``VALUE_DISCRETIZATION``. Settings estimated above ``MAX_POINTS`` (tiny noise,
huge epsilon) are refused.
"""

from __future__ import annotations

import functools
import math
from collections import Counter

import dp_accounting as dpa
from dp_accounting.pld import privacy_loss_distribution
from dp_accounting.pld.common import DifferentialPrivacyParameters
from dp_accounting.rdp import compute_epsilon
from opacus.accountants.analysis.rdp import compute_rdp

from dpgraph.errors import DPGraphError
from dpgraph.privacy.accountants import ACCOUNTANTS
from dpgraph.privacy.events import ComposedEvent, PrivacyEvent, SelfComposedEvent, SubgraphSampledGaussianEvent
from dpgraph.privacy.gaussians import SampledGaussians, combined_noise_multiplier, leaf_counts
from dpgraph.privacy.pure import PureDPEvent, PureEpsilons, pure_rdp, require_pure_and_gaussians
from dpgraph.privacy.rdp import RDP_ORDERS

VALUE_DISCRETIZATION = 1e-4  # dp_accounting's default
TAIL_MASS = 1e-15  # dp_accounting's tail truncation in self-composition
MAX_POINTS = 2_000_000
TAIL_ORDERS = [a for a in RDP_ORDERS if a == int(a)]
ReplaceOneGaussians = Counter[tuple[float, float]]  # {(noise_multiplier, sampling_probability): count}


def replace_one_steps(event: PrivacyEvent) -> tuple[ReplaceOneGaussians, ComposedEvent]:
    """The Poisson K-occurrence steps with K = 1 of ``event`` as ``{(s, q): count}``, and the rest of it (a
    composition of its other leaves, empty when there are none). Full-batch steps are already plain Gaussians."""
    steps: ReplaceOneGaussians = Counter()
    rest: list[PrivacyEvent] = []
    for leaf, count in leaf_counts(event).items():
        if isinstance(leaf, SubgraphSampledGaussianEvent) and leaf.occurrences == 1 and leaf.sampler == "poisson":
            steps[(leaf.noise_multiplier, leaf.sampling_probability)] += count
        else:
            rest.append(leaf if count == 1 else SelfComposedEvent(leaf, count))
    return steps, ComposedEvent(rest)


def _groups(counts: SampledGaussians) -> tuple[tuple[float, float, int], ...]:
    """``(sigma, q, count)`` per PLD to build: the plain Gaussians merged (``q = 1``), then each sampled group."""
    sigma = combined_noise_multiplier(counts)
    plain = () if math.isinf(sigma) else ((sigma, 1.0, 1),)
    return plain + tuple(sorted((s, q, n) for (s, q), n in counts.items() if q < 1.0))


def pld_points(counts: SampledGaussians, pure: PureEpsilons, replace_one: ReplaceOneGaussians | None = None) -> float:
    """Estimated number of discretisation points of the composed PLD of ``counts``, ``pure`` ({epsilon: count} of
    pure events) and ``replace_one`` (K = 1 steps, estimated as add/remove steps of twice the sensitivity); see the
    module docstring."""
    groups = _groups(counts)
    doubled = tuple((s / 2, q, n) for (s, q), n in (replace_one or {}).items())
    if not groups and not pure and not doubled:
        return 0.0
    single = sum((1 + 20 * sigma) / sigma**2 for sigma, _, _ in groups + doubled) + sum(2 * eps for eps in pure)
    curve = sum(compute_rdp(q=q, noise_multiplier=sigma, steps=n, orders=TAIL_ORDERS)
                for sigma, q, n in groups + doubled)
    curve = curve + sum(n * pure_rdp(PureDPEvent(eps), TAIL_ORDERS) for eps, n in pure.items())
    tail, _ = compute_epsilon(TAIL_ORDERS, curve, TAIL_MASS)
    return max(single, 2 * tail) / VALUE_DISCRETIZATION


@functools.lru_cache(maxsize=256)
def _epsilon(groups: tuple[tuple[float, float, int], ...], pure: tuple[tuple[float, int], ...],
             replace_one: tuple[tuple[float, float, int], ...], delta: float) -> float:
    composed = privacy_loss_distribution.identity(VALUE_DISCRETIZATION)
    relations = [(group, dpa.NeighboringRelation.ADD_OR_REMOVE_ONE) for group in groups]
    relations += [(group, dpa.NeighboringRelation.REPLACE_ONE) for group in replace_one]
    for (sigma, q, count), relation in relations:  # the plain Gaussians are one group (q = 1) of count 1
        step = privacy_loss_distribution.from_gaussian_mechanism(
            sigma, value_discretization_interval=VALUE_DISCRETIZATION, sampling_prob=q, neighboring_relation=relation)
        composed = composed.compose(step if count == 1 else step.self_compose(count))
    for eps, count in pure:
        composed = composed.compose(privacy_loss_distribution.from_privacy_parameters(
            DifferentialPrivacyParameters(eps, 0.0), VALUE_DISCRETIZATION).self_compose(count))
    return max(0.0, float(composed.get_epsilon_for_delta(delta)))


@ACCOUNTANTS.register("pld")
def pld_epsilon(event: PrivacyEvent, delta: float) -> float:
    """Upper bound on epsilon at ``delta`` for ``event`` by PLD composition (cached per flattened event)."""
    replace_one, rest = replace_one_steps(event)
    pure, counts = require_pure_and_gaussians(rest, "pld")
    points = pld_points(counts, pure, replace_one)
    if points > MAX_POINTS:
        raise DPGraphError(
            f"the pld accountant would need about {points:.2g} points for this (tiny-noise or very large epsilon) "
            "setting; use accountant 'rdp'"
        )
    steps = tuple(sorted((s, q, n) for (s, q), n in replace_one.items()))
    return _epsilon(_groups(counts), tuple(sorted(pure.items())), steps, delta)
