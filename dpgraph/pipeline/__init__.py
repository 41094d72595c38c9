"""Pipeline orchestration: config -> data -> mechanism -> evaluators -> run directory.

Exports are imported lazily, so that a config error is reported before torch loads.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "PipelineConfig": "dpgraph.pipeline.config",
    "load_config": "dpgraph.pipeline.config",
    "parse_config": "dpgraph.pipeline.config",
    "RunResult": "dpgraph.pipeline.run",
    "run_pipeline": "dpgraph.pipeline.run",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'dpgraph.pipeline' has no attribute {name!r}")
