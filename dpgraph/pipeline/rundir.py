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


_TMP_SUFFIX = 10  # what `atomic_directory`'s temporary sibling adds to the name: a dot before, "." + 8 after


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not os.path.lexists(path):
        path = path.parent
    return path


def _writable(folder: Path) -> bool:
    """Whether a directory may be created in `folder`: its mode grants write to someone, this process may write
    there, and a probe directory can be made (and is removed at once), since neither check can tell for root,
    read-only mounts or pseudo-filesystems such as /proc."""
    if not folder.stat().st_mode & 0o222 or not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".dpgraph-probe-", dir=folder))
    except OSError:
        return False
    return True


def ensure_free(out: Path) -> None:
    """Fail before any work unless the run directory can be created: it must not exist, its nearest existing
    ancestor must be a writable directory, and every name to create must fit the file system. Leaves nothing behind."""
    if os.path.lexists(out):
        raise DPGraphError(f"output directory {out} already exists: pass another --out or remove it")
    ancestor = _nearest_existing(out)
    if not ancestor.is_dir():
        raise DPGraphError(f"cannot create the output directory {out}: {ancestor} is not a directory; pass another "
                           f"--out")
    limit = os.pathconf(ancestor, "PC_NAME_MAX")
    if any(len(part.encode()) + _TMP_SUFFIX > limit for part in out.absolute().relative_to(ancestor).parts):
        raise DPGraphError(f"cannot create the output directory {out}: a name in it is longer than "
                           f"{limit - _TMP_SUFFIX} bytes; pass a shorter --out (or a shorter pipeline name)")
    if not _writable(ancestor):
        raise DPGraphError(f"cannot create the output directory {out}: {ancestor} is not writable; pass another --out")


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

