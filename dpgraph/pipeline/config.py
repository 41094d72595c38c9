"""`load_config`: read a pipeline file, apply `--set` overrides, validate every section and resolve the named dataset,
method and evaluators, before any work starts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dpgraph.config.read import apply_overrides, read_pipeline_file
from dpgraph.config.sections import DatasetSection, EvaluateSection, MethodSection, PrivacySection, TopLevel
from dpgraph.config.validation import validate_section
from dpgraph.errors import DPGraphError


@dataclass(frozen=True)
class PipelineConfig:
    """A fully validated pipeline; `dataset_params` / `method_params` are the named implementation's schema."""

    name: str
    modality: str
    seed: int
    dataset: DatasetSection
    dataset_params: BaseModel
    privacy: PrivacySection
    method: MethodSection
    method_params: BaseModel
    evaluate: EvaluateSection

    def to_dict(self) -> dict[str, Any]:
        """The resolved config: every default filled in, overrides applied (written as config.yaml)."""
        unused = {"split_fractions", "split_seed"} if self.dataset.split == "public" else set()
        dataset = self.dataset.model_dump(mode="json", exclude=set(self.dataset.params) | unused)
        return {
            "name": self.name,
            "modality": self.modality,
            "seed": self.seed,
            "dataset": {**dataset, **self.dataset_params.model_dump(mode="json")},
            "privacy": self.privacy.model_dump(mode="json"),
            "method": {"name": self.method.name, **self.method_params.model_dump(mode="json")},
            "evaluate": self.evaluate.model_dump(mode="json"),
        }


def parse_config(raw: dict[str, Any]) -> PipelineConfig:
    """Validate all sections and the named dataset's and method's own parameters.

    The fixed sections are validated first, before the registries (which import torch) are loaded, so that most
    mistakes are reported in a fraction of a second."""
    top = validate_section(TopLevel, raw, "")
    dataset = validate_section(DatasetSection, top.dataset, "dataset")
    privacy = validate_section(PrivacySection, top.privacy, "privacy")
    method = validate_section(MethodSection, top.method, "method")
    evaluate = validate_section(EvaluateSection, top.evaluate, "evaluate")

    from dpgraph.evaluation.evaluators import evaluators_for, resolve_settings
    from dpgraph.pipeline.catalogue import DATASETS, MECHANISMS

    spec, mechanism = DATASETS.get(dataset.name), MECHANISMS.get(method.name)
    dataset_params = validate_section(spec.params, dataset.params, "dataset")
    method_params = validate_section(mechanism.Params, method.params, "method")
    _check_compatible(top.modality, privacy, dataset.name, spec, method.name, mechanism)
    evaluate = resolve_settings(evaluate, evaluators_for(mechanism.releases, evaluate.evaluators))
    return PipelineConfig(name=top.name, modality=top.modality, seed=top.seed, dataset=dataset,
                          dataset_params=dataset_params,
                          privacy=privacy, method=method, method_params=method_params, evaluate=evaluate)


def _check_compatible(modality: str, privacy: PrivacySection, dataset: str, spec: Any, method: str,
                      mechanism: Any) -> None:
    """The dataset and the method must both be of the pipeline's modality, and both accept ``privacy.unit``."""
    for kind, name, item in (("dataset", dataset, spec), ("method", method, mechanism)):
        if item.modality != modality:
            raise DPGraphError(f"{kind} '{name}' is {item.modality} data, but the pipeline's modality is {modality}; "
                               f"pick a {modality} {kind} or set modality: {item.modality}")
    if privacy.private and privacy.unit not in spec.units:
        raise DPGraphError(f"dataset '{dataset}' has no privacy unit '{privacy.unit}' (its units: "
                           f"{', '.join(spec.units)}); set privacy.unit to one of them")


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> PipelineConfig:
    """Read, override and validate a pipeline file."""
    return parse_config(apply_overrides(read_pipeline_file(path), overrides))
