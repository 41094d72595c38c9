"""Strict pydantic validation whose failures become one-line `DPGraphError`s naming the key and the fix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from dpgraph.errors import DPGraphError

ModelT = TypeVar("ModelT", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for every config section: unknown keys are errors, values are not silently coerced from strings."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _dotted(prefix: str, loc: tuple[Any, ...]) -> str:
    parts = [prefix] if prefix else []
    parts += [str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
    return ".".join(parts) or "<top level>"


def validate_section(model: type[ModelT], raw: Any, prefix: str) -> ModelT:
    """Validate `raw` against `model`; raise a one-line DPGraphError for the first problem found."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        where = prefix or "the pipeline file"
        raise DPGraphError(f"'{where}' must be a mapping of keys to values, got {type(raw).__name__}")
    try:
        return model.model_validate(dict(raw))
    except ValidationError as err:
        first = err.errors()[0]
        key = _dotted(prefix, first["loc"])
        if first["type"] == "extra_forbidden":
            valid = ", ".join(sorted(model.model_fields))
            raise DPGraphError(f"unknown key '{key}': remove it (valid keys here: {valid})") from None
        if first["type"] == "missing":
            raise DPGraphError(f"missing key '{key}': add it to the pipeline file") from None
        given = first.get("input")
        shown = "" if isinstance(given, Mapping) else f" (got {given!r})"
        msg = first["msg"].removeprefix("Value error, ")
        raise DPGraphError(f"invalid value for '{key}'{shown}: {msg}; fix it in the pipeline file "
                           f"or with --set {key}=...") from None
