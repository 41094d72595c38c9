"""Wall-clock timing shared by the benchmark scripts (imported as a sibling module when a script runs)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def seconds_per_call(fn: Callable[[], object], device: str, repeats: int, warmup: int = 1) -> float:
    """Mean wall time of ``repeats`` calls after ``warmup`` untimed calls, CUDA synchronised around the timing."""
    for _ in range(warmup):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats
