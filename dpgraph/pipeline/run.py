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

from dpgraph.data import GraphDataset, load_dataset, resolve_data_root
from dpgraph.errors import DPGraphError
from dpgraph.mechanisms import MECHANISMS, ReleaseContext
from dpgraph.pipeline.config import PipelineConfig
from dpgraph.pipeline.device import resolve_device
from dpgraph.pipeline.evaluate import evaluate_release, evaluation_target
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


def delta_suggestion(num_nodes: int) -> float:
    """The largest power of ten at most 1/(10 n): a delta that is always < 1/n."""
    return 10.0 ** math.floor(math.log10(1.0 / (10 * num_nodes)))


def _check_delta(config: PipelineConfig, graph: GraphDataset) -> None:
    privacy = config.privacy
    if privacy.private and privacy.delta >= 1.0 / graph.num_nodes:
        raise DPGraphError(f"privacy.delta={privacy.delta:g} must be < 1/n = {1.0 / graph.num_nodes:.3g} for "
                           f"{graph.name} (n={graph.num_nodes}): lower it, e.g. "
                           f"--set privacy.delta={delta_suggestion(graph.num_nodes):g}")


def run_pipeline(config: PipelineConfig, out_dir: str | Path | None = None, data_root: str | Path | None = None,
                 device: str = "cpu", progress: bool = True) -> RunResult:
    """Run a validated pipeline and write its run directory: ``release/`` (the released artefact, privacy.json and
    the config, all that may be published) beside the private analysis (config.yaml, metrics.json, report.md, plots/).
    Nothing is written unless the whole run succeeds."""
    t_start = time.perf_counter()
    out = Path(out_dir) if out_dir else default_run_dir(config.name)
    ensure_free(out)
    dev = resolve_device(device)
    graph = load_dataset(config.dataset, config.dataset_params, resolve_data_root(data_root))
    _check_delta(config, graph)
    mechanism = MECHANISMS.get(config.method.name)()
    mechanism.check(config.privacy, graph, config.method_params)
    target = evaluation_target(config, graph)
    t_loaded = time.perf_counter()

    seed_everything(config.seed)
    context = ReleaseContext.create(config.privacy, mechanism, config.seed, dev, progress)
    release = mechanism.release(graph, config.method_params, context)
    if context.budget is not None:
        context.budget.close()
    release.check(graph)
    t_released = time.perf_counter()
    metrics, plots = evaluate_release(config, release, graph, target, dev, progress)
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
        (tmp / "report.md").write_text(render_report(resolved, graph.describe(), record, metrics, sorted(plots)))
    return RunResult(out_dir=out, privacy=record, metrics=metrics)
