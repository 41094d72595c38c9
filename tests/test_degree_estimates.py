"""Post-processing of noisy cumulative degree histograms: constrained inference and the power-law tail."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dpgraph.errors import DPGraphError
from dpgraph.mechanisms.degree_estimates import (
    DEFAULT_EXPONENT,
    EXPONENT_RANGE,
    degree_pmf,
    extend_tail,
    tail_exponent,
)

COUNTS = np.array([30, 120, 80, 50, 30, 20, 12, 8, 5, 25], dtype=np.float64)  # degrees 0..9, theta = 9


def _power_law(alpha: float, max_degree: int) -> np.ndarray:
    """pmf over 0..max_degree with p(0) = 0 and p(k) ~ k^-alpha."""
    weights = np.arange(max_degree + 1, dtype=np.float64)
    weights[1:] = weights[1:] ** -alpha
    weights[0] = 0.0
    return weights / weights.sum()


def test_noiseless_histograms_give_back_the_true_pmf():
    pmf = degree_pmf(torch.from_numpy(COUNTS.cumsum()), COUNTS.sum())
    assert pmf == pytest.approx(COUNTS / COUNTS.sum(), abs=1e-12)


def test_noisy_histograms_give_distributions_closer_to_the_truth_than_raw_differences():
    """Mean L1 error over seeded draws: the fit beats the raw differences and their clipped, normalised version."""
    rng = np.random.default_rng(0)
    truth, total = COUNTS / COUNTS.sum(), COUNTS.sum()
    errors = np.zeros((200, 3))
    for draw in errors:
        noisy = COUNTS.cumsum() + rng.normal(0, 12.0, COUNTS.size)
        size = total + rng.normal(0, 2.0)
        pmf = degree_pmf(torch.from_numpy(noisy), size)
        assert (pmf >= 0).all() and pmf.sum() == pytest.approx(1.0)
        raw = np.diff(noisy, prepend=0.0)
        clipped = raw.clip(min=0)
        draw[:] = [np.abs(pmf - truth).sum(), np.abs(raw / size - truth).sum(),
                   np.abs(clipped / clipped.sum() - truth).sum()]
    fitted, raw, clipped = errors.mean(axis=0)
    assert fitted < 0.9 * raw and fitted < clipped


@pytest.mark.parametrize("noisy, size", [
    (np.zeros(6), 10.0),  # all-zero fit
    (np.full(6, -3.0), 10.0),  # fit clipped to zero
    (np.arange(6.0), -4.0),  # negative noisy size
    (np.arange(6.0), 0.0),
])
def test_an_empty_class_falls_back_to_the_uniform_pmf(noisy, size):
    assert degree_pmf(torch.from_numpy(noisy), size) == pytest.approx(np.full(6, 1 / 6))


def test_the_fit_is_clipped_to_the_class_size():
    pmf = degree_pmf(torch.tensor([2.0, 5.0, 40.0]), 10.0)  # the last entries exceed the size
    assert pmf == pytest.approx([0.2, 0.3, 0.5])


def test_theta_one_histograms_and_tails_work():
    pmf = degree_pmf(torch.tensor([3.0, 10.0]), 10.0)
    assert pmf == pytest.approx([0.3, 0.7])
    tail = extend_tail(pmf, 1, 50)
    assert tail_exponent(pmf, 1) == DEFAULT_EXPONENT
    assert tail.sum() == pytest.approx(1.0) and tail[0] == 0.3
    assert tail[1:] == pytest.approx(0.7 * _power_law(DEFAULT_EXPONENT, 50)[1:] / _power_law(DEFAULT_EXPONENT, 50)[1:]
                                     .sum())


def test_the_tail_of_a_power_law_is_recovered_from_its_projection():
    truth, theta = _power_law(2.5, 300), 20
    projected = np.append(truth[:theta], truth[theta:].sum())  # the projection saturates every degree >= theta
    assert tail_exponent(projected, theta) == pytest.approx(2.5)
    extended = extend_tail(projected, theta, 300)
    assert extended.sum() == pytest.approx(1.0)
    assert np.array_equal(extended[:theta], truth[:theta])
    assert extended == pytest.approx(truth, abs=1e-12)


def test_the_tail_of_sampled_power_law_degrees_is_close():
    rng = np.random.default_rng(1)
    truth, theta = _power_law(2.2, 400), 16
    sample = np.bincount(rng.choice(401, size=20_000, p=truth), minlength=401) / 20_000
    projected = np.append(sample[:theta], sample[theta:].sum())
    extended = extend_tail(projected, theta, 400)
    assert extended.sum() == pytest.approx(1.0)
    assert np.abs(np.cumsum(extended) - np.cumsum(truth)).max() < 0.01  # Kolmogorov-Smirnov distance
    tail_mean = (np.arange(theta, 401) * extended[theta:]).sum() / extended[theta:].sum()
    true_mean = (np.arange(theta, 401) * truth[theta:]).sum() / truth[theta:].sum()
    assert tail_mean == pytest.approx(true_mean, rel=0.25)


def test_degenerate_tails_use_the_clamped_or_default_exponent():
    steep = _power_law(8.0, 10)
    assert tail_exponent(steep, 10) == EXPONENT_RANGE[1]
    rising = np.arange(11, dtype=np.float64) / 55
    assert tail_exponent(rising, 10) == EXPONENT_RANGE[0]
    assert tail_exponent(np.array([0.5, 0.0, 0.0, 0.0, 0.5]), 4) == DEFAULT_EXPONENT  # no positive point to fit
    assert tail_exponent(np.array([0.2, 0.3, 0.5]), 2) == DEFAULT_EXPONENT  # one degree below theta
    pmf = np.array([0.2, 0.3, 0.5])
    assert np.array_equal(extend_tail(pmf, 2, 2), pmf)  # nothing to spread


@pytest.mark.parametrize("call, match", [
    (lambda: extend_tail(np.ones(3) / 3, 2, 1), "max_degree"),
    (lambda: extend_tail(np.ones(3) / 3, 3, 10), "theta \\+ 1"),
    (lambda: extend_tail(np.ones(1), 0, 10), "theta must be an integer"),
    (lambda: degree_pmf(torch.tensor([1.0, float("nan")]), 3.0), "finite"),
    (lambda: degree_pmf(torch.zeros(2, 2), 3.0), "1-D"),
])
def test_bad_inputs_fail_with_the_fix(call, match):
    with pytest.raises(DPGraphError, match=match):
        call()
