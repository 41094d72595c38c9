"""The run directory: written in a temporary sibling folder, then renamed into place (all or nothing)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from dpgraph.errors import DPGraphError


def default_run_dir(name: str, base: Path = Path("runs")) -> Path:
    """runs/<name>-<YYYYmmdd-HHMMSS>, with a numeric suffix if that already exists."""
    stem = f"{name}-{datetime.now():%Y%m%d-%H%M%S}"
    candidate, i = base / stem, 1
    while candidate.exists():
        candidate, i = base / f"{stem}-{i}", i + 1
    return candidate


def ensure_free(out: Path) -> None:
    """Fail before any work if the run directory already exists."""
    if out.exists():
        raise DPGraphError(f"output directory {out} already exists: pass another --out or remove it")


@contextmanager
def atomic_directory(out: Path) -> Iterator[Path]:
    """Yield a temporary folder to fill; on success it becomes `out`, on any error it is removed."""
    ensure_free(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

