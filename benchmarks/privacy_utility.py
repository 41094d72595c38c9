"""The privacy-utility table and plot of finished runs: one row per run directory, one line per method.

Usage: python benchmarks/privacy_utility.py RUN_DIR [...] [--model cnn] [--plot FILE.png]
Reads each run's config.yaml (method, dataset, split), release/privacy.json (the ledger's epsilon and delta, or
non-private) and metrics.json (downstream accuracy of ``--model``, mean ± std over the run's evaluation seeds, and
the Fréchet distance when the run measured one). Prints a markdown table and one JSON line; ``--plot`` draws accuracy
against the ledger's epsilon per method, each method's non-private ceiling as a dashed line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml


def run_row(run: Path, model: str) -> dict[str, Any]:
    """The facts of one finished run directory."""
    config = yaml.safe_load((run / "config.yaml").read_text())
    privacy = json.loads((run / "release" / "privacy.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    utility = metrics.get("utility", {}).get(model)
    if utility is None:
        raise SystemExit(f"{run}: metrics.json has no utility of model '{model}'; pick another --model")
    quality = metrics.get("image_quality", {})
    return {"run": str(run), "method": config["method"]["name"], "dataset": config["dataset"]["name"],
            "split": config["dataset"]["split"], "epsilon": privacy["epsilon"], "delta": privacy.get("delta"),
            "unit": privacy.get("unit"), "seeds": len(utility["per_seed"]), "accuracy": utility["test_acc_mean"],
            "accuracy_std": utility["test_acc_std"], "fid": quality.get("fid"),
            "mechanism_s": metrics["timing_s"]["mechanism"], "total_s": metrics["timing_s"]["total"]}


def plot(rows: list[dict[str, Any]], model: str, path: Path) -> None:
    """Accuracy against epsilon, one line per method; non-private runs as dashed ceilings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for index, method in enumerate(sorted({r["method"] for r in rows})):
        color = f"C{index}"
        private = sorted((r for r in rows if r["method"] == method and r["epsilon"] is not None),
                         key=lambda r: r["epsilon"])
        if private:
            ax.errorbar([r["epsilon"] for r in private], [r["accuracy"] for r in private],
                        yerr=[r["accuracy_std"] for r in private], marker="o", color=color, label=method, capsize=3)
        for ceiling in (r for r in rows if r["method"] == method and r["epsilon"] is None):
            ax.axhline(ceiling["accuracy"], color=color, linestyle="--", linewidth=1,
                       label=f"{method}, non-private")
    ax.set_xscale("log")
    ax.set_xlabel("ε (ledger)")
    ax.set_ylabel(f"{model} accuracy on real held-out images")
    first = rows[0]
    ax.set_title(f"{first['dataset']}, {first['split']} split, δ = {first['delta']}", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args(argv)
    rows = [run_row(run, args.model) for run in args.runs]
    print(f"| method | dataset | ε (ledger) | δ | {args.model} accuracy | FID | seeds | mechanism s | total s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        eps = "non-private" if r["epsilon"] is None else f"{r['epsilon']:.3g}"
        fid = "—" if r["fid"] is None else f"{r['fid']:.1f}"
        print(f"| {r['method']} | {r['dataset']} | {eps} | {r['delta']} | {r['accuracy']:.3f} ± "
              f"{r['accuracy_std']:.3f} | {fid} | {r['seeds']} | {r['mechanism_s']:.0f} | {r['total_s']:.0f} |")
    if args.plot:
        plot(rows, args.model, args.plot)
    print(json.dumps({"benchmark": "privacy_utility", "model": args.model, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
