"""PRV accountant against opacus' PRVAccountant, dp_accounting's PLD accountant and the exact Gaussian."""

import ast
import importlib
import math
from pathlib import Path

import dp_accounting as dpa
import numpy as np
import pytest
from dp_accounting.pld import PLDAccountant
from opacus.accountants import PRVAccountant
from privacy_reference import dp_sgd
from scipy.optimize import brentq
from scipy.stats import norm

import dpgraph.privacy.prv as prv_module
from dpgraph.errors import DPGraphError
from dpgraph.privacy import (
    ComposedEvent,
    GaussianEvent,
    PoissonSampledEvent,
    SampledWithoutReplacementEvent,
    SelfComposedEvent,
    SubgraphSampledGaussianEvent,
    compute_epsilon,
)

DELTA = 1e-5


def test_poisson_gaussian_matches_opacus_prv():
    eps = compute_epsilon(dp_sgd(1.5, 0.04, 2250), DELTA, "prv")
    opacus = PRVAccountant()
    for _ in range(2250):
        opacus.step(noise_multiplier=1.5, sample_rate=0.04)
    assert eps == pytest.approx(opacus.get_epsilon(DELTA), rel=1e-2)
    assert 6.7774 - 0.01 <= eps <= 6.7791 + 0.01


def test_abadi_mnist_setting_close_to_pld():
    q, steps = 256 / 60000, 14062
    eps = compute_epsilon(dp_sgd(1.1, q, steps), DELTA, "prv")
    pld = PLDAccountant()
    pld.compose(dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(q, dpa.GaussianDpEvent(1.1)), steps))
    assert eps == pytest.approx(2.39, abs=0.01)
    assert eps == pytest.approx(pld.get_epsilon(DELTA), abs=0.02)  # PLD: 2.3817
    assert eps < compute_epsilon(dp_sgd(1.1, q, steps), DELTA, "rdp")


def test_composition_close_to_pld():
    eps = compute_epsilon(ComposedEvent((GaussianEvent(5.0), dp_sgd(1.0, 0.01, 1000))), DELTA, "prv")
    pld = PLDAccountant()
    pld.compose(dpa.GaussianDpEvent(5.0))
    pld.compose(dpa.SelfComposedDpEvent(dpa.PoissonSampledDpEvent(0.01, dpa.GaussianDpEvent(1.0)), 1000))
    assert eps == pytest.approx(pld.get_epsilon(DELTA), rel=2e-2)


def exact_gaussian_epsilon(sigma: float, delta: float) -> float:
    """Balle & Wang 2018: delta(eps) = Phi(1/(2s) - eps s) - e^eps Phi(-1/(2s) - eps s), sensitivity 1."""

    def excess(eps: float) -> float:
        return (
            norm.cdf(0.5 / sigma - eps * sigma) - math.exp(eps) * norm.cdf(-0.5 / sigma - eps * sigma) - delta
        )

    return brentq(excess, 0.0, 100.0)


@pytest.mark.parametrize("sigma", [0.7, 2.0, 8.0])
def test_plain_gaussian_brackets_the_exact_value(sigma):
    exact = exact_gaussian_epsilon(sigma, DELTA)
    prv = compute_epsilon(GaussianEvent(sigma), DELTA, "prv")
    assert exact - 1e-6 <= prv <= exact + 0.021  # certified upper bound: estimate + eps_error (0.01)
    assert compute_epsilon(GaussianEvent(sigma), DELTA, "rdp") >= exact


@pytest.mark.parametrize(
    "event",
    [
        SubgraphSampledGaussianEvent(2.0, 3, 100, "fixed", batch_size=10),
        SampledWithoutReplacementEvent(100, 10, GaussianEvent(1.0)),
        PoissonSampledEvent(0.1, SelfComposedEvent(GaussianEvent(1.0), 2)),
        ComposedEvent((GaussianEvent(1.0), SubgraphSampledGaussianEvent(2.0, 3, 100, "poisson", None, 0.1))),
    ],
)
def test_prv_refuses_other_events_and_suggests_rdp(event):
    with pytest.raises(DPGraphError, match="use accountant 'rdp'"):
        compute_epsilon(event, DELTA, "prv")


def test_prv_refuses_grids_that_would_exhaust_memory():
    with pytest.raises(DPGraphError, match="grid of .* points.*use accountant 'rdp'"):
        compute_epsilon(SelfComposedEvent(GaussianEvent(0.5), 1000), DELTA, "prv")


class AccountantSpy:
    """Wraps a real PRVAccountant: records each attribute prv.py reads from it and refuses every assignment."""

    def __init__(self) -> None:
        object.__setattr__(self, "real", PRVAccountant())
        object.__setattr__(self, "names", [])

    def __getattr__(self, name: str):
        self.names.append(name)
        return getattr(self.real, name)

    def __setattr__(self, name: str, value: object) -> None:
        raise AssertionError(f"prv.py assigned accountant.{name}")


def test_prv_uses_only_public_methods_of_the_accountant(monkeypatch):
    spies: list[AccountantSpy] = []

    def make_spy() -> AccountantSpy:
        spies.append(AccountantSpy())
        return spies[-1]

    monkeypatch.setattr(prv_module, "PRVAccountant", make_spy)
    eps = compute_epsilon(ComposedEvent((GaussianEvent(5.0), dp_sgd(1.0, 0.01, 1000))), DELTA, "prv")
    (spy,) = spies
    assert spy.names and all(not n.startswith("_") and callable(getattr(PRVAccountant, n, None)) for n in spy.names)
    reference = PRVAccountant()
    reference.step(noise_multiplier=5.0, sample_rate=1.0)
    for _ in range(1000):
        reference.step(noise_multiplier=1.0, sample_rate=0.01)
    with np.errstate(divide="ignore"):  # opacus takes log(1 - q) at q = 1
        assert eps == reference.get_epsilon(DELTA, eps_error=0.01, delta_error=DELTA / 1000)


def test_prv_imports_only_public_opacus_names():
    tree = ast.parse(Path(prv_module.__file__).read_text())
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module.startswith("opacus")]
    assert imports
    for node in imports:
        public = importlib.import_module(node.module).__all__
        assert all(alias.name in public for alias in node.names), node.module
