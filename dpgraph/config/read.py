"""Read a pipeline YAML file (strict YAML 1.2 numbers, no duplicate keys) and apply `--set` overrides."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from dpgraph.errors import DPGraphError

_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


class PipelineLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 numbers (`1e-5` is a float, `010` is ten, `1:30` is a string) and
    duplicate keys as errors (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                if key in first_line:
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           f"duplicate key '{key}' (first at line {first_line[key] + 1})",
                                           key_node.start_mark)
                first_line[key] = key_node.start_mark.line
            except TypeError:  # an unhashable key: the base constructor reports it
                continue
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text, 10)


PipelineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PipelineLoader.add_implicit_resolver(_INT_TAG, _INT, list("-+0123456789"))  # before floats: `12` is an int
PipelineLoader.add_implicit_resolver(_FLOAT_TAG, _FLOAT, list("-+0123456789."))
PipelineLoader.add_constructor(_INT_TAG, PipelineLoader.construct_yaml_int)


def parse_yaml(text: str) -> Any:
    """Parse YAML text with :class:`PipelineLoader` (raises `yaml.YAMLError`)."""
    return yaml.load(text, Loader=PipelineLoader)  # a SafeLoader subclass: no arbitrary objects


def read_pipeline_file(path: str | Path) -> dict[str, Any]:
    """Parse YAML; a missing or non-UTF-8 file, bad syntax, a duplicate key or a non-mapping top level is a
    one-line error."""
    path = Path(path)
    if not path.is_file():
        raise DPGraphError(f"pipeline file {path} does not exist: check the path (examples live in pipelines/)")
    try:
        raw = parse_yaml(path.read_bytes().decode("utf-8"))
    except OSError as err:
        raise DPGraphError(f"cannot read the pipeline file {path} ({err.strerror}): check its permissions") from None
    except UnicodeDecodeError as err:
        raise DPGraphError(f"{path} is not UTF-8 text (bad byte at offset {err.start}): save it as UTF-8") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "syntax error"
        raise DPGraphError(f"malformed YAML in {path}{where}: {problem}; fix the syntax") from None
    if not isinstance(raw, dict):
        raise DPGraphError(f"{path} must be a YAML mapping with keys name, seed, dataset, privacy, method, evaluate")
    return raw


def _override_value(item: str, text: str) -> Any:
    """An override's value as YAML; text that is not YAML stays a string, an empty value is an error (it would
    read as null, which for `privacy.epsilon` means a non-private run)."""
    if not text.strip():
        raise DPGraphError(f"--set '{item}' has no value: write the value after '=' (write null for a null value)")
    try:
        return parse_yaml(text)
    except ConstructorError as err:
        raise DPGraphError(f"--set '{item}': {err.problem}; fix the value") from None
    except yaml.YAMLError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Apply `key.path=value` overrides; values are parsed as YAML scalars/lists (`null`, `2`, `[gcn]`, `1e-5`)."""
    out = copy.deepcopy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        parts = key.split(".")
        if not sep or not all(parts):
            raise DPGraphError(f"--set '{item}' is not of the form key.path=value (e.g. --set privacy.epsilon=2)")
        value = _override_value(item, text)
        node = out
        for i, part in enumerate(parts[:-1]):
            if node.get(part) is None:  # absent, or an empty section (`privacy:` with nothing under it)
                node[part] = {}
            child = node[part]
            if not isinstance(child, dict):
                raise DPGraphError(f"--set {key}: '{'.'.join(parts[:i + 1])}' is not a section, so it has no sub-keys")
            node = child
        node[parts[-1]] = value
    return out
