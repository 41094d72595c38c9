"""Data root resolution: --data-root, else $DPGRAPH_DATA, else ./datasets."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "DPGRAPH_DATA"
DEFAULT_ROOT = Path("datasets")


def resolve_data_root(explicit: str | os.PathLike | None = None) -> Path:
    """The directory under which datasets live (`<root>/<Name>/raw/...` for Planetoid)."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return DEFAULT_ROOT
