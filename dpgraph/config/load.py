"""Read a pipeline YAML file, apply `--set` overrides, validate every section before any work starts."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from dpgraph.config.sections import DatasetSection, EvaluateSection, MethodSection, PrivacySection, TopLevel
from dpgraph.config.validation import validate_section
from dpgraph.errors import DPGraphError


@dataclass(frozen=True)
class PipelineConfig:
    """A fully validated pipeline; `dataset_params` / `method_params` are the named implementation's schema."""

    name: str
    seed: int
    dataset: DatasetSection
    dataset_params: BaseModel
    privacy: PrivacySection
    method: MethodSection
    method_params: BaseModel
    evaluate: EvaluateSection

    def to_dict(self) -> dict[str, Any]:
        """The resolved config: every default filled in, overrides applied (written as config.yaml)."""
        dataset = self.dataset.model_dump(mode="json", exclude=set(self.dataset.params))
        return {
            "name": self.name,
            "seed": self.seed,
            "dataset": {**dataset, **self.dataset_params.model_dump(mode="json")},
            "privacy": self.privacy.model_dump(mode="json"),
            "method": {"name": self.method.name, **self.method_params.model_dump(mode="json")},
            "evaluate": self.evaluate.model_dump(mode="json"),
        }


def read_pipeline_file(path: str | Path) -> dict[str, Any]:
    """Parse YAML; a missing file, bad syntax or a non-mapping top level is a one-line error."""
    path = Path(path)
    if not path.is_file():
        raise DPGraphError(f"pipeline file {path} does not exist: check the path (examples live in pipelines/)")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "syntax error"
        raise DPGraphError(f"malformed YAML in {path}{where}: {problem}; fix the syntax") from None
    if not isinstance(raw, dict):
        raise DPGraphError(f"{path} must be a YAML mapping with keys name, seed, dataset, privacy, method, evaluate")
    return raw


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply `key.path=value` overrides; values are parsed as YAML scalars/lists (`null`, `2`, `[gcn]`)."""
    out = copy.deepcopy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise DPGraphError(f"--set '{item}' is not of the form key.path=value (e.g. --set privacy.epsilon=2)")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        node = out
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise DPGraphError(f"--set {key}: '{'.'.join(parts[:i + 1])}' is not a section, so it has no sub-keys")
            node = child
        node[parts[-1]] = value
    return out


def parse_config(raw: dict[str, Any]) -> PipelineConfig:
    """Validate all sections and the named dataset's and method's own parameters."""
    from dpgraph.data.registry import DATASETS
    from dpgraph.evaluation.models import MODEL_NAMES
    from dpgraph.mechanisms import MECHANISMS

    top = validate_section(TopLevel, raw, "")
    dataset = validate_section(DatasetSection, top.dataset, "dataset")
    dataset_params = validate_section(DATASETS.get(dataset.name).params, dataset.params, "dataset")
    privacy = validate_section(PrivacySection, top.privacy, "privacy")
    method = validate_section(MethodSection, top.method, "method")
    method_params = validate_section(MECHANISMS.get(method.name).Params, method.params, "method")
    evaluate = validate_section(EvaluateSection, top.evaluate, "evaluate")
    unknown = [m for m in evaluate.models if m not in MODEL_NAMES]
    if unknown:
        raise DPGraphError(f"unknown model(s) {unknown} in 'evaluate.models': use any of {', '.join(MODEL_NAMES)}")
    return PipelineConfig(name=top.name, seed=top.seed, dataset=dataset, dataset_params=dataset_params,
                          privacy=privacy, method=method, method_params=method_params, evaluate=evaluate)


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> PipelineConfig:
    """Read, override and validate a pipeline file."""
    return parse_config(apply_overrides(read_pipeline_file(path), overrides))
