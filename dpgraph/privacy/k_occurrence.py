"""RDP of one DP-SGD step on subgraphs with K-occurrence (node-level DP), after Daigavane et al. 2021.

Hand-written because no library (opacus, dp_accounting) analyses an individual occurring in up to K sampled units.

Setting and NOISE CONVENTION (what the DP-SGD engine must do for ``SubgraphSampledGaussianEvent``):

* The training set is a list of ``N`` subgraphs whose length is fixed and public. Every node occurs in at most
  ``K`` of them, so a node-level neighbour (one node and its edges added, removed or changed) modifies the
  contents of at most ``K`` subgraphs. A subgraph that would vanish in the neighbour must stay in the list
  (e.g. masked, with a zero gradient): the relation is "modify <= K of N", never a change of ``N``.
* One step: draw a batch (``fixed``: a uniform ``B``-subset of the N subgraphs without replacement;
  ``poisson``: each subgraph independently with probability ``q``), compute one gradient per subgraph, clip
  each to L2 norm ``C``, SUM them and add Gaussian noise of std ``noise_multiplier * C`` per coordinate
  (then divide by ``B`` or ``q N`` if wanted: post-processing).
* Sensitivity: each affected subgraph's clipped gradient may change by up to ``2C`` (it is modified, not
  added or removed), so with ``rho`` affected subgraphs in the batch the sum moves by at most ``2 rho C``.

Bound: given the batch, the step is a Gaussian mechanism with sensitivity ``2 rho C`` and std ``s C``
(s = noise_multiplier), of RDP ``a (2 rho)^2 / (2 s^2)``. Both neighbours share the batch distribution, and
``(P, Q) -> int P^a Q^(1-a)`` is jointly convex for ``a > 1``, so the mixture over batches satisfies::

    gamma(a) = 1/(a-1) * log E_rho[ exp( a (a-1) (2 rho)^2 / (2 s^2) ) ]

with ``rho ~ Hypergeometric(N total, K marked, B draws)`` (fixed) or ``rho ~ Binomial(K, q)`` (poisson).
The integrand grows with ``rho`` and both laws grow stochastically with ``K``, so "at most K" is covered.
This is the statement of Daigavane et al., "Node-Level Differentially Private Graph Neural Networks"
(arXiv 2111.15521), whose noise multiplier ``s_p`` is relative to the whole-node sensitivity ``2 K C``:
``s = 2 K s_p``. Steps compose by adding RDP (``SelfComposedEvent(event, T)``).

Special cases: fixed ``B = N`` (or poisson ``q = 1``) gives ``rho = K`` surely, i.e. exactly
``GaussianEvent(s / (2K))``. Poisson with ``K = 1`` gives ``log(1 - q + q e^{2a(a-1)/s^2}) / (a-1)``, which is
at least (not equal to) the tight sampled-Gaussian RDP of opacus ``compute_rdp(q, s / 2)``.

Limitations: an RDP upper bound through joint convexity, not a tight amplification analysis; no PLD or PRV for
K >= 2 (a Poisson step with K = 1 is the replace-one subsampled Gaussian, which the PLD accountant takes exactly:
:mod:`dpgraph.privacy.pld`). It is
first-order in the sampling rate (the tight sampled-Gaussian RDP is second-order), so it is far looser than
per-example DP-SGD: K = 1, q = 0.01, s = 4, 1000 steps, delta 1e-5 gives eps 10.2 here, 0.69 for opacus'
sampled Gaussian at noise multiplier s / 2 (which is not itself a proven bound for this relation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import logsumexp
from scipy.stats import binom, hypergeom

from dpgraph.privacy.events import SubgraphSampledGaussianEvent


def affected_log_pmf(event: SubgraphSampledGaussianEvent) -> np.ndarray:
    """``log P[rho = r]`` for r = 0..K: the number of affected subgraphs in one batch."""
    rho = np.arange(event.occurrences + 1)
    if event.sampler == "fixed":
        return hypergeom(event.num_subgraphs, event.occurrences, event.batch_size).logpmf(rho)
    return binom(event.occurrences, event.sampling_probability).logpmf(rho)


def subgraph_gaussian_rdp(event: SubgraphSampledGaussianEvent, orders: Sequence[float]) -> np.ndarray:
    """RDP curve ``gamma(a)`` of ONE step, at each order in ``orders`` (all > 1)."""
    alphas = np.asarray(orders, dtype=float)[:, None]
    rho = np.arange(event.occurrences + 1, dtype=float)[None, :]
    exponents = alphas * (alphas - 1) * (2 * rho) ** 2 / (2 * event.noise_multiplier**2)
    log_moments = logsumexp(affected_log_pmf(event)[None, :] + exponents, axis=1)
    return np.maximum(log_moments, 0.0) / (alphas[:, 0] - 1)
