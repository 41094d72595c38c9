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
PLANETOID_CLASSES = {"cora": 7, "citeseer": 6, "pubmed": 3}  # public metadata, never counted from the labels
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


def _content_key(raw: Path, name: str) -> str:
    """A digest of the raw files' bytes: the processed cache is reused only for identical raw files."""
    digest = hashlib.sha256(name.encode())
    for f in raw_files(name):
        digest.update(hashlib.sha256((raw / f).read_bytes()).digest())
    return digest.hexdigest()[:16]


def _staged_root(root: Path, name: str) -> Path:
    """PyG writes `processed/` beside `raw/`; to never write into a data folder (it may be shared or read-only),
    the raw files are copied into a cache folder keyed by their content, and processed there."""
    folder = root / PLANETOID_NAMES[name] / "raw"
    staged = _cache_root() / _content_key(folder, name)
    raw = staged / PLANETOID_NAMES[name] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f in raw_files(name):
        if not (raw / f).is_file():
            partial = raw / f".{f}.{os.getpid()}"
            shutil.copyfile(folder / f, partial)
            os.replace(partial, raw / f)  # never a half-copied file under the final name
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
        staged = _staged_root(root, name)
    except OSError as err:
        raise DPGraphError(f"cannot copy the raw {PLANETOID_NAMES[name]} files into the cache {_cache_root()} "
                           f"({type(err).__name__} on {err.filename}): make the raw files readable, or set "
                           f"XDG_CACHE_HOME to a writable folder") from None
    try:
        return Planetoid(str(staged), PLANETOID_NAMES[name])[0]
    except _DAMAGED_FILE_ERRORS as err:
        raise DPGraphError(
            f"could not read {PLANETOID_NAMES[name]} from {root / PLANETOID_NAMES[name] / 'raw'} "
            f"({type(err).__name__}: {str(err)[:80]}): the files look corrupt, replace them with the original "
            f"ind.{name}.* files"
        ) from None
