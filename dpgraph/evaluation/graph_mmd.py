"""GraphRNN's MMD (You et al. 2018) between degree and clustering-coefficient distributions, with its Gaussian EMD
kernel (analyst-side evaluation: NOT private, never part of a release).

A graph is summarised by a histogram: node counts per degree 0, 1, ..., max (networkx's `degree_histogram`), or node
counts of local clustering coefficients in 100 equal bins of [0, 1]. Each histogram is normalised to a pmf p and two
pmfs are compared with k(p, q) = exp(-W1(p, q)^2 / (2 sigma^2)), W1 the earth mover's distance with ground distance
|i - j| * bin_width between bins i and j. GraphRNN's settings: degrees sigma = 1 with bin width 1 (one degree);
clustering sigma = 0.1 with bin width 1/100.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import wasserstein_distance
from torch_geometric.data import Data

from dpgraph.evaluation.pgb import degrees_and_clustering

DEGREE_SIGMA = 1.0
CLUSTERING_SIGMA = 0.1
CLUSTERING_BINS = 100


def histogram_emd(p: np.ndarray, q: np.ndarray, bin_width: float) -> float:
    """W1 between the histograms `p` and `q` as distributions (scipy normalises each; the shorter is padded with empty
    bins), bin i at i * `bin_width`."""
    size = max(p.size, q.size)
    positions = np.arange(size) * bin_width
    return float(wasserstein_distance(positions, positions, np.pad(p, (0, size - p.size)),
                                      np.pad(q, (0, size - q.size))))


def gaussian_emd_kernel(p: np.ndarray, q: np.ndarray, sigma: float, bin_width: float) -> float:
    """GraphRNN's `gaussian_emd`: exp(-W1(p, q)^2 / (2 sigma^2))."""
    return float(np.exp(-histogram_emd(p, q, bin_width) ** 2 / (2 * sigma**2)))


def mmd_squared(samples_a: Sequence[np.ndarray], samples_b: Sequence[np.ndarray], sigma: float,
                bin_width: float) -> float:
    """GraphRNN's `compute_mmd` (biased squared MMD, diagonal terms included): mean k(a, a') + mean k(b, b') -
    2 mean k(a, b) over all pairs of the two sets of histograms (each read as a pmf), k = `gaussian_emd_kernel`. For
    one histogram per side it is 2 - 2 k(a, b)."""

    def mean_kernel(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray]) -> float:
        return float(np.mean([gaussian_emd_kernel(x, y, sigma, bin_width) for x in xs for y in ys]))

    return mean_kernel(samples_a, samples_a) + mean_kernel(samples_b, samples_b) - 2 * mean_kernel(samples_a, samples_b)


#: sigma and bin width of each histogram, GraphRNN's
_KERNELS = {"degree": (DEGREE_SIGMA, 1.0), "clustering": (CLUSTERING_SIGMA, 1.0 / CLUSTERING_BINS)}


def _histograms(data: Data) -> dict[str, np.ndarray] | None:
    """The degree and the clustering histogram of `data`; None for a graph without nodes."""
    degree, clustering = degrees_and_clustering(data)
    if degree.size == 0:
        return None
    return {"degree": np.bincount(degree),
            "clustering": np.histogram(clustering, bins=CLUSTERING_BINS, range=(0.0, 1.0))[0]}


def graph_mmd(released: Data, real: Data) -> dict[str, float | None]:
    """GraphRNN's degree and clustering MMD between two single graphs (each side a set of one graph, summarised by the
    node-level histograms of the module docstring), and the W1 behind each (in degrees; in clustering units):
    `degree_mmd`, `degree_emd`, `clustering_mmd`, `clustering_emd`; None when a graph has no nodes. NOT private
    (reads the real graph)."""
    real_hist, released_hist = _histograms(real), _histograms(released)
    metrics: dict[str, float | None] = {}
    for name, (sigma, width) in _KERNELS.items():
        if real_hist is None or released_hist is None:
            metrics[f"{name}_mmd"] = metrics[f"{name}_emd"] = None
            continue
        metrics[f"{name}_mmd"] = mmd_squared([real_hist[name]], [released_hist[name]], sigma, width)
        metrics[f"{name}_emd"] = histogram_emd(real_hist[name], released_hist[name], width)
    return metrics
