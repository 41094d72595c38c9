"""`run_pipeline(config) -> RunResult`: load -> mechanism -> evaluate -> run directory."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch_geometric.data import Data

from dpgraph.config.load import PipelineConfig
from dpgraph.data import GraphDataset, load_dataset, resolve_data_root, save_graph
from dpgraph.errors import DPGraphError
from dpgraph.evaluation import TrainSettings, evaluate_utility, scoring_on, structural_fidelity
from dpgraph.evaluation.plots import plot_degree_distributions, plot_utility
from dpgraph.mechanisms import MECHANISMS, Mechanism, ReleaseContext, ReleasedModel
from dpgraph.pipeline.device import resolve_device
from dpgraph.pipeline.report import render_report
from dpgraph.pipeline.rundir import atomic_directory, default_run_dir, ensure_free
from dpgraph.privacy import PrivacyLedger, split_targets


@dataclass(frozen=True)
class RunResult:
    """What a run produced: its directory and the contents of privacy.json and metrics.json."""

    out_dir: Path
    privacy: dict[str, Any]
    metrics: dict[str, Any]


def _seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _check_delta(config: PipelineConfig, graph: GraphDataset) -> None:
    privacy = config.privacy
    if privacy.private and privacy.delta >= 1.0 / graph.num_nodes:
        raise DPGraphError(f"privacy.delta={privacy.delta:g} must be < 1/n = {1.0 / graph.num_nodes:.3g} for "
                           f"{graph.name} (n={graph.num_nodes}): lower it, e.g. --set privacy.delta=1e-5")


def _stage_targets(config: PipelineConfig, mechanism: Mechanism) -> dict[str, float]:
    """Each stage's cumulative epsilon target, in the mechanism's release order."""
    privacy = config.privacy
    if not privacy.private:
        return {}
    split = privacy.split or mechanism.default_split
    ordered = {stage: split[stage] for stage in mechanism.stages if stage in split}
    return split_targets(privacy.epsilon, ordered)


def _check_release(released: Data, graph: GraphDataset) -> None:
    if released.x.size(1) != graph.num_features:
        raise RuntimeError(f"mechanism released {released.x.size(1)} features, expected {graph.num_features}")
    if int(released.y.max()) >= graph.num_classes:
        raise RuntimeError("mechanism released a label outside the dataset's classes")


def _privacy_record(config: PipelineConfig, ledger: PrivacyLedger | None, mechanism: Mechanism) -> dict[str, Any]:
    if ledger is None:
        return {"private": False, "epsilon": None, "delta": None, "unit": config.privacy.unit,
                "method": mechanism.name, "events": []}
    return {**ledger.to_dict(), "target_epsilon": config.privacy.epsilon, "method": mechanism.name}


def _evaluation_target(config: PipelineConfig, graph: GraphDataset) -> Data:
    """The real graph whose `test_mask` marks the nodes scored: the test nodes, or the validation nodes
    (`evaluate.score_on: val`)."""
    if config.evaluate.score_on == "test":
        return graph.data
    val = getattr(graph.data, "val_mask", None)
    if val is None or not bool(val.any()):
        raise DPGraphError(f"evaluate.score_on: val needs validation nodes, and the {graph.name} split has none; use a "
                           "split with a validation share (e.g. dataset.split_fractions: [0.75, 0.1, 0.15])")
    return scoring_on(graph.data, val)


def _graph_utility(config: PipelineConfig, released: Data, real: Data, num_classes: int, device: torch.device,
                   progress: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Models trained on the released graph and scored on `real`'s `test_mask` nodes; structural fidelity."""
    ev = config.evaluate
    settings = TrainSettings(epochs=ev.epochs, lr=ev.lr, weight_decay=ev.weight_decay, hidden=ev.hidden,
                             dropout=ev.dropout, normalize_features=ev.normalize_features,
                             val_fraction=ev.val_fraction)
    utility = evaluate_utility(released, real, ev.models, ev.seed_list, settings, num_classes,
                               device=device, progress=progress)
    return utility, structural_fidelity(released, real) if ev.fidelity else {}


def _model_utility(name: str, released: ReleasedModel, real: Data) -> dict[str, Any]:
    """The released model's own accuracy on `real`'s `test_mask` nodes, one entry per inference mode (one trained
    model: std 0)."""
    return {f"{name}/{mode}": {"test_acc_mean": acc, "test_acc_std": 0.0, "per_seed": [acc]}
            for mode, acc in released.evaluate(real).items()}


def run_pipeline(config: PipelineConfig, out_dir: str | Path | None = None, data_root: str | Path | None = None,
                 device: str = "cpu", progress: bool = True) -> RunResult:
    """Run a validated pipeline and write its run directory (config.yaml, privacy.json, synthetic/,
    metrics.json, report.md, plots/). Nothing is written unless the whole run succeeds."""
    t_start = time.perf_counter()
    out = Path(out_dir) if out_dir else default_run_dir(config.name)
    ensure_free(out)
    dev = resolve_device(device)
    graph = load_dataset(config.dataset, config.dataset_params, resolve_data_root(data_root))
    _check_delta(config, graph)
    mechanism = MECHANISMS.get(config.method.name)()
    mechanism.check(config.privacy, graph, config.method_params)
    target = _evaluation_target(config, graph)
    t_loaded = time.perf_counter()

    privacy = config.privacy
    ledger = PrivacyLedger(delta=privacy.delta, unit=privacy.unit, accountant=privacy.accountant) \
        if privacy.private else None
    context = ReleaseContext(privacy=privacy, ledger=ledger, stage_targets=_stage_targets(config, mechanism),
                             generator=_seed_everything(config.seed), device=dev, progress=progress)
    released = mechanism.release(graph, config.method_params, context)
    t_released = time.perf_counter()
    if isinstance(released, ReleasedModel):
        utility, fidelity = _model_utility(mechanism.name, released, target), {}
    else:
        _check_release(released, graph)
        utility, fidelity = _graph_utility(config, released, target, graph.num_classes, dev, progress)
    t_evaluated = time.perf_counter()

    privacy_record = _privacy_record(config, ledger, mechanism)
    metrics: dict[str, Any] = {"utility": utility, "evaluated_on": config.evaluate.score_on, "fidelity": fidelity,
                               "timing_s": {"load": t_loaded - t_start, "mechanism": t_released - t_loaded,
                                            "evaluate": t_evaluated - t_released}}
    plots = ["plots/utility.png"]
    with atomic_directory(out) as tmp:
        (tmp / "plots").mkdir()
        if isinstance(released, ReleasedModel):
            torch.save(released.module.state_dict(), tmp / "model.pt")
        else:
            save_graph(released, tmp / "synthetic")
            plot_degree_distributions(released, graph.data, tmp / "plots" / "degree.png")
            plots.insert(0, "plots/degree.png")
        plot_utility(utility, tmp / "plots" / "utility.png", nodes=config.evaluate.score_on)
        metrics["timing_s"]["total"] = time.perf_counter() - t_start
        resolved = config.to_dict()
        (tmp / "config.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
        (tmp / "privacy.json").write_text(json.dumps(privacy_record, indent=2) + "\n")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        (tmp / "report.md").write_text(render_report(resolved, graph.describe(), privacy_record, metrics, plots))
    return RunResult(out_dir=out, privacy=privacy_record, metrics=metrics)
