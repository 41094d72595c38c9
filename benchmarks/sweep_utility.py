"""Utility over privacy budgets and mechanism seeds: the README's accuracy tables in one command.

Usage: python benchmarks/sweep_utility.py PIPELINE.yaml [...] [--epsilons 1 4 8] [--seeds 5] [--set key=value ...]
Each (pipeline, epsilon, seed) is one `dpgraph run` (`--set privacy.epsilon=E --set seed=S` plus your `--set`s, e.g.
`evaluate.score_on=val` to choose hyper-parameters without test labels). Prints a table of the mean ± sample std over
mechanism seeds of each model's accuracy (itself a mean over the pipeline's training seeds), and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

from dpgraph import load_config, run_pipeline
from dpgraph.errors import DPGraphError


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def main() -> None:
    try:
        _sweep()
    except DPGraphError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def _sweep() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipelines", nargs="+")
    parser.add_argument("--epsilons", nargs="+", type=float, default=[1.0, 4.0, 8.0])
    parser.add_argument("--seeds", type=int, default=5, help="mechanism seeds 0 .. N-1")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    jobs = [(p, e, s) for p in args.pipelines for e in args.epsilons for s in range(args.seeds)]
    runs: dict[tuple[str, float], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (path, epsilon, seed) in enumerate(tqdm(jobs, desc="sweep", unit="run")):
            config = load_config(path, [*args.overrides, f"privacy.epsilon={epsilon}", f"seed={seed}"])
            result = run_pipeline(config, out_dir=Path(tmp) / str(i), device=args.device, progress=False)
            runs.setdefault((path, epsilon), []).append(
                {"ledger_epsilon": result.privacy["epsilon"], "evaluated_on": result.metrics["evaluated_on"],
                 "accuracy": {m: r["test_acc_mean"] for m, r in result.metrics["utility"].items()}})
    rows = []
    for (path, epsilon), results in runs.items():
        models = list(results[0]["accuracy"])
        rows.append({"pipeline": path, "epsilon": epsilon, "ledger_epsilon": results[0]["ledger_epsilon"],
                     "evaluated_on": results[0]["evaluated_on"], "seeds": len(results),
                     "accuracy": {m: _mean_std([r["accuracy"][m] for r in results]) for m in models}})
    print("| pipeline | ε (ledger) | scored on | seeds | accuracy per model (mean ± std over seeds) |")
    print("|---|---|---|---|---|")
    for row in rows:
        cells = ", ".join(f"{name} {m:.3f} ± {s:.3f}" for name, (m, s) in row["accuracy"].items())
        print(f"| {row['pipeline']} | {row['ledger_epsilon']:.3g} | {row['evaluated_on']} | {row['seeds']} | {cells} |")
    print(json.dumps({"overrides": args.overrides, "rows": rows}))


if __name__ == "__main__":
    main()
