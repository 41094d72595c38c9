"""Condense Cora (public split) with GCond-style gradient matching; score a GCN trained on the condensed graph.

Usage: python benchmarks/bench_condensation.py [--per-class 10] [--adjacency identity|mlp] [--test] ...
Validation accuracy (real val nodes) is always printed; test accuracy only with --test. Data root: $DPGRAPH_DATA.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch_geometric.data import Data

from dpgraph.condensation import (
    CondenseSettings,
    ExactClassGradients,
    SyntheticGraph,
    condense,
    random_features,
    real_sample_features,
)
from dpgraph.config.sections import DatasetSection
from dpgraph.data import load_dataset, resolve_data_root
from dpgraph.data.registry import NoParams
from dpgraph.evaluation.utility import TrainSettings, evaluate_utility, scoring_on
from dpgraph.graphops import normalized_sparse_adjacency, prepare_features, propagate


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-class", type=int, default=10)
    p.add_argument("--adjacency", choices=["identity", "mlp"], default="identity")
    p.add_argument("--init", choices=["random", "real-sample"], default="real-sample")
    p.add_argument("--outer", type=int, default=200)
    p.add_argument("--matching", type=int, default=10)
    p.add_argument("--model-steps", type=int, default=5)
    p.add_argument("--lr-features", type=float, default=1e-4)
    p.add_argument("--lr-adjacency", type=float, default=0.01)
    p.add_argument("--lr-model", type=float, default=0.1)
    p.add_argument("--model", choices=["sgc", "mlp"], default="sgc")
    p.add_argument("--k", type=int, default=2)
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-seeds", type=int, default=5)
    p.add_argument("--test", action="store_true", help="also report test accuracy")
    return p.parse_args()


def _score(released: Data, real: Data, mask: torch.Tensor, num_classes: int, seeds: int) -> dict:
    """GCN trained on `released` only, accuracy on the real nodes of `mask`."""
    res = evaluate_utility(released, scoring_on(real, mask), ["gcn"], list(range(seeds)), TrainSettings(), num_classes,
                           progress=False)["gcn"]
    return {"mean": round(res["test_acc_mean"], 4), "std": round(res["test_acc_std"], 4)}


def main() -> None:
    args = _parse()
    graph = load_dataset(DatasetSection(name="cora"), NoParams(), resolve_data_root(None))
    d, c = graph.data, graph.num_classes
    start = time.perf_counter()
    x = prepare_features(d.x, True)
    propagated = propagate(x, normalized_sparse_adjacency(d.edge_index, graph.num_nodes), args.k)
    oracle = ExactClassGradients(propagated, d.y, d.train_mask)
    gen = torch.Generator().manual_seed(args.seed)
    counts = [args.per_class] * c
    if args.init == "random":
        init = random_features(counts, graph.num_features, gen)
    else:
        init = real_sample_features(x, d.y, d.train_mask, counts, gen)
    synthetic = SyntheticGraph(init, counts, gen, adjacency=args.adjacency, edge_threshold=args.threshold)
    settings = CondenseSettings(outer_steps=args.outer, matching_steps=args.matching, model_steps=args.model_steps,
                                lr_features=args.lr_features, lr_adjacency=args.lr_adjacency, lr_model=args.lr_model,
                                model=args.model, k=args.k)
    released = condense(oracle, synthetic, settings, gen, progress=True).to_data()
    wall = time.perf_counter() - start
    row = {"args": vars(args), "condense_s": round(wall, 1), "threads": torch.get_num_threads(),
           "edges": released.edge_index.size(1) // 2,
           "val": _score(released, d, d.val_mask, c, args.eval_seeds)}
    if args.test:
        row["test"] = _score(released, d, d.test_mask, c, args.eval_seeds)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
