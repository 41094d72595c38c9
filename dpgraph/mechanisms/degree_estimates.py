"""Degree distributions estimated from released noisy cumulative degree histograms (`degree_statistics`): pure
post-processing, reading only released values and public parameters.

* `degree_pmf`: constrained inference (Hay et al., VLDB 2010): a cumulative count is non-decreasing in the degree,
  and the least-squares non-decreasing fit (isotonic regression) is the L2 projection onto that convex cone, which
  contains the truth, so it is never farther from the truth in L2 than the noisy histogram. It is clipped to
  [0, size] (size: the class's separately released noisy count; clipping the isotonic fit solves the bounded
  problem). Scaling its last entry to the class total and differencing gives counts per degree 0..theta; dividing
  by the total gives the pmf.
* `extend_tail`: the projection caps degrees at theta, so the mass at theta stands for the nodes the projection
  saturated (mostly nodes of true degree >= theta). It is spread over theta..max_degree by a discrete power law
  p(k) ~ k^-alpha, alpha fitted by log-log least squares to the pmf on the upper half of degrees 1..theta-1.
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from torch import Tensor

from dpgraph.errors import DPGraphError
from dpgraph.graphops.projection import check_theta

# public range and fallback of the tail exponent p(k) ~ k^-alpha, chosen on the public proxy CiteSeer (its
# noiseless fits at theta 8 to 16 give 2.7 to 4; a lower bound of 1.5 let a noisy fit at small theta add far too many
# edges)
EXPONENT_RANGE = (2.5, 4.0)
DEFAULT_EXPONENT = 3.0


def degree_pmf(noisy_cumulative: Tensor, size: float) -> np.ndarray:
    """float64 [theta + 1]: the pmf over degrees 0..theta from one class's noisy cumulative histogram and its noisy
    size. The isotonic fit is clipped to [0, max(size, 0)] and normalised by its last entry (the class total, which
    equals `size` unless noise pulled the fit below it): the class's expected counts are size * pmf. When size <= 0
    or the fit is all zero nothing is known about the class, and the public fallback is the uniform pmf."""
    values = np.asarray(noisy_cumulative, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise DPGraphError("noisy_cumulative must be a finite 1-D histogram over degrees 0..theta")
    upper = max(float(size), 0.0)
    fit = IsotonicRegression(y_min=0.0, y_max=upper, increasing=True).fit_transform(np.arange(values.size), values)
    if fit[-1] <= 0:
        return np.full(values.size, 1.0 / values.size)
    return np.diff(fit, prepend=0.0) / fit[-1]


def tail_exponent(pmf: np.ndarray, theta: int) -> float:
    """alpha of p(k) ~ k^-alpha fitted by least squares of log p on log k over the degrees k in
    [max(1, theta // 2), theta - 1] with p(k) > 0, clamped to `EXPONENT_RANGE`; `DEFAULT_EXPONENT` when fewer than
    two such degrees exist."""
    degrees = np.arange(max(1, theta // 2), theta)
    degrees = degrees[pmf[degrees] > 0]
    if degrees.size < 2:
        return DEFAULT_EXPONENT
    slope = np.polyfit(np.log(degrees), np.log(pmf[degrees]), 1)[0]
    return float(np.clip(-slope, *EXPONENT_RANGE))


def extend_tail(pmf: np.ndarray, theta: int, max_degree: int) -> np.ndarray:
    """float64 [max_degree + 1]: `pmf` (over 0..theta) with its mass at theta spread over theta..max_degree in
    proportion to k^-alpha (`tail_exponent`); the total mass and the entries below theta are unchanged. `max_degree`
    must be public (n - 1 or a configured cap)."""
    check_theta(theta)
    pmf = np.asarray(pmf, dtype=np.float64)
    if pmf.shape != (theta + 1,):
        raise DPGraphError(f"pmf must have theta + 1 = {theta + 1} entries, got shape {pmf.shape}")
    if max_degree < theta:
        raise DPGraphError(f"max_degree ({max_degree}) must be >= theta ({theta}): raise the public degree cap")
    degrees = np.arange(theta, max_degree + 1, dtype=np.float64)
    weights = degrees ** -tail_exponent(pmf, theta)
    extended = np.zeros(max_degree + 1)
    extended[:theta] = pmf[:theta]
    extended[theta:] = pmf[theta] * weights / weights.sum()
    return extended
