"""Utility of a released graph: train only on it, test on the real graph's test nodes."""

from __future__ import annotations

import copy
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from tqdm import tqdm

from dpgraph.errors import DPGraphError
from dpgraph.evaluation.centroid import NearestCentroid
from dpgraph.evaluation.models import MODEL_NAMES, build_model
from dpgraph.evaluation.split import stratified_holdout
from dpgraph.graphops import prepare_features, sparse_adjacency

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


@torch.no_grad()
def _accuracy(model: torch.nn.Module, x: Tensor, adj: Tensor, y: Tensor, mask: Tensor) -> float:
    """Fraction of `mask` nodes whose argmax logit equals `y`, with full-graph inference in eval mode."""
    model.eval()
    pred = model(x, adj).argmax(dim=1)
    return (pred[mask] == y[mask]).float().mean().item()


def _training_masks(y: Tensor, val_fraction: float, seed: int) -> tuple[Tensor, Tensor | None]:
    """(train, val) masks over the labelled nodes; val is None when `val_fraction` is 0."""
    if val_fraction == 0:
        return y >= 0, None
    train, val = stratified_holdout(y, val_fraction, torch.Generator().manual_seed(seed))
    if not val.any():
        raise DPGraphError(f"val_fraction={val_fraction} holds out no released node; use 0 or a larger value")
    return train, val


def scoring_on(real: Data, mask: Tensor) -> Data:
    """A shallow copy of `real` whose `test_mask` is `mask`: `evaluate_utility` then scores those nodes (e.g. the
    validation nodes, to choose hyper-parameters without test labels)."""
    target = real.clone()
    target.test_mask = mask
    return target


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
    accepts that or a plain `edge_index`. `torch.manual_seed(seed)` fixes initialisation and dropout (and
    the seed fixes the validation split), so the same seed gives the same weights on the same machine.
    Nothing but `released` is read. Raises DPGraphError if no node is labelled or a label is >= `num_classes`.
    """
    y = released.y.cpu()
    labelled = y >= 0
    if not labelled.any():
        raise DPGraphError(_NO_LABELS)
    if int(y.max()) >= num_classes:
        raise DPGraphError(f"released label {int(y.max())} is out of range for num_classes={num_classes}")
    train_mask, val_mask = _training_masks(y, settings.val_fraction, seed)

    x = prepare_features(released.x, settings.normalize_features).to(device)
    adj = sparse_adjacency(released.edge_index.to(device), released.num_nodes)
    y, train_mask = y.to(device), train_mask.to(device)

    torch.manual_seed(seed)
    model = build_model(model_name, x.size(1), num_classes, settings.hidden, settings.dropout).to(device)
    if isinstance(model, NearestCentroid):
        return model.fit(x, adj, y, train_mask).eval()
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    best_acc, best_state = -1.0, None
    for _ in range(settings.epochs):
        model.train()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x, adj)[train_mask], y[train_mask])
        loss.backward()
        optimizer.step()
        if val_mask is not None:
            acc = _accuracy(model, x, adj, y, val_mask.to(device))
            if acc >= best_acc:  # ties go to the later, better-trained epoch
                best_acc, best_state = acc, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    return model.eval()


def _check_inputs(released: Data, real: Data, models: Sequence[str], seeds: Sequence[int]) -> None:
    """Raise DPGraphError on inputs evaluate_utility cannot use, before any training starts."""
    unknown = [name for name in models if name not in MODEL_NAMES]
    if not models or unknown:
        raise DPGraphError(f"models must be some of {', '.join(MODEL_NAMES)}, got {list(models)}")
    if not seeds:
        raise DPGraphError("at least one seed is needed to evaluate utility")
    if not bool((released.y >= 0).any()):
        raise DPGraphError(_NO_LABELS)
    if released.x.size(1) != real.x.size(1):
        raise DPGraphError(
            f"released graph has {released.x.size(1)} features but the real graph has {real.x.size(1)}"
        )
    if getattr(real, "test_mask", None) is None or not bool(real.test_mask.any()):
        raise DPGraphError("the real graph needs a non-empty boolean test_mask")


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
    _check_inputs(released, real, models, seeds)
    x = prepare_features(real.x, settings.normalize_features).to(device)
    adj = sparse_adjacency(real.edge_index.to(device), real.num_nodes)
    y, test_mask = real.y.to(device), real.test_mask.to(device)
    per_seed: dict[str, list[float]] = {name: [] for name in models}
    pairs = list(product(per_seed, seeds))
    for name, seed in tqdm(pairs, desc="utility", unit="run", disable=not progress):
        model = train_on_released(released, name, num_classes, settings, seed, device)
        per_seed[name].append(_accuracy(model, x, adj, y, test_mask))
    return {
        name: {
            "test_acc_mean": statistics.fmean(accs),
            "test_acc_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
            "per_seed": accs,
        }
        for name, accs in per_seed.items()
    }
