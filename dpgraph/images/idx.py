"""Read IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed (a name ending in ``.gz``).

An IDX file is a big-endian header, the magic number ``0x000008D`` (data type 0x08 = unsigned byte, D dimensions)
followed by D uint32 sizes, then the prod(sizes) data bytes in C order. Read by hand with :func:`numpy.frombuffer`:
torchvision, which has a reader, is not a dependency of dpgraph and may not be installed.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from dpgraph.errors import DPGraphError

IMAGES_MAGIC = 0x00000803  # uint8 images [n, rows, cols]
LABELS_MAGIC = 0x00000801  # uint8 labels [n]
_KIND = {IMAGES_MAGIC: "an IDX image file", LABELS_MAGIC: "an IDX label file"}


def _read_bytes(path: Path) -> bytes:
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as stream:
                return stream.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DPGraphError(f"{path} not found: put the file there (or re-download it)") from None
    except (OSError, EOFError, zlib.error) as err:
        raise DPGraphError(f"cannot read {path} ({type(err).__name__}: {str(err)[:80]}): the file is damaged or "
                           f"truncated; re-download it") from None


def read_idx(path: Path, magic: int) -> np.ndarray:
    """The uint8 array stored in the IDX file ``path``, whose magic number must be ``magic`` (one of
    :data:`IMAGES_MAGIC`, :data:`LABELS_MAGIC`); its shape is the header's sizes."""
    raw = _read_bytes(path)
    header = 4 * (1 + (magic & 0xFF))  # the magic number, then one uint32 size per dimension
    found = int.from_bytes(raw[:4], "big")
    if len(raw) >= 4 and found != magic:
        raise DPGraphError(f"{path} is not {_KIND[magic]}: its magic number is 0x{found:08x}, not 0x{magic:08x}; "
                           f"re-download it, or check that images and labels files are not swapped")
    if len(raw) < header:
        raise DPGraphError(f"{path} is truncated: {len(raw)} bytes, shorter than the {header}-byte header of "
                           f"{_KIND[magic]}; re-download it")
    shape = np.frombuffer(raw, dtype=">u4", count=header // 4)[1:].tolist()
    expected, data = math.prod(shape), len(raw) - header
    if data != expected:
        problem = "is truncated" if data < expected else "has trailing bytes"
        raise DPGraphError(f"{path} {problem}: its header declares {'x'.join(map(str, shape))} = {expected} data "
                           f"bytes, but it holds {data}; re-download it")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
