"""Sample-quality scores computed from a reference classifier's outputs.

* Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017, "FID" on Inception features):
  ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``, ``S`` the sample covariances (ddof 1).
* Inception-style score (Salimans et al. 2016): ``exp(E_x KL(p(y|x) || p(y)))``, ``p(y)`` the mean of ``p(y|x)``
  over the images; 1 when every image gets the same class distribution, the class count at most.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
from scipy.special import xlogy
from torch import Tensor

#: ridge added to both covariances when ``sqrtm`` of their product is not finite or not accurate (as pytorch-fid does)
COVARIANCE_RIDGE = 1e-6
#: the largest accepted ``|X X - A|_F / |A|_F`` of a computed square root ``X`` of ``A``
SQRTM_TOLERANCE = 1e-4


def _product_root(cov_a: np.ndarray, cov_b: np.ndarray) -> np.ndarray | None:
    """``(cov_a cov_b)^(1/2)`` by ``scipy.linalg.sqrtm``, or None when it is not finite or not accurate (a singular
    product may be: features constant over the images, or fewer images than features)."""
    product = cov_a @ cov_b
    with warnings.catch_warnings():  # singularity is checked below, through the result's accuracy
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(product)
    if not np.isfinite(root).all():
        return None
    error = np.linalg.norm(root @ root - product) / max(np.linalg.norm(product), np.finfo(float).tiny)
    return root if error <= SQRTM_TOLERANCE else None


def frechet_distance(features_a: Tensor, features_b: Tensor) -> float:
    """The Fréchet distance between Gaussians fitted to ``features_a`` [n_a, d] and ``features_b`` [n_b, d] (each
    n >= 2). With n <= d a covariance is singular (rank n - 1): the square root is still defined, and if it comes
    out non-finite or inaccurate both covariances get ``COVARIANCE_RIDGE`` on the diagonal; with few images the
    estimate is biased upward."""
    if min(features_a.size(0), features_b.size(0)) < 2:
        raise ValueError("the Fréchet distance needs at least 2 feature vectors on each side")
    a, b = features_a.double().numpy(), features_b.double().numpy()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = _product_root(cov_a, cov_b)
    if root is None:
        ridge = COVARIANCE_RIDGE * np.eye(a.shape[1])
        root = scipy.linalg.sqrtm((cov_a + ridge) @ (cov_b + ridge))
    trace = np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root.real)
    return float(max(np.sum((mu_a - mu_b) ** 2) + trace, 0.0))


def inception_score(probabilities: Tensor) -> float:
    """``exp(mean_x KL(p(y|x) || p(y)))`` for ``probabilities`` [n, K] (rows p(y|x), summing to 1; n >= 1)."""
    p = probabilities.double().numpy()
    marginal = p.mean(0, keepdims=True)
    kl = (xlogy(p, p) - xlogy(p, marginal)).sum(1)
    return float(np.exp(kl.mean()))
