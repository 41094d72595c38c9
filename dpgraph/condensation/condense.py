"""GCond-style condensation: learn a SyntheticGraph whose per-class gradients match the real ones."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm import tqdm

from dpgraph.condensation.matching import matching_distance
from dpgraph.condensation.models import MatchingModelKind, matching_model
from dpgraph.condensation.oracle import RealGradientOracle
from dpgraph.condensation.synthetic import SyntheticGraph


@dataclass(frozen=True)
class CondenseSettings:
    """Schedule and optimisers.

    Each of `outer_steps` draws a fresh `model` ("sgc" or "mlp" with `hidden` units) and runs `matching_steps`
    updates of X' (Adam, `lr_features`) and of the adjacency MLP (Adam, `lr_adjacency`), both learning rates
    decaying linearly to 0 over the outer steps (it removes the end-point jitter); between two updates the
    model takes `model_steps` Adam steps (`lr_model`) on the synthetic graph, as GCond does (0: the model stays at
    its initialisation). The oracle is queried once per matching step: outer_steps * matching_steps queries.
    `k` propagation steps on the synthetic side; it must equal the k of the oracle's real propagation.
    Defaults: chosen on Cora's public validation nodes (identity adjacency, 5 or 10 nodes per class, real-sample
    init; from `random_features`, lr_features = 1e-3 did better).
    """

    outer_steps: int = 200
    matching_steps: int = 10
    model_steps: int = 5
    lr_features: float = 1e-4
    lr_adjacency: float = 0.01
    lr_model: float = 0.1
    model: MatchingModelKind = "sgc"
    hidden: int = 256
    k: int = 2

    def __post_init__(self) -> None:
        if min(self.outer_steps, self.matching_steps, self.hidden, self.k) < 1 or self.model_steps < 0:
            raise ValueError("outer_steps, matching_steps, hidden, k must be >= 1 and model_steps >= 0")


def synthetic_class_gradients(model: nn.Module, h: Tensor, y: Tensor, classes: list[int]) -> dict[int, list[Tensor]]:
    """For each class c: grad_theta of the mean cross-entropy of `model` over the synthetic rows of class c, kept
    differentiable with respect to `h` (so the matching distance can be backpropagated to X' and A')."""
    logits, params = model(h), list(model.parameters())
    return {
        c: list(torch.autograd.grad(F.cross_entropy(logits[y == c], y[y == c]), params, create_graph=True))
        for c in classes
    }


def _train_model(model: nn.Module, optimizer: torch.optim.Optimizer, h: Tensor, y: Tensor, steps: int) -> None:
    """`steps` optimizer steps of the mean cross-entropy of `model` on fixed synthetic inputs `h`."""
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(h), y).backward()
        optimizer.step()


def _outer_step(
    oracle: RealGradientOracle,
    synthetic: SyntheticGraph,
    settings: CondenseSettings,
    optimizers: list[torch.optim.Optimizer],
    generator: torch.Generator,
) -> float:
    """One fresh model, `matching_steps` updates of the synthetic graph; returns the mean matching distance."""
    classes = synthetic.classes
    model = matching_model(settings.model, synthetic.x.size(1), synthetic.num_classes, settings.hidden, generator)
    model = model.to(synthetic.x.device)  # drawn on the generator's device, trained where X' lives
    model_optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr_model)
    total = 0.0
    for step in range(settings.matching_steps):
        real = oracle.class_gradients(model, classes)
        syn = synthetic_class_gradients(model, synthetic.propagated(settings.k), synthetic.y, classes)
        distance = matching_distance(real, syn)
        for optimizer in optimizers:
            optimizer.zero_grad()
        distance.backward()
        for optimizer in optimizers:
            optimizer.step()
        synthetic.project_()
        total += distance.item()
        if settings.model_steps and step < settings.matching_steps - 1:
            with torch.no_grad():
                h = synthetic.propagated(settings.k)
            _train_model(model, model_optimizer, h, synthetic.y, settings.model_steps)
    return total / settings.matching_steps


def condense(
    oracle: RealGradientOracle,
    synthetic: SyntheticGraph,
    settings: CondenseSettings,
    generator: torch.Generator,
    progress: bool = False,
) -> SyntheticGraph:
    """Minimise sum_c D(real_c, synthetic_c) (see `matching_distance`) over X' and the adjacency MLP, in place;
    after every step the rows of X' are projected back onto the unit L1 sphere (`SyntheticGraph.project_`).

    Model initialisations are drawn from `generator`, so the same generator state, oracle and synthetic graph give
    the same result. Models run on the device of X' (the oracle's tensors must be there too). Returns `synthetic`.
    """
    optimizers = [torch.optim.Adam([synthetic.x], lr=settings.lr_features)]
    if synthetic.adjacency_model is not None:
        optimizers.append(torch.optim.Adam(synthetic.adjacency_model.parameters(), lr=settings.lr_adjacency))
    schedules = [torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 - t / settings.outer_steps) for opt in optimizers]
    bar = tqdm(range(settings.outer_steps), desc="condense", unit="step", disable=not progress)
    for _ in bar:
        bar.set_postfix(distance=f"{_outer_step(oracle, synthetic, settings, optimizers, generator):.3f}")
        for schedule in schedules:
            schedule.step()
    return synthetic
