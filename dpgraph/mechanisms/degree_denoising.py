"""Empirical-Bayes estimates of per-node degrees from a released noisy degree vector: pure post-processing, reading
only the released values, the public noise std and the public generator.

Model: y_u = d_u + z_u, z_u ~ N(0, s^2) independent, s = noise multiplier x L2 sensitivity (public), d_u an integer
in 0..D, D = min(n - 1, ceil(max_u y_u)) (the cap n - 1 is public; a grid point above every observation only lowers
the likelihood, so the support need not go past the largest one).

* Prior (deconvolution): the nonparametric maximum-likelihood histogram pi over 0..D (Kiefer & Wolfowitz 1956),
  pi = argmax sum_u log sum_k pi_k phi((y_u - k) / s), found by EM: r_uk = pi_k phi_uk / sum_j pi_j phi_uj, then
  pi_k <- mean_u r_uk (each step raises the likelihood; started from uniform).
* Per node (empirical Bayes): the posterior mean E[d_u | y_u] under pi is non-decreasing in y_u (a Gaussian
  location family has monotone likelihood ratio), so the nodes ranked by y_u are ranked by their posterior means.
  The j-th smallest y_u (j = 0..n-1, ties by node id) gets the smallest k with n F_pi(k) > j + 1/2 (F_pi the
  cumulative of pi): the histogram of the estimates is n pi rounded along its cumulative, and their order is the
  posterior means'. (Posterior means alone shrink towards the mode and lose the spread the degree distribution is
  scored on; posterior draws keep the histogram but scramble the order.)
* Edge count: the sum is about n E_pi[d], the deconvolved estimate of 2|E| (clamping at 0 instead inflates it); it
  is made even by +1 on one public random node below D (-1 on one node if all are at D), as
  `edge_dp1k.graphical_degrees` does.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from dpgraph.errors import DPGraphError

EM_ITERATIONS = 2000
EM_TOLERANCE = 1e-7  # stop when the mean log-likelihood per node rises by less


def deconvolved_histogram(noisy: np.ndarray, noise_std: float, max_degree: int) -> np.ndarray:
    """float64 [max_degree + 1]: the NPMLE pmf pi over degrees 0..max_degree of `noisy` = degree + N(0, noise_std^2)
    (module docstring), by EM from the uniform pmf."""
    kernel = _kernel(noisy, noise_std, max_degree)
    prior = np.full(max_degree + 1, 1.0 / (max_degree + 1))
    previous = -np.inf
    for _ in range(EM_ITERATIONS):
        evidence = kernel @ prior
        prior = prior * (kernel.T @ (1.0 / evidence)) / noisy.size
        likelihood = float(np.log(evidence).mean())
        if likelihood - previous < EM_TOLERANCE:
            break
        previous = likelihood
    return prior


def deconvolved_degrees(noisy: torch.Tensor, noise_std: float, generator: torch.Generator) -> np.ndarray:
    """int64 [n]: degrees in [0, n - 1] with an even sum whose histogram is the deconvolved prior's
    (`deconvolved_histogram`), assigned to the nodes in the order of their noisy values (module docstring); the
    public `generator` only picks the node the parity fix moves. ``noise_std`` = 0 (exact values) falls back to
    rounding."""
    values = noisy.double().numpy()
    n = values.size
    if not (noise_std >= 0 and math.isfinite(noise_std)) or values.ndim != 1 or not np.isfinite(values).all():
        raise DPGraphError("noise_std must be a finite number >= 0 and the noisy degrees a finite vector")
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    max_degree = int(min(n - 1, max(1, math.ceil(values.max()))))
    if noise_std == 0:
        degrees = np.clip(np.rint(values), 0, max_degree).astype(np.int64)
    else:
        cumulative = np.cumsum(deconvolved_histogram(values, noise_std, max_degree)) * n
        degrees = np.empty(n, dtype=np.int64)
        degrees[np.argsort(values, kind="stable")] = np.searchsorted(cumulative, np.arange(n) + 0.5)
        degrees = degrees.clip(0, max_degree)
    if degrees.sum() % 2:
        room = np.flatnonzero(degrees < max_degree)
        step = 1 if room.size else -1
        room = room if room.size else np.arange(n)
        degrees[room[int(torch.randint(room.size, (1,), generator=generator))]] += step
    return degrees


def _kernel(noisy: np.ndarray, noise_std: float, max_degree: int) -> np.ndarray:
    """[n, max_degree + 1]: phi((y_u - k) / s) up to a factor per row (1 at the row's nearest k, so no row is all
    zero); EM and the posteriors are unchanged by such factors."""
    if not noise_std > 0:
        raise DPGraphError(f"noise_std must be positive for the deconvolution, got {noise_std!r}")
    log_kernel = -0.5 * ((noisy[:, None] - np.arange(max_degree + 1)[None, :]) / noise_std) ** 2
    return np.exp(log_kernel - log_kernel.max(axis=1, keepdims=True))
