"""Planetoid citation graphs (Cora, CiteSeer, PubMed) through `torch_geometric.datasets.Planetoid`."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from pathlib import Path

from torch_geometric.data import Data
from torch_geometric.datasets import Planetoid

from dpgraph.errors import DPGraphError

PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
RAW_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
# what PyG raises on truncated or damaged raw files (scipy/numpy shape errors surface as ValueError/IndexError)
_DAMAGED_FILE_ERRORS = (pickle.UnpicklingError, EOFError, ValueError, IndexError, UnicodeDecodeError)


def raw_files(name: str) -> list[str]:
    """The eight files PyG's Planetoid reads from `<root>/<Name>/raw/`."""
    return [f"ind.{name}.{suffix}" for suffix in RAW_SUFFIXES]


def raw_files_present(root: Path, name: str) -> bool:
    raw = root / PLANETOID_NAMES[name] / "raw"
    return all((raw / f).is_file() for f in raw_files(name))


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dpgraph" / "planetoid"


def _staged_root(root: Path, name: str) -> Path:
    """PyG writes `processed/` beside `raw/`; to never write into a data folder (it may be shared or read-only),
    the raw files are copied into a per-root cache folder and processed there."""
    folder = root / PLANETOID_NAMES[name]
    staged = _cache_root() / hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:12]
    raw = staged / PLANETOID_NAMES[name] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f in raw_files(name):
        src, dst = folder / "raw" / f, raw / f
        if not dst.exists() or dst.stat().st_size != src.stat().st_size:
            shutil.copyfile(src, dst)
    return staged


def _download(root: Path, name: str) -> Data:
    folder = root / PLANETOID_NAMES[name]
    existed = folder.exists()
    try:
        return Planetoid(str(root), PLANETOID_NAMES[name])[0]
    except OSError as err:
        if not existed:
            shutil.rmtree(folder, ignore_errors=True)
        files = "{" + ",".join(RAW_SUFFIXES) + "}"
        raise DPGraphError(
            f"{PLANETOID_NAMES[name]} not found under {folder / 'raw'} and the download failed ({type(err).__name__}): "
            f"put the files ind.{name}.{files} there, or point --data-root / $DPGRAPH_DATA at a folder holding "
            f"{PLANETOID_NAMES[name]}/raw/"
        ) from None


def load_planetoid(name: str, root: Path) -> Data:
    """Load with PyG's public split masks (Cora: 140 train / 500 val / 1000 test)."""
    if not raw_files_present(root, name):
        return _download(root, name)
    try:
        return Planetoid(str(_staged_root(root, name)), PLANETOID_NAMES[name])[0]
    except _DAMAGED_FILE_ERRORS as err:
        raise DPGraphError(
            f"could not read {PLANETOID_NAMES[name]} from {root / PLANETOID_NAMES[name] / 'raw'} "
            f"({type(err).__name__}: {str(err)[:80]}): the files look corrupt, replace them with the original "
            f"ind.{name}.* files"
        ) from None
