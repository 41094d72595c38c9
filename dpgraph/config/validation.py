"""Strict pydantic validation whose failures become one-line `DPGraphError`s naming the key and the fix."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from dpgraph.errors import DPGraphError

ModelT = TypeVar("ModelT", bound=BaseModel)

# A YAML list is accepted for a tuple field (its items stay strict), a string for a path (`~` is expanded).
FloatTriple = Annotated[tuple[float, float, float], Field(strict=False)]
PathValue = Annotated[Path, Field(strict=False), AfterValidator(Path.expanduser)]
# A seed every generator accepts (numpy's legacy seeding takes 0 .. 2**32 - 1).
Seed = Annotated[int, Field(ge=0, lt=2**32)]


class StrictModel(BaseModel):
    """Base for every config section: unknown keys are errors, and values are never coerced (no `"4"` or `true`
    for a number, no `5.0` for an integer); numbers must be finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _dotted(prefix: str, loc: tuple[Any, ...]) -> str:
    parts = [prefix] if prefix else []
    parts += [str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
    return ".".join(parts) or "<top level>"


def _field_loc(errors: list[dict[str, Any]]) -> tuple[Any, ...]:
    """The location of the first error, cut to what all errors at its field share (a union such as
    `int | list[int]` reports one error per member, located at `field.int`, `field.list[int]`)."""
    first = errors[0]["loc"]
    same = [e["loc"] for e in errors if e["loc"][:1] == first[:1]]
    common = 0
    while all(len(loc) > common and loc[common] == first[common] for loc in same):
        common += 1
    return first[:common]


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
        errors = err.errors()
        first, loc = errors[0], _field_loc(errors)
        key = _dotted(prefix, loc)
        if first["type"] == "extra_forbidden":
            valid = ", ".join(sorted(model.model_fields))
            raise DPGraphError(f"unknown key '{key}': remove it (valid keys here: {valid})") from None
        if first["type"] == "missing":
            field = model.model_fields.get(str(first["loc"][0])) if len(first["loc"]) == 1 else None
            about = f" ({field.description})" if field is not None and field.description else ""
            raise DPGraphError(f"missing key '{key}'{about}: add it to the pipeline file") from None
        msg = first["msg"].removeprefix("Value error, ")
        if not loc:  # a rule across several keys of the section
            raise DPGraphError(f"invalid '{key}' section: {msg}; fix it in the pipeline file") from None
        given = first.get("input")
        shown = "" if isinstance(given, Mapping) else f" (got {given!r})"
        if isinstance(given, bool) and first["type"] == "string_type":
            msg += " (YAML reads yes/no/on/off as booleans: quote the value)"
        setting = _dotted(prefix, tuple(p for p in loc if not isinstance(p, int)))
        raise DPGraphError(f"invalid value for '{key}'{shown}: {msg}; fix it in the pipeline file "
                           f"or with --set {setting}=...") from None
