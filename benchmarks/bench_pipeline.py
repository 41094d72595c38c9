"""Time whole pipelines phase by phase (target: `pipelines/cora.yaml` <= 300 s on 2 CPU cores).

Usage: python benchmarks/bench_pipeline.py [PIPELINE.yaml ...] [--device cpu|cuda|auto]
Prints a table and one JSON line; the data root comes from $DPGRAPH_DATA (else ./datasets).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
from pathlib import Path

import torch

from dpgraph import load_config, run_pipeline

TARGET_S = {"cora": 300.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipelines", nargs="*", default=["pipelines/cora.yaml", "pipelines/cora-real.yaml"])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(args.pipelines):
            config = load_config(path)
            result = run_pipeline(config, out_dir=Path(tmp) / str(i), device=args.device, progress=False)
            timing = result.metrics["timing_s"]
            rows.append({
                "pipeline": path,
                "dataset": config.dataset.name,
                "epsilon": result.privacy["epsilon"],
                **{f"{k}_s": round(v, 2) for k, v in timing.items()},
                "gcn_acc": round(result.metrics["utility"].get("gcn", {}).get("test_acc_mean", float("nan")), 4),
                "within_target": timing["total"] <= TARGET_S.get(config.dataset.name, float("inf")),
            })
    header = list(rows[0])
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row[h]) for h in header))
    print(json.dumps({"benchmark": "pipeline", "device": args.device, "threads": torch.get_num_threads(),
                      "machine": platform.processor() or platform.machine(), "rows": rows}))


if __name__ == "__main__":
    main()
