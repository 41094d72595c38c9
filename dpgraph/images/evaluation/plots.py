"""Image grids as PNG, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

PER_ROW = 10


def _grid_rows(images: Tensor, labels: Tensor | None, num_classes: int) -> list[tuple[str, Tensor]]:
    """(row title, up to ``PER_ROW`` images): the first images of each class in order, or without labels the first
    ``num_classes * PER_ROW`` images cut into rows."""
    if labels is None:
        chunks = images[:num_classes * PER_ROW].split(PER_ROW)
        return [("", chunk) for chunk in chunks]
    return [(f"class {c}", images[labels == c][:PER_ROW]) for c in range(num_classes)]


def _mosaic(rows: list[tuple[str, Tensor]], image_shape: tuple[int, int, int]) -> np.ndarray:
    """The rows' images tiled on a 1-pixel white grid, [rows * (H + 1) + 1, PER_ROW * (W + 1) + 1, C]; an empty slot
    (a class with fewer than ``PER_ROW`` images) stays white."""
    channels, height, width = image_shape
    mosaic = np.ones((len(rows) * (height + 1) + 1, PER_ROW * (width + 1) + 1, channels))
    for r, (_, row) in enumerate(rows):
        for c, image in enumerate(row):
            top, left = 1 + r * (height + 1), 1 + c * (width + 1)
            mosaic[top:top + height, left:left + width] = image.permute(1, 2, 0).double().numpy()
    return mosaic


def plot_image_grid(images: Tensor, labels: Tensor | None, num_classes: int, title: str, path: Path) -> None:
    """Save a PNG at ``path``: one row per class of up to ``PER_ROW`` of ``images`` [M, C, H, W] in [0, 1] (labels
    [M], or None: unlabelled rows), titled ``title``."""
    rows = _grid_rows(images.detach().cpu(), None if labels is None else labels.cpu(), num_classes)
    shape = tuple(images.shape[1:])
    mosaic = _mosaic(rows, shape)  # type: ignore[arg-type]
    fig = Figure(figsize=(0.6 * PER_ROW + 1.2, 0.6 * max(len(rows), 1) + 0.8), layout="constrained")
    ax = fig.subplots()
    ax.imshow(mosaic[..., 0] if shape[0] == 1 else mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    height = shape[1] + 1
    ax.set_yticks([1 + r * height + shape[1] / 2 for r in range(len(rows))], [name for name, _ in rows])
    ax.set_xticks([])
    ax.tick_params(length=0)
    ax.set_title(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig).print_png(path)
