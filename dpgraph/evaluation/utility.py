"""Utility of a released graph: train only on it, test on the real graph's test nodes."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from tqdm import tqdm

from dpgraph.errors import DPGraphError
from dpgraph.evaluation.batched import SPECS, GraphView, Plan, SeedStack
from dpgraph.evaluation.centroid import NearestCentroid
from dpgraph.evaluation.models import MODEL_NAMES, MODELS
from dpgraph.evaluation.split import stratified_holdout

_CPU = torch.device("cpu")
_NO_LABELS = "the released graph has no labelled node (y >= 0); nothing to train on"


@dataclass(frozen=True)
class TrainSettings:
    """Full-batch Adam training for a fixed number of epochs.

    `val_fraction > 0` holds out that fraction of the RELEASED labelled nodes (stratified) and keeps the
    weights of the epoch with the best accuracy there (the latest such epoch on ties); 0 keeps the weights
    after the last epoch.
    """

    epochs: int = 200
    lr: float = 0.01
    weight_decay: float = 5e-4
    hidden: int = 64
    dropout: float = 0.5
    normalize_features: bool = True
    val_fraction: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.hidden < 1:
            raise DPGraphError(f"epochs and hidden must be >= 1, got {self.epochs} and {self.hidden}")
        if self.lr <= 0 or self.weight_decay < 0:
            raise DPGraphError(f"need lr > 0 and weight_decay >= 0, got {self.lr} and {self.weight_decay}")
        if not 0 <= self.dropout < 1 or not 0 <= self.val_fraction < 1:
            raise DPGraphError(
                f"dropout and val_fraction must be in [0, 1), got {self.dropout} and {self.val_fraction}"
            )


def _check_labels(y: Tensor, num_classes: int) -> None:
    if not bool((y >= 0).any()):
        raise DPGraphError(_NO_LABELS)
    if int(y.max()) >= num_classes:
        raise DPGraphError(f"released label {int(y.max())} is out of range for num_classes={num_classes}")


def _seed_masks(y: Tensor, val_fraction: float, seeds: Sequence[int]) -> tuple[Tensor, Tensor | None]:
    """(train, val) boolean masks [S, n] over the labelled nodes, row s from seed s (val None when `val_fraction` is
    0: every labelled node trains every copy)."""
    if val_fraction == 0:
        return (y >= 0).expand(len(seeds), -1), None
    splits = [stratified_holdout(y, val_fraction, torch.Generator().manual_seed(int(seed))) for seed in seeds]
    val = torch.stack([v for _, v in splits])
    if not bool(val.any(1).all()):
        raise DPGraphError(f"val_fraction={val_fraction} holds out no released node; use 0 or a larger value")
    return torch.stack([t for t, _ in splits]), val


class _Scorer:
    """Accuracy of each copy of a stack on the nodes of `mask` [S, n] (copy s scored on row s), through `plan` (built
    for the union of those nodes unless given)."""

    def __init__(self, graph: GraphView, model_name: str, hidden: int, y: Tensor, mask: Tensor,
                 plan: Plan | None = None):
        device = graph.x.device
        rows = mask.any(0).nonzero().flatten().to(device) if plan is None else plan.targets
        self.plan = plan or Plan.build(graph, SPECS[model_name], hidden, rows)
        self.y, self.mask = y.to(device)[rows], mask.to(device)[:, rows]

    @torch.no_grad()
    def __call__(self, stack: SeedStack) -> Tensor:
        stack.eval()
        correct = (stack(self.plan).argmax(-1) == self.y) & self.mask
        return correct.sum(1) / self.mask.sum(1)


def train_seeds(graph: GraphView, y: Tensor, model_name: str, num_classes: int, settings: TrainSettings,
                seeds: Sequence[int]) -> SeedStack:
    """Train one copy of `model_name` per seed on the labelled nodes (`y >= 0`) of `graph` only; return the stack
    in eval mode. Copy s is what seed s alone gives: its initialisation and dropout come from its own generator, and
    with `val_fraction > 0` its validation split from ``torch.Generator().manual_seed(s)``; every copy computes all
    labelled nodes (so the masks it draws do not depend on the other copies' splits)."""
    train, val = _seed_masks(y, settings.val_fraction, seeds)
    device = graph.x.device
    stack = SeedStack(model_name, graph.x.size(1), num_classes, settings.hidden, settings.dropout, seeds, device)
    plan = Plan.build(graph, stack.spec, settings.hidden, (y >= 0).nonzero().flatten().to(device))
    targets = y.to(device)[plan.targets].expand(len(seeds), -1).unsqueeze(-1)
    weight = train.to(device)[:, plan.targets].float()
    weight = weight / weight.sum(1, keepdim=True)  # copy s: the mean loss over its own training nodes
    scorer = _Scorer(graph, model_name, settings.hidden, y, val, plan) if val is not None else None
    optimizer = torch.optim.Adam(stack.parameters(), lr=settings.lr, weight_decay=settings.weight_decay, fused=True)
    best_acc = torch.full((len(seeds),), -1.0, device=device)
    best = [p.detach().clone() for p in stack.parameters()]
    for _ in range(settings.epochs):
        stack.train()
        optimizer.zero_grad()
        nll = -F.log_softmax(stack(plan), dim=-1).gather(-1, targets).squeeze(-1)
        (nll * weight).sum().backward()
        optimizer.step()
        if scorer is not None:
            acc = scorer(stack)
            better = acc >= best_acc  # ties go to the later, better-trained epoch
            best_acc = torch.where(better, acc, best_acc)
            for kept, p in zip(best, stack.parameters(), strict=True):
                kept.copy_(torch.where(better.view(-1, *[1] * (p.dim() - 1)), p.detach(), kept))
    if scorer is not None:
        with torch.no_grad():
            for kept, p in zip(best, stack.parameters(), strict=True):
                p.copy_(kept)
    return stack.eval()


def train_on_released(
    released: Data,
    model_name: str,
    num_classes: int,
    settings: TrainSettings,
    seed: int,
    device: torch.device,
) -> torch.nn.Module:
    """Train `model_name` on the released graph's labelled nodes (`y >= 0`) only; return it in eval mode.
    ``centroid`` is fitted in closed form on the same nodes (no epochs, no randomness).

    The graph reaches the model as `sparse_adjacency(edge_index)` (a simple graph); the returned model
    accepts that or a plain `edge_index`. The seed alone fixes initialisation, dropout and the validation
    split (the global torch generator is not read), so the same seed gives the same weights on the same machine,
    and the weights of copy s of `train_seeds` for any list of seeds holding s.
    Nothing but `released` is read. Raises DPGraphError if no node is labelled or a label is >= `num_classes`.
    """
    y = released.y.cpu()
    _check_labels(y, num_classes)
    graph = GraphView(released, settings.normalize_features, device)
    if model_name == "centroid":
        return _fit_centroid(graph, y, num_classes)
    MODELS.get(model_name)  # an unknown name: the registry's one-line error
    return train_seeds(graph, y, model_name, num_classes, settings, [seed]).module(0)


def _fit_centroid(graph: GraphView, y: Tensor, num_classes: int) -> NearestCentroid:
    model = NearestCentroid(graph.x.size(1), num_classes).to(graph.x.device)
    return model.fit(graph.x, graph.adj_t, y.to(graph.x.device), (y >= 0).to(graph.x.device)).eval()


def _check_inputs(released: Data, real: Data, models: Sequence[str], seeds: Sequence[int], num_classes: int) -> None:
    """Raise DPGraphError on inputs evaluate_utility cannot use, before any training starts."""
    if not models:
        raise DPGraphError(f"name at least one model: some of {', '.join(MODEL_NAMES)}")
    for name in models:
        MODELS.get(name)
    if not seeds:
        raise DPGraphError("at least one seed is needed to evaluate utility")
    _check_labels(released.y, num_classes)
    if released.x.size(1) != real.x.size(1):
        raise DPGraphError(
            f"released graph has {released.x.size(1)} features but the real graph has {real.x.size(1)}"
        )
    if getattr(real, "test_mask", None) is None or not bool(real.test_mask.any()):
        raise DPGraphError("the real graph needs a non-empty boolean test_mask")


def with_released_edges(real: Data, released: Data) -> Data:
    """The real graph (features, labels, masks) over the released edges: the inference graph of ``infer_on:
    released``. Only a release of the same nodes qualifies (same count and the same features, as edge-level releases
    keep them); anything else is refused."""
    same_nodes = released.num_nodes == real.num_nodes and released.x.shape == real.x.shape
    if not same_nodes or not torch.equal(released.x.cpu(), real.x.cpu()):
        raise DPGraphError("evaluate.infer_on: released needs a release of the real nodes (their count and features "
                           "kept, as edge-level methods release them); use infer_on: real for this method")
    target = real.clone()
    target.edge_index = released.edge_index.to(real.edge_index.device)
    return target


def evaluate_utility(
    released: Data,
    real: Data,
    models: Sequence[str],
    seeds: Sequence[int],
    settings: TrainSettings,
    num_classes: int,
    device: torch.device = _CPU,
    progress: bool = True,
) -> dict[str, dict]:
    """Train each model once per seed on `released` only; report its accuracy on `real.test_mask`.

    Accuracy uses full-graph (transductive) inference on the real graph, both graphs read as simple (see
    `sparse_adjacency`); real labels are read only to score test predictions, never for training or model
    selection. Returns, per model, `{"test_acc_mean", "test_acc_std", "per_seed"}` with `per_seed` in the
    order of `seeds` and `test_acc_std` the sample standard deviation (ddof=1), or 0.0 for a single seed.
    Raises DPGraphError on unusable inputs (no labelled released node, feature dimensions differ, ...).
    """
    _check_inputs(released, real, models, seeds, num_classes)
    y_released = released.y.cpu()
    source = GraphView(released, settings.normalize_features, device)
    target = GraphView(real, settings.normalize_features, device)
    test = real.test_mask.cpu().expand(len(seeds), -1)
    per_seed: dict[str, list[float]] = {}
    for name in tqdm(models, desc="utility", unit="model", disable=not progress):
        if name == "centroid":  # closed form: the same fit for every seed
            model = _fit_centroid(source, y_released, num_classes)
            with torch.no_grad():
                pred = model(target.x, target.adj_t).argmax(1).cpu()
            mask = real.test_mask.cpu()
            per_seed[name] = [(pred[mask] == real.y.cpu()[mask]).float().mean().item()] * len(seeds)
            continue
        stack = train_seeds(source, y_released, name, num_classes, settings, seeds)
        per_seed[name] = _Scorer(target, name, settings.hidden, real.y.cpu(), test)(stack).tolist()
    return {
        name: {
            "test_acc_mean": statistics.fmean(accs),
            "test_acc_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
            "per_seed": accs,
        }
        for name, accs in per_seed.items()
    }
