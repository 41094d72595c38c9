"""degree_denoising: on degree vectors with known Gaussian noise the deconvolved estimate is closer to the true
degree distribution and edge count than rounding and clamping; the EM prior is a likelihood maximum; the output is
graphical-ready; it is a deterministic function of the noisy vector, the noise std and the public generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import ks_2samp

from dpgraph.errors import DPGraphError
from dpgraph.mechanisms.degree_denoising import _kernel, deconvolved_degrees, deconvolved_histogram
from dpgraph.mechanisms.edge_dp1k import graphical_degrees


def _citation_like_degrees(n: int, seed: int) -> np.ndarray:
    """Degrees like a citation graph's: geometric, mean about 2.9, mostly 1..4 with a tail."""
    return np.minimum(np.random.default_rng(seed).geometric(0.35, n), n - 1).astype(np.int64)


def _noisy(true: np.ndarray, std: float, seed: int) -> torch.Tensor:
    return torch.from_numpy(true + np.random.default_rng(100 + seed).normal(0, std, true.size))


def _histogram_l1(a: np.ndarray, b: np.ndarray) -> float:
    size = max(a.max(), b.max()) + 1
    return float(np.abs(np.bincount(a, minlength=size) - np.bincount(b, minlength=size)).sum() / a.size)


@pytest.mark.parametrize("std", [1.5, 5.0])
def test_deconvolution_beats_rounding_and_clamping(std):
    sum_errors = []
    for seed in range(3):
        true = _citation_like_degrees(2000, seed)
        noisy = _noisy(true, std, seed)
        rounded = graphical_degrees(noisy, torch.Generator().manual_seed(0))
        estimate = deconvolved_degrees(noisy, std, torch.Generator().manual_seed(0))
        assert ks_2samp(estimate, true).statistic < 0.7 * ks_2samp(rounded, true).statistic
        assert _histogram_l1(estimate, true) < _histogram_l1(rounded, true)
        sum_errors.append((abs(estimate.sum() - true.sum()), abs(rounded.sum() - true.sum())))
    # clamping at 0 adds about n * std * phi(mean / std) stubs; the deconvolved sum stays nearer the truth
    estimate_error, rounded_error = np.mean(sum_errors, axis=0)
    assert estimate_error < rounded_error * (0.9 if std < 2 else 0.3)


def test_em_prior_maximises_the_likelihood_and_recovers_the_histogram():
    true = _citation_like_degrees(3000, 7)
    noisy = _noisy(true, 2.0, 7).numpy()
    top = int(np.ceil(noisy.max()))
    prior = deconvolved_histogram(noisy, 2.0, top)
    assert prior.shape == (top + 1,) and (prior >= 0).all() and prior.sum() == pytest.approx(1.0)
    kernel = _kernel(noisy, 2.0, top)
    truth = np.bincount(np.minimum(true, top), minlength=top + 1) / true.size
    assert np.log(kernel @ prior).sum() >= np.log(kernel @ truth).sum()  # the NPMLE beats the true histogram
    rounded = np.bincount(np.clip(np.rint(noisy), 0, top).astype(np.int64), minlength=top + 1) / true.size
    assert np.abs(prior - truth).sum() < 0.6 * np.abs(rounded - truth).sum()


def test_output_is_graphical_ready():
    generator = torch.Generator().manual_seed(0)
    for noisy in (torch.tensor([-3.2, 0.4, 1.6, 2.5, 9.7, 4.49]), _noisy(_citation_like_degrees(501, 1), 4.0, 1)):
        degrees = deconvolved_degrees(noisy, 4.0, generator)
        assert degrees.dtype == np.int64 and degrees.shape == noisy.shape and degrees.sum() % 2 == 0
        assert degrees.min() >= 0 and degrees.max() <= noisy.numel() - 1
    # noise std 0 (a non-private run's exact values): rounding, clamped, then made even
    assert deconvolved_degrees(torch.tensor([1.0, 2.0, 0.0, 3.0]), 0.0, generator).tolist() == [1, 2, 0, 3]
    assert deconvolved_degrees(torch.tensor([5.0, 5.0, 5.0]), 0.0, generator).sum() % 2 == 0  # capped at n - 1 = 2


def test_a_deterministic_function_of_the_noisy_vector_the_std_and_the_public_generator():
    noisy = _noisy(_citation_like_degrees(800, 3), 3.0, 3)
    first = deconvolved_degrees(noisy, 3.0, torch.Generator().manual_seed(5))
    assert np.array_equal(first, deconvolved_degrees(noisy.clone(), 3.0, torch.Generator().manual_seed(5)))
    # node ids carry nothing: permuting the noisy values permutes the estimates (up to the public parity step)
    order = torch.randperm(noisy.numel(), generator=torch.Generator().manual_seed(1))
    permuted = deconvolved_degrees(noisy[order], 3.0, torch.Generator().manual_seed(5))
    assert np.abs(permuted - first[order.numpy()]).sum() <= 2
    # larger values never get smaller estimates (the posterior-mean order)
    ranked = first[np.argsort(noisy.numpy(), kind="stable")]
    assert (np.diff(ranked) >= 0).sum() >= noisy.numel() - 2


def test_bad_inputs_are_refused():
    generator = torch.Generator().manual_seed(0)
    with pytest.raises(DPGraphError, match="noise_std"):
        deconvolved_degrees(torch.tensor([1.0, 2.0]), -1.0, generator)
    with pytest.raises(DPGraphError, match="finite"):
        deconvolved_degrees(torch.tensor([1.0, float("nan")]), 1.0, generator)
