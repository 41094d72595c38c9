"""Time the utility evaluation of the `real` release of a pipeline's dataset (default `pipelines/cora-real.yaml`: GCN +
MLP x 5 seeds, 200 epochs; target <= 3 s on 2 CPU cores), its structural fidelity, and a plain PyG loop of one seed.

Usage: python benchmarks/bench_evaluation.py [PIPELINE.yaml] [--repeats N] [--device cpu|cuda]
Prints a table and one JSON line; the data root comes from $DPGRAPH_DATA (else ./datasets). Times are the fastest of
`--repeats` runs (other processes on a shared 2-core machine only ever slow a run down).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import torch
import torch.nn.functional as F
from timing import seconds_per_call
from torch_geometric.data import Data
from torch_geometric.nn import GCNConv

from dpgraph import load_config
from dpgraph.data import load_dataset, resolve_data_root
from dpgraph.evaluation import TrainSettings, evaluate_utility, structural_fidelity
from dpgraph.graphops import prepare_features

TARGET_S = {"cora": 3.0}


def real_release(real: Data) -> Data:
    """What the `real` method releases: the real graph with labels on the training nodes only."""
    return Data(x=real.x, edge_index=real.edge_index, y=torch.where(real.train_mask, real.y, -1))


class PlainGCN(torch.nn.Module):
    """The textbook PyG GCN: dropout, GCNConv, ReLU, dropout, GCNConv, on `edge_index`."""

    def __init__(self, in_channels: int, hidden: int, num_classes: int, dropout: float):
        super().__init__()
        self.conv1, self.conv2, self.dropout = GCNConv(in_channels, hidden), GCNConv(hidden, num_classes), dropout

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        x = F.dropout(x, self.dropout, self.training)
        x = F.dropout(self.conv1(x, edge_index).relu(), self.dropout, self.training)
        return self.conv2(x, edge_index)


def plain_pyg_gcn(released: Data, real: Data, settings: TrainSettings, num_classes: int, seed: int, epochs: int,
                  device: str) -> tuple[float, float]:
    """(seconds, real test accuracy) of one seed of `PlainGCN` trained `epochs` full-batch Adam steps on `released`
    (features prepared as dpgraph does), then scored on `real` with one full-graph forward pass."""
    torch.manual_seed(seed)
    x = prepare_features(released.x, settings.normalize_features).to(device)
    x_real = prepare_features(real.x, settings.normalize_features).to(device)
    edges, edges_real = released.edge_index.to(device), real.edge_index.to(device)
    y, labelled = released.y.to(device), (released.y >= 0).to(device)
    start = time.perf_counter()
    model = PlainGCN(x.size(1), settings.hidden, num_classes, settings.dropout).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        F.cross_entropy(model(x, edges)[labelled], y[labelled]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        pred = model(x_real, edges_real).argmax(1).cpu()
    seconds = time.perf_counter() - start
    return seconds, (pred[real.test_mask] == real.y[real.test_mask]).float().mean().item()


def settings_of(config) -> TrainSettings:
    ev = config.evaluate
    return TrainSettings(epochs=ev.epochs, lr=ev.lr, weight_decay=ev.weight_decay, hidden=ev.hidden,
                         dropout=ev.dropout, normalize_features=ev.normalize_features, val_fraction=ev.val_fraction)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline", nargs="?", default="pipelines/cora-real.yaml")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    config = load_config(args.pipeline)
    graph = load_dataset(config.dataset, config.dataset_params, resolve_data_root(None))
    real, settings, device = graph.data, settings_of(config), torch.device(args.device)
    released, models, seeds = real_release(real), config.evaluate.models, config.evaluate.seed_list

    results = {}

    def evaluate() -> None:
        results.update(evaluate_utility(released, real, models, seeds, settings, graph.num_classes, device=device,
                                        progress=False))

    runs = [seconds_per_call(evaluate, args.device, repeats=1, warmup=int(i == 0)) for i in range(args.repeats)]
    fidelity_s = min(seconds_per_call(lambda: structural_fidelity(released, real), "cpu", 1, 0) for _ in range(2))
    pyg_s, pyg_acc = plain_pyg_gcn(released, real, settings, graph.num_classes, seeds[0], settings.epochs,
                                   args.device)
    target = TARGET_S.get(config.dataset.name, float("inf"))
    row = {
        "dataset": config.dataset.name, "models": "+".join(models), "seeds": len(seeds), "epochs": settings.epochs,
        "utility_s": round(min(runs), 3), "target_s": target, "within_target": min(runs) <= target,
        **{f"{m}_acc": f"{r['test_acc_mean']:.4f} ± {r['test_acc_std']:.4f}" for m, r in results.items()},
        "fidelity_s": round(fidelity_s, 3), "plain_pyg_gcn_1_seed_s": round(pyg_s, 3),
        "plain_pyg_gcn_acc": round(pyg_acc, 4),
    }
    print(" | ".join(row))
    print(" | ".join(str(v) for v in row.values()))
    print(json.dumps({"benchmark": "evaluation", "device": args.device, "threads": torch.get_num_threads(),
                      "machine": platform.processor() or platform.machine(), "load_average": os.getloadavg(),
                      "utility_runs_s": [round(r, 3) for r in runs], **row}))


if __name__ == "__main__":
    main()
