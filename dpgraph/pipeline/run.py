"""`run_pipeline(config) -> RunResult`: load -> mechanism -> evaluate -> run directory."""

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
from dpgraph.privacy.randomness import randomness_for

RELEASE = "release"
NOT_A_RELEASE = ("reproducible noise (privacy.randomness: reproducible): anyone who knows the seed regenerates the "
                 "noise, so this run is an experiment, NOT A RELEASE")


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


def _seed_public(seed: int) -> torch.Generator:
    """Seed every library's global generator and return the run's public generator (nothing secret uses them)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def delta_suggestion(num_nodes: int) -> float:
    """The largest power of ten at most 1/(10 n): a delta that is always < 1/n."""
    return 10.0 ** math.floor(math.log10(1.0 / (10 * num_nodes)))


def _check_delta(config: PipelineConfig, graph: GraphDataset) -> None:
    privacy = config.privacy
    if privacy.private and privacy.delta >= 1.0 / graph.num_nodes:
        raise DPGraphError(f"privacy.delta={privacy.delta:g} must be < 1/n = {1.0 / graph.num_nodes:.3g} for "
                           f"{graph.name} (n={graph.num_nodes}): lower it, e.g. "
                           f"--set privacy.delta={delta_suggestion(graph.num_nodes):g}")


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
    """privacy.json: the ledger, the target, where the noise came from, and whether the run may be published as a
    DP release (private and its noise not reproducible from the seed)."""
    randomness = config.privacy.randomness
    if ledger is None:
        return {"private": False, "release": False, "epsilon": None, "delta": None, "unit": config.privacy.unit,
                "method": mechanism.name, "randomness": randomness, "events": []}
    record = {**ledger.to_dict(), "target_epsilon": config.privacy.epsilon, "method": mechanism.name,
              "randomness": randomness, "release": randomness != "reproducible"}
    if not record["release"]:
        record["warning"] = NOT_A_RELEASE
    return record


def release_config(config: dict[str, Any]) -> dict[str, Any]:
    """The resolved config as published in ``release/``: without the seed when the seed regenerates the noise."""
    if config["privacy"]["randomness"] == "reproducible":
        return {key: value for key, value in config.items() if key != "seed"}
    return config


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
    target = _evaluation_target(config, graph)
    t_loaded = time.perf_counter()

    privacy = config.privacy
    ledger = PrivacyLedger(delta=privacy.delta, unit=privacy.unit, accountant=privacy.accountant) \
        if privacy.private else None
    context = ReleaseContext(privacy=privacy, ledger=ledger, stage_targets=_stage_targets(config, mechanism),
                             public=_seed_public(config.seed), secret=randomness_for(privacy.randomness, config.seed),
                             device=dev, progress=progress)
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
        release = tmp / RELEASE
        release.mkdir()
        (tmp / "plots").mkdir()
        if isinstance(released, ReleasedModel):
            torch.save(released.module.state_dict(), release / "model.pt")
        else:
            save_graph(released, release / "synthetic")
            plot_degree_distributions(released, graph.data, tmp / "plots" / "degree.png")
            plots.insert(0, "plots/degree.png")
        plot_utility(utility, tmp / "plots" / "utility.png", nodes=config.evaluate.score_on)
        metrics["timing_s"]["total"] = time.perf_counter() - t_start
        resolved = config.to_dict()
        (release / "config.yaml").write_text(yaml.safe_dump(release_config(resolved), sort_keys=False))
        (release / "privacy.json").write_text(json.dumps(privacy_record, indent=2) + "\n")
        (tmp / "config.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        (tmp / "report.md").write_text(render_report(resolved, graph.describe(), privacy_record, metrics, plots))
    return RunResult(out_dir=out, privacy=privacy_record, metrics=metrics)
