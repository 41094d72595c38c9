"""The fixed sections of a pipeline file: dataset (common part), privacy, method (name), evaluate."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from dpgraph.config.validation import FloatTriple, Seed, StrictModel


class NamedSection(StrictModel):
    """A section with a `name` that selects a registered implementation; the other keys are that
    implementation's parameters, validated by its own schema (see `dpgraph.pipeline.config`)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str

    @property
    def params(self) -> dict:
        return dict(self.model_extra or {})


class DatasetSection(NamedSection):
    """Which graph to load and which public split to use.

    `split: public` uses the split shipped with the data (Planetoid's 140/500/1000 on Cora);
    `split: random` draws a data-independent uniform permutation with `split_seed` (never stratified by label,
    so the split reveals nothing about the labels) and cuts it by `split_fractions` (train, val, test).
    """

    split: Literal["public", "random"] = "public"
    split_fractions: FloatTriple = (0.75, 0.10, 0.15)
    split_seed: Seed = 0

    @field_validator("split_fractions")
    @classmethod
    def _fractions(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(f < 0 for f in value) or abs(sum(value) - 1.0) > 1e-6 or value[0] == 0 or value[2] == 0:
            raise ValueError("train, val, test fractions must be >= 0, sum to 1, with train and test > 0")
        return value

    @model_validator(mode="after")
    def _random_only(self) -> DatasetSection:
        unused = sorted({"split_fractions", "split_seed"} & self.model_fields_set)
        if self.split == "public" and unused:
            raise ValueError(f"{' and '.join(unused)} only apply to split: random (the public split is shipped with "
                             f"the data); remove them or set dataset.split: random")
        return self


class PrivacySection(StrictModel):
    """The privacy target. `epsilon: null` runs a non-private reference (recorded as such).

    `randomness` is where noise, batch selection and sampler keys come from (`dpgraph.privacy.randomness`):
    `secret` (fresh OS entropy, the default of private runs), `secure` (OS CSPRNG draws, guarded Gaussian sampler)
    or `reproducible` (seeded from `seed`: an experiment, not a release; the default of non-private runs)."""

    epsilon: float | None = Field(gt=0)
    delta: float = Field(default=1e-5, gt=0, lt=1)
    unit: Literal["node", "edge", "attributes", "example"] = "node"
    accountant: Literal["auto", "analytic-gaussian", "pld", "prv", "rdp"] = "auto"
    split: dict[str, float] | None = None
    randomness: Literal["secret", "secure", "reproducible"]

    @model_validator(mode="before")
    @classmethod
    def _default_randomness(cls, data: object) -> object:
        if isinstance(data, dict) and "randomness" not in data:
            private = data.get("epsilon") is not None
            return {**data, "randomness": "secret" if private else "reproducible"}
        return data

    @property
    def private(self) -> bool:
        return self.epsilon is not None


class MethodSection(NamedSection):
    """The mechanism that produces the released graph; its parameters sit beside `name`."""


class EvaluateSection(StrictModel):
    """Downstream evaluation: models trained on the released graph, tested on the real graph's `on` nodes.

    `evaluators` names the registered evaluators to run (default: every one that accepts the method's release, e.g.
    `[utility, fidelity]` for a graph); `models`, `seeds` and the training settings are those of the utility
    evaluators. `models` and `epochs` left unset take the chosen evaluators' defaults (graph `utility`: gcn, mlp and
    200 epochs; `image-utility`: its classifiers and epochs).

    `score_on: val` scores on the validation nodes instead of the test nodes: the way to choose hyper-parameters without
    looking at test labels (`--set evaluate.score_on=val`). `infer_on: released` makes the trained graph models predict
    over the released edges instead of the real ones (for releases that keep the real nodes, such as edge-level
    synthetic edges: then the score measures what the synthetic structure itself carries)."""

    models: list[str] | None = Field(default=None, min_length=1)
    seeds: int | list[Seed] = 5
    epochs: int | None = Field(default=None, gt=0)
    lr: float = Field(default=0.01, gt=0)
    weight_decay: float = Field(default=5e-4, ge=0)
    hidden: int = Field(default=64, gt=0)
    dropout: float = Field(default=0.5, ge=0, lt=1)
    normalize_features: bool = True
    val_fraction: float = Field(default=0.0, ge=0, lt=1)
    evaluators: list[str] | None = Field(default=None, min_length=1)
    score_on: Literal["test", "val"] = "test"
    infer_on: Literal["real", "released"] = "real"

    @model_validator(mode="after")
    def _seeds(self) -> EvaluateSection:
        if isinstance(self.seeds, int) and self.seeds < 1:
            raise ValueError("evaluate.seeds must be a positive count or a non-empty list of seeds")
        if isinstance(self.seeds, list) and not self.seeds:
            raise ValueError("evaluate.seeds must be a positive count or a non-empty list of seeds")
        return self

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)


class TopLevel(StrictModel):
    """The top level of a pipeline file, before the named sections are resolved."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    modality: Literal["graph", "image"] = "graph"
    seed: Seed = 0
    dataset: dict
    privacy: dict
    method: dict
    evaluate: dict | None = None
