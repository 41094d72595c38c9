"""dpgraph: turn a sensitive attributed graph into a synthetic graph with a formal differential-privacy guarantee.

Public API (imported lazily, so `dpgraph --help` stays fast): `load_config`, `run_pipeline`, `RunResult`,
`PrivacyLedger`, `compute_epsilon`, `noise_multiplier_for`.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_config": "dpgraph.pipeline.config",
    "run_pipeline": "dpgraph.pipeline",
    "RunResult": "dpgraph.pipeline",
    "PrivacyLedger": "dpgraph.privacy",
    "compute_epsilon": "dpgraph.privacy",
    "noise_multiplier_for": "dpgraph.privacy",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'dpgraph' has no attribute {name!r}")
