"""The Laplace mechanism (Dwork, McSherry, Nissim, Smith 2006): ``f(G) + Lap(b)^d`` with ``b = Delta_1 / epsilon``.

**Proof that it is eps-DP.** Let ``||f(G) - f(G')||_1 <= Delta_1`` for neighbours ``G, G'``. At every output ``y`` the
density ratio is ``prod_i exp((|y_i - f_i(G')| - |y_i - f_i(G)|) / b) <= exp(||f(G) - f(G')||_1 / b) <= e^eps``
(triangle inequality, entry by entry), whichever way the neighbours differ: eps-DP with delta = 0, a
:class:`~dpgraph.privacy.pure.PureDPEvent`.

**Sampling** (inverse CDF): for ``t`` uniform on (-1/2, 1/2), ``X = -b sign(t) log(1 - 2|t|)`` has the Laplace
CDF. The uniforms ``u`` come only from the run's secret randomness; ``t = (u - 1/2) + 2^-54`` moves them to the
midpoints of their 2^-53 grid (:func:`centred_uniform`, exact in float64), so the log never sees 0, the grid is
symmetric about 0, and ``|X|`` is at most ``53 b ln 2`` (about ``36.7 b``): the law is exact up to tails of mass
about 2^-53. Floating point: the low-order
bits of a textbook floating-point Laplace sample can reveal its input (Mironov 2012); the mechanisms of dpgraph only
threshold or round their noisy values, which discards those bits, a mitigation rather than a proof.

**Calibration.** The budget calibrates a noise multiplier ``s``; :func:`laplace_event` maps it to
``PureDPEvent(1 / s)``, i.e. ``b = s Delta_1``: ``s`` is the noise scale per unit of L1 sensitivity (as sigma is the
Gaussian's standard deviation per unit of L2 sensitivity), and epsilon falls as ``s`` grows, as the calibrator requires.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from dpgraph.privacy.pure import PureDPEvent
from dpgraph.privacy.randomness import SecretRandomness
from dpgraph.privacy.spend import Spend
from dpgraph.privacy.validation import check_positive

HALF_GRID = 2.0**-54  # half the spacing of the float64 uniforms on [0, 1)


def centred_uniform(shape: Sequence[int], randomness: SecretRandomness) -> Tensor:
    """float64 uniforms on the open interval (-1/2, 1/2): ``u - 1/2 + 2^-54`` for ``randomness``'s draws ``u`` on the
    2^-53 grid of [0, 1), the midpoints of their cells, symmetric about 0 and exact in float64 (both steps are
    exact: ``u - 1/2`` by Sterbenz's lemma or the finer grid below 1/2, the shift as a multiple of 2^-54 of
    magnitude at most 1/2)."""
    return randomness.uniform(shape).sub_(0.5).add_(HALF_GRID)


def laplace_noise(shape: Sequence[int], scale: float, randomness: SecretRandomness) -> Tensor:
    """float64 i.i.d. ``Lap(scale)`` draws (density ``exp(-|x| / scale) / (2 scale)``) by the inverse CDF of
    :func:`centred_uniform` draws from ``randomness`` (module docstring)."""
    scale = check_positive(scale, "scale of the Laplace noise")
    t = centred_uniform(shape, randomness)
    return torch.log1p(-2 * t.abs()).mul_(-scale * t.sign())


def laplace_event(noise_multiplier: float) -> PureDPEvent:
    """The event of the Laplace mechanism at calibrated noise multiplier ``s`` (scale ``s Delta_1``):
    ``PureDPEvent(1 / s)``."""
    return PureDPEvent(1.0 / check_positive(noise_multiplier, "noise_multiplier"))


def laplace_release(value: Tensor, l1_sensitivity: float, spend: Spend, randomness: SecretRandomness) -> Tensor:
    """``value + Lap(s * l1_sensitivity)`` entry by entry in float64 (on ``value``'s device), ``s`` the noise
    multiplier ``spend`` was calibrated to; records :func:`laplace_event` of ``s`` (``PureDPEvent(1 / s)``) through
    ``spend``. ``l1_sensitivity``: the L1 sensitivity of ``value`` under the ledger's neighbouring relation."""
    l1_sensitivity = check_positive(l1_sensitivity, "L1 sensitivity")
    event = laplace_event(spend.noise_multiplier)
    noise = laplace_noise(tuple(value.shape), spend.noise_multiplier * l1_sensitivity, randomness)
    noisy = value.detach().double() + noise.to(value.device)
    spend.record(event)
    return noisy
