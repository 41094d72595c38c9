"""`run_pipeline(config) -> RunResult`: load -> mechanism -> evaluators -> run directory."""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from dpgraph.data.root import resolve_data_root
from dpgraph.data.spec import PrivateDataset, load_dataset
from dpgraph.errors import DPGraphError
from dpgraph.mechanisms.base import ReleaseContext
from dpgraph.pipeline.catalogue import MECHANISMS
from dpgraph.pipeline.config import PipelineConfig
from dpgraph.pipeline.device import resolve_device
from dpgraph.pipeline.evaluate import evaluate_release
from dpgraph.pipeline.privacy_record import privacy_record, release_config
from dpgraph.pipeline.report import render_report
from dpgraph.pipeline.rundir import atomic_directory, default_run_dir, ensure_free

RELEASE = "release"


@dataclass(frozen=True)
class RunResult:
    """What a run produced: its directory (whose ``release/`` holds what may be published) and the contents of
    privacy.json and metrics.json."""

    out_dir: Path
    privacy: dict[str, Any]
    metrics: dict[str, Any]

    @property
    def release_dir(self) -> Path:
        return self.out_dir / RELEASE


def seed_everything(seed: int) -> None:
    """Seed every library's global generator (public randomness only: nothing secret uses them)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def delta_suggestion(size: int) -> float:
    """The largest power of ten at most 1/(10 n): a delta that is always < 1/n."""
    return 10.0 ** math.floor(math.log10(1.0 / (10 * size)))


def _check_delta(config: PipelineConfig, dataset: PrivateDataset) -> None:
    privacy, n = config.privacy, dataset.size
    if privacy.private and privacy.delta >= 1.0 / n:
        raise DPGraphError(f"privacy.delta={privacy.delta:g} must be < 1/n = {1.0 / n:.3g} for "
                           f"{dataset.name} (n={n}): lower it, e.g. --set privacy.delta={delta_suggestion(n):g}")


def run_pipeline(config: PipelineConfig, out_dir: str | Path | None = None, data_root: str | Path | None = None,
                 device: str = "cpu", progress: bool = True) -> RunResult:
    """Run a validated pipeline and write its run directory: ``release/`` (the released artefact, privacy.json and
    the config, all that may be published) beside the private analysis (config.yaml, metrics.json, report.md, plots/).
    Nothing is written unless the whole run succeeds."""
    t_start = time.perf_counter()
    out = Path(out_dir) if out_dir else default_run_dir(config.name)
    ensure_free(out)
    dev = resolve_device(device)
    dataset = load_dataset(config.dataset, config.dataset_params, resolve_data_root(data_root))
    _check_delta(config, dataset)
    mechanism = MECHANISMS.get(config.method.name)()
    mechanism.check(config.privacy, dataset, config.method_params)
    target = dataset.evaluation_target(config.evaluate.score_on)
    t_loaded = time.perf_counter()

    seed_everything(config.seed)
    context = ReleaseContext.create(config.privacy, mechanism, config.seed, dev, progress)
    release = mechanism.release(dataset, config.method_params, context)
    if context.budget is not None:
        context.budget.close()
    release.check(dataset)
    t_released = time.perf_counter()
    metrics, plots = evaluate_release(config, release, dataset, target, dev, progress)
    t_evaluated = time.perf_counter()

    record = privacy_record(config, context.budget.ledger if context.budget is not None else None)
    metrics = {**metrics, "evaluated_on": config.evaluate.score_on,
               "timing_s": {"load": t_loaded - t_start, "mechanism": t_released - t_loaded,
                            "evaluate": t_evaluated - t_released}}
    with atomic_directory(out) as tmp:
        (tmp / RELEASE).mkdir()
        release.save(tmp / RELEASE)
        (tmp / "plots").mkdir()
        for name, write in plots.items():
            write(tmp / name)
        metrics["timing_s"]["total"] = time.perf_counter() - t_start
        resolved = config.to_dict()
        (tmp / RELEASE / "config.yaml").write_text(yaml.safe_dump(release_config(resolved), sort_keys=False))
        (tmp / RELEASE / "privacy.json").write_text(json.dumps(record, indent=2) + "\n")
        (tmp / "config.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        (tmp / "report.md").write_text(render_report(resolved, dataset.describe(), record, metrics, sorted(plots)))
    return RunResult(out_dir=out, privacy=record, metrics=metrics)
