"""Scale: generated SBM graphs of 10^4, 10^5, 10^6 nodes (10 edges per node): dataset generation, each shipped
mechanism's release, the evaluation (utility + fidelity), peak memory, and dpgraph's evaluator beside a plain PyG loop.

Usage: python benchmarks/bench_scale.py [--sizes 10000 100000 1000000] [--mechanisms real dp-sbm ...]
                                        [--train-fraction 0.01] [--features 32] [--epochs 200] [--seeds 5]
                                        [--reference-epochs N] [--timeout 900]
Each (size, mechanism) runs `run_pipeline` (the public API, config built like a pipeline file) in its own process,
so its peak memory is its own: the peak resident set size (getrusage ru_maxrss; tracemalloc would miss torch's C++
allocations). A run the memory checks refuse, that crashes or that passes `--timeout` is reported as such. The
reference row times, on the `real` release: dataset generation, dpgraph's GCN for one seed, and a plain PyG loop
(GCNConv x2, same settings, one seed); with `--reference-epochs` below `--epochs` the PyG time is extrapolated
linearly (marked "~"). Prints one table per kind of row and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

MECHANISMS = {  # small step counts where a method iterates
    "real": {},
    "dp-sbm": {"degree_cap": 5, "feature_clip": 4.0},
    "dp-centroid": {},
    "dp-gcond": {"nodes_per_class": 10, "outer_steps": 2, "matching_steps": 5},
    "dp-gnn": {"model": "sgc", "sampler": {"kind": "ego", "hops": 0}, "sample_rate": 0.05, "steps": 20},
}


def pipeline(args: argparse.Namespace, nodes: int, mechanism: str) -> dict:
    """A pipeline config for the generated graph: average degree 20, `--homophily` of the edges within a class."""
    c = args.classes
    within, across = c * (nodes / c) * (nodes / c - 1) / 2, c * (c - 1) / 2 * (nodes / c) ** 2
    edges = 10 * nodes
    dataset = {"name": "sbm", "split": "random", "num_nodes": nodes, "num_classes": c, "num_features": args.features,
               "p_in": args.homophily * edges / within, "p_out": (1 - args.homophily) * edges / across,
               "split_fractions": [args.train_fraction, args.train_fraction, 1 - 2 * args.train_fraction]}
    private = mechanism != "real"
    delta = 10.0 ** math.floor(math.log10(1.0 / (10 * nodes)))
    return {"name": f"scale-{mechanism}-{nodes}", "seed": 0, "dataset": dataset,
            "privacy": {"epsilon": 4.0, "delta": delta} if private else {"epsilon": None},
            "method": {"name": mechanism, **MECHANISMS[mechanism]},
            "evaluate": {"models": ["gcn", "mlp"], "seeds": args.seeds, "epochs": args.epochs}}


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def run_mechanism(args: argparse.Namespace, nodes: int, mechanism: str) -> dict:
    """One pipeline run, in this process: its stage times, accuracies and peak memory."""
    from dpgraph import load_config, run_pipeline
    from dpgraph.errors import DPGraphError

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pipeline.yaml"
        path.write_text(yaml.safe_dump(pipeline(args, nodes, mechanism)))
        start = time.perf_counter()
        try:
            result = run_pipeline(load_config(path), out_dir=Path(tmp) / "run", progress=False)
        except DPGraphError as err:
            return {"status": f"refused: {err}"}
        timing, utility = result.metrics["timing_s"], result.metrics["utility"]
        return {"status": "ok", **{f"{k}_s": round(v, 2) for k, v in timing.items()},
                "wall_s": round(time.perf_counter() - start, 2),
                **{f"{m}_acc": round(r["test_acc_mean"], 4) for m, r in utility.items()}}


def run_reference(args: argparse.Namespace, nodes: int) -> dict:
    """Dataset generation, dpgraph's GCN for one seed and the plain PyG loop for one seed, on the `real` release."""
    from bench_evaluation import plain_pyg_gcn, real_release

    from dpgraph import load_config
    from dpgraph.data import load_dataset, resolve_data_root
    from dpgraph.evaluation import TrainSettings, evaluate_utility

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pipeline.yaml"
        path.write_text(yaml.safe_dump(pipeline(args, nodes, "real")))
        config = load_config(path)
    start = time.perf_counter()
    graph = load_dataset(config.dataset, config.dataset_params, resolve_data_root(None))
    generate_s = time.perf_counter() - start
    real, settings = graph.data, TrainSettings(epochs=args.epochs)
    released = real_release(real)
    start = time.perf_counter()
    ours = evaluate_utility(released, real, ["gcn"], [0], settings, graph.num_classes, progress=False)["gcn"]
    ours_s = time.perf_counter() - start
    epochs = min(args.reference_epochs or args.epochs, args.epochs)
    pyg_s, pyg_acc = plain_pyg_gcn(released, real, settings, graph.num_classes, 0, epochs, "cpu")
    scaled = pyg_s * args.epochs / epochs
    return {"status": "ok", "edges": int(real.edge_index.size(1)) // 2, "generate_s": round(generate_s, 2),
            "dpgraph_gcn_1_seed_s": round(ours_s, 2), "dpgraph_gcn_acc": round(ours["test_acc_mean"], 4),
            "pyg_gcn_1_seed_s": ("~" if epochs < args.epochs else "") + f"{scaled:.2f}",
            "pyg_gcn_acc": round(pyg_acc, 4) if epochs == args.epochs else f"({epochs} epochs) {pyg_acc:.4f}"}


def child(args: argparse.Namespace, nodes: int, job: str) -> dict:
    """Run `job` (a mechanism, or "reference") for `nodes` in a fresh process; its JSON answer, or why there is none."""
    command = [sys.executable, __file__, "--child", str(nodes), job, *sys.argv[1:]]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"status": f"timed out after {args.timeout} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": f"failed (exit {done.returncode}, {time.perf_counter() - start:.0f} s): {last[:160]}"}
    return json.loads(lines[-1])


def print_table(rows: list[dict]) -> None:
    header = list(dict.fromkeys(k for row in rows for k in row))
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row.get(h, "")) for h in header))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--mechanisms", nargs="+", default=list(MECHANISMS), choices=list(MECHANISMS))
    parser.add_argument("--train-fraction", type=float, default=0.01, help="labelled training share (val: the same)")
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--homophily", type=float, default=0.6, help="share of the edges within a class")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--reference-epochs", type=int, default=None,
                        help="epochs of the plain PyG loop (default: --epochs); fewer are extrapolated")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference row")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed to each run")
    parser.add_argument("--child", nargs=2, metavar=("NODES", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        nodes, job = int(args.child[0]), args.child[1]
        answer = run_reference(args, nodes) if job == "reference" else run_mechanism(args, nodes, job)
        print(json.dumps({**answer, "peak_rss_gb": round(_peak_gb(), 2)}))
        return

    references, runs = [], []
    for nodes in args.sizes:
        if not args.no_reference:
            references.append({"nodes": nodes, **child(args, nodes, "reference")})
        runs += [{"nodes": nodes, "mechanism": name, **child(args, nodes, name)} for name in args.mechanisms]
    if references:
        print_table(references)
    print_table(runs)
    print(json.dumps({"benchmark": "scale", "threads": os.cpu_count(), "machine": platform.processor()
                      or platform.machine(), "load_average": os.getloadavg(), "train_fraction": args.train_fraction,
                      "features": args.features, "epochs": args.epochs, "seeds": args.seeds,
                      "reference": references, "runs": runs}))


if __name__ == "__main__":
    main()
