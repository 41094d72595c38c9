"""--device cpu|cuda|auto."""

from __future__ import annotations

import torch

from dpgraph.errors import DPGraphError


def resolve_device(choice: str) -> torch.device:
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise DPGraphError("--device cuda was requested but no CUDA GPU is visible: use --device cpu or auto")
    if choice not in ("cpu", "cuda"):
        raise DPGraphError(f"unknown device '{choice}': use cpu, cuda or auto")
    return torch.device(choice)
