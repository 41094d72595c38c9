"""The exponential mechanism (McSherry & Talwar 2007): choose one of a PUBLIC list of candidates, favouring high scores.

**Mechanism.** Given scores ``u_i(G)`` computed from the private data and a bound ``Delta`` with
``|u_i(G) - u_i(G')| <= Delta`` for every candidate ``i`` and neighbouring ``G, G'``, release ``i`` with probability
``P_G(i) = exp(eps u_i(G) / (2 Delta)) / Z(G)``, ``Z(G) = sum_j exp(eps u_j(G) / (2 Delta))``.

**Proof that it is eps-DP.** For every candidate ``i``,
``P_G(i) / P_G'(i) = exp(eps (u_i(G) - u_i(G')) / (2 Delta)) * Z(G') / Z(G)``. The first factor is at most
``e^(eps/2)``, and so is the second, since every term of ``Z(G')`` is at most ``e^(eps/2)`` times the same term of
``Z(G)``. So ``P_G(i) <= e^eps P_G'(i)`` for every output: eps-DP with delta = 0 (a
:class:`~dpgraph.privacy.pure.PureDPEvent`), whichever way the neighbours differ.

**Sampling** (Gumbel-max): with ``g_i = -log(-log U_i)``, ``U_i`` i.i.d. uniform, ``argmax_i (log w_i + g_i)`` is
``i`` with probability ``w_i / sum_j w_j`` (Gumbel 1954; Maddison, Tarlow, Minka 2014), here with
``log w_i = eps (u_i - max_j u_j) / (2 Delta)`` in float64. The uniforms come only from the run's secret randomness.
Floating point: the uniforms lie on a 2^-53 grid, so the drawn law departs from the softmax only on events of
probability of that order (an outcome more than about 40 below the best in ``log w`` is never drawn), the caveat of
every floating-point sampler (Ilvento 2020 for this mechanism).

**Calibration.** The budget calibrates a noise multiplier ``s``; :func:`exponential_event` maps it to
``PureDPEvent(1 / s)``, i.e. ``P(i) ~ exp(u_i / (2 Delta s))``: ``s`` is the softmax temperature per unit of
``2 Delta``, and epsilon falls as ``s`` grows, as the calibrator requires.
"""

from __future__ import annotations

import torch
from torch import Tensor

from dpgraph.errors import DPGraphError
from dpgraph.privacy.pure import PureDPEvent
from dpgraph.privacy.randomness import SecretRandomness
from dpgraph.privacy.spend import Spend
from dpgraph.privacy.validation import check_positive


def exponential_event(noise_multiplier: float) -> PureDPEvent:
    """The event of the exponential mechanism at calibrated noise multiplier ``s``: ``PureDPEvent(1 / s)``."""
    return PureDPEvent(1.0 / check_positive(noise_multiplier, "noise_multiplier"))


def exponential_mechanism(scores: Tensor, sensitivity: float, epsilon: float, randomness: SecretRandomness) -> int:
    """Index ``i`` drawn with probability proportional to ``exp(epsilon * scores[i] / (2 * sensitivity))``, by the
    Gumbel-max trick on uniforms from ``randomness`` (module docstring). ``scores``: one finite score per public
    candidate; ``sensitivity``: a bound on ``|scores_i(G) - scores_i(G')|`` for every ``i`` and neighbours."""
    sensitivity = check_positive(sensitivity, "sensitivity of the scores")
    epsilon = check_positive(epsilon, "epsilon of the exponential mechanism")
    if not isinstance(scores, Tensor) or scores.ndim != 1 or scores.numel() == 0:
        raise DPGraphError("scores must be a non-empty 1-D tensor, one score per candidate")
    scores = scores.detach().to(device="cpu", dtype=torch.float64)
    if not torch.isfinite(scores).all():
        raise DPGraphError("scores of the exponential mechanism must be finite; clip or bound them")
    log_weights = (scores - scores.max()) * (epsilon / (2 * sensitivity))
    gumbel = -torch.log(-torch.log(randomness.uniform((scores.numel(),))))
    return int(torch.argmax(log_weights + gumbel))


def exponential_release(scores: Tensor, sensitivity: float, spend: Spend, randomness: SecretRandomness) -> int:
    """:func:`exponential_mechanism` at the epsilon of :func:`exponential_event` of the noise multiplier ``spend``
    was calibrated to; records that event through ``spend``."""
    event = exponential_event(spend.noise_multiplier)
    choice = exponential_mechanism(scores, sensitivity, event.epsilon, randomness)
    spend.record(event)
    return choice
