"""Run a pipeline from Python, override settings, and read what it released and measured.

    python examples/run_pipeline.py                              # pipelines/sbm-smoke.yaml: seconds, no data files
    python examples/run_pipeline.py pipelines/cora.yaml --set privacy.epsilon=2
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from dpgraph.pipeline import load_config, run_pipeline

ROOT = Path(__file__).resolve().parents[1]


def main(pipeline: Path = ROOT / "pipelines" / "sbm-smoke.yaml", overrides: tuple[str, ...] = (),
         out: Path | None = None) -> dict:
    """Run ``pipeline`` with ``overrides`` (``key.path=value``) into ``out`` (a temporary folder if None)."""
    config = load_config(pipeline, overrides)  # every section is validated here, before any work
    out = out or Path(tempfile.mkdtemp()) / config.name
    result = run_pipeline(config, out_dir=out, progress=False)
    privacy = result.privacy
    if privacy["private"]:
        print(f"({privacy['epsilon']:.3g}, {privacy['delta']:g})-DP, {privacy['unit']}-level, accounted with "
              f"{privacy['accounted_with']}; events: {[event['stage'] for event in privacy['events']]}")
    for model, score in result.metrics["utility"].items():
        print(f"{model}: test accuracy {score['test_acc_mean']:.3f} ± {score['test_acc_std']:.3f}")
    print(f"publish {result.release_dir} only; the rest of {result.out_dir} is private analysis")
    return result.metrics


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pipeline", nargs="?", type=Path, default=ROOT / "pipelines" / "sbm-smoke.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    main(args.pipeline, tuple(args.overrides))
