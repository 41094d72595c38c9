"""Refuse, from its parameters and before allocating, a request that would exhaust memory."""

from __future__ import annotations

import os
from pathlib import Path

from dpgraph.errors import DPGraphError

ENV_VAR = "DPGRAPH_MEMORY_LIMIT_GB"
DEFAULT_FRACTION = 0.5  # of the memory available to this process (physical RAM, or the cgroup's limit if lower)
_CGROUP_LIMIT = Path("/sys/fs/cgroup/memory.max")


def _available_bytes() -> int:
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        text = _CGROUP_LIMIT.read_text().strip()
    except OSError:
        return physical
    return min(physical, int(text)) if text.isdigit() else physical


def memory_limit() -> tuple[int, str]:
    """The limit in bytes and where it comes from: `$DPGRAPH_MEMORY_LIMIT_GB` if set, else half the memory."""
    text = os.environ.get(ENV_VAR)
    if text is None:
        return int(DEFAULT_FRACTION * _available_bytes()), f"half the machine's memory; set {ENV_VAR} to change it"
    try:
        gigabytes = float(text)
    except ValueError:
        gigabytes = float("nan")
    if not 0 < gigabytes < float("inf"):
        raise DPGraphError(f"{ENV_VAR}={text!r} is not a positive number of gigabytes: set it to e.g. 16, or unset it")
    return int(gigabytes * 2**30), f"{ENV_VAR}={text}"


def check_memory(nbytes: float, what: str, fix: str) -> None:
    """Raise a one-line DPGraphError when `what` would need about `nbytes` bytes, more than :func:`memory_limit`.

    `nbytes` must be estimated from public parameters (sizes, counts), never from private values; `fix` says how to
    ask for less (e.g. "lower dataset.num_nodes")."""
    limit, source = memory_limit()
    if nbytes > limit:
        raise DPGraphError(f"{what} needs about {nbytes / 2**30:.3g} GiB of memory, over the limit of "
                           f"{limit / 2**30:.3g} GiB ({source}): {fix}")
