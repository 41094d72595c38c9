"""Utility over privacy budgets, mechanism seeds and a grid of settings: the README's tables in one command.

Usage: python benchmarks/sweep_utility.py PIPELINE.yaml [...] [--epsilons 1 4 8] [--seeds 5] [--set key=value ...]
       [--grid "key=v1|v2|..." ...] [--metric fidelity.degree_ks --metric pgb_queries.transitivity.released ...]
Each (pipeline, grid point, epsilon, seed) is one `dpgraph run` with `--set privacy.randomness=reproducible
--set privacy.epsilon=E --set seed=S`, your `--set`s and the grid point's values (a `--set` of yours may override
the randomness). Reproducible noise makes every table re-runnable bit for bit; such runs are experiments, not
releases. Choosing defaults on a public proxy: `--set dataset.name=citeseer --set evaluate.score_on=val --grid ...`.
Prints a table of the mean ± sample std over mechanism seeds of each model's accuracy (itself a mean over the
pipeline's training seeds), of each `--metric` (a dotted path into metrics.json), and one JSON line.
"""

from __future__ import annotations

import argparse
import itertools
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


def _grid_points(grid: list[str]) -> list[tuple[str, ...]]:
    """``["a=1|2", "b=x"]`` -> ``[("a=1", "b=x"), ("a=2", "b=x")]`` (one point, no override, without a grid)."""
    axes = []
    for item in grid:
        key, sep, values = item.partition("=")
        if not sep or not key or not values:
            raise DPGraphError(f"--grid {item!r} is not of the form key.path=v1|v2 (e.g. --grid 'method.lr=0.01|0.1')")
        axes.append([f"{key}={value}" for value in values.split("|")])
    return list(itertools.product(*axes))


def _epsilon(text: str) -> float | None:
    """A budget of --epsilons: a positive number, or null for a non-private run."""
    if text == "null":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a number nor null") from None


def _lookup(metrics: dict, path: str) -> float:
    """The number at dotted ``path`` of a run's metrics (a missing or non-numeric entry is an error naming it)."""
    value: object = metrics
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise DPGraphError(f"--metric {path!r}: metrics.json has no entry {key!r} there; check the evaluators run")
        value = value[key]
    if not isinstance(value, int | float):
        raise DPGraphError(f"--metric {path!r} is not a number in metrics.json")
    return float(value)


def main() -> None:
    try:
        _sweep()
    except DPGraphError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def _sweep() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipelines", nargs="+")
    parser.add_argument("--epsilons", nargs="+", type=_epsilon, default=[1.0, 4.0, 8.0],
                        help="budgets to sweep; null runs the pipeline's non-private reference")
    parser.add_argument("--seeds", type=int, default=5, help="mechanism seeds 0 .. N-1")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=V1|V2|...",
                        help="sweep a setting over |-separated values (repeatable: the product is swept)")
    parser.add_argument("--metric", dest="metrics", action="append", default=[], metavar="DOTTED.PATH",
                        help="also tabulate this entry of metrics.json (repeatable), e.g. fidelity.degree_ks")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    jobs = [(p, g, e, s) for p in args.pipelines for g in _grid_points(args.grid) for e in args.epsilons
            for s in range(args.seeds)]
    runs: dict[tuple[str, tuple[str, ...], float], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (path, point, epsilon, seed) in enumerate(tqdm(jobs, desc="sweep", unit="run")):
            budget = "null" if epsilon is None else epsilon
            overrides = ["privacy.randomness=reproducible", *args.overrides, *point, f"privacy.epsilon={budget}",
                         f"seed={seed}"]
            result = run_pipeline(load_config(path, overrides), out_dir=Path(tmp) / str(i), device=args.device,
                                  progress=False)
            runs.setdefault((path, point, epsilon), []).append(
                {"ledger_epsilon": result.privacy["epsilon"], "evaluated_on": result.metrics["evaluated_on"],
                 "accuracy": {m: r["test_acc_mean"] for m, r in result.metrics["utility"].items()},
                 "metrics": {path: _lookup(result.metrics, path) for path in args.metrics}})
    rows = []
    for (path, point, epsilon), results in runs.items():
        models = list(results[0]["accuracy"])
        rows.append({"pipeline": path, "settings": list(point), "epsilon": epsilon,
                     "ledger_epsilon": results[0]["ledger_epsilon"], "evaluated_on": results[0]["evaluated_on"],
                     "seeds": len(results),
                     "accuracy": {m: _mean_std([r["accuracy"][m] for r in results]) for m in models},
                     "metrics": {p: _mean_std([r["metrics"][p] for r in results]) for p in args.metrics}})
    print("| pipeline | settings | ε (ledger) | scored on | seeds | accuracy per model and metrics (mean ± std over "
          "seeds) |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        cells = ", ".join(f"{name} {m:.3f} ± {s:.3f}" for name, (m, s) in {**row["accuracy"], **row["metrics"]}.items())
        ledger = "—" if row["ledger_epsilon"] is None else f"{row['ledger_epsilon']:.3g}"
        print(f"| {row['pipeline']} | {' '.join(row['settings']) or 'as shipped'} | {ledger} | "
              f"{row['evaluated_on']} | {row['seeds']} | {cells} |")
    print(json.dumps({"overrides": args.overrides, "rows": rows}))


if __name__ == "__main__":
    main()
