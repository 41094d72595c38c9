"""PNG figures for an evaluation report, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

import pathlib

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch_geometric.data import Data

from dpgraph.errors import DPGraphError
from dpgraph.evaluation.graph_mmd import CLUSTERING_BINS
from dpgraph.evaluation.pgb import degrees_and_clustering
from dpgraph.graphops import simple_degrees


def _save(fig: Figure, path: pathlib.Path) -> None:
    """Write `fig` as a PNG at `path`, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig).print_png(path)


def _plot_degrees(hist_ax: Axes, ccdf_ax: Axes, degrees: np.ndarray, label: str, marker: str) -> None:
    """Add one graph's degree frequency and CCDF P(D >= k), both over degrees k >= 1 on log-log axes."""
    isolated = float(np.mean(degrees == 0)) if degrees.size else 0.0
    label = f"{label} (n={degrees.size}, isolated {isolated:.1%})"
    counts = np.bincount(degrees)
    ks = np.nonzero(counts)[0]
    ks = ks[ks > 0]
    hist_ax.loglog(ks, counts[ks] / degrees.size, marker, alpha=0.7, label=label)
    ccdf = np.cumsum(counts[::-1])[::-1] / degrees.size
    ccdf_ax.loglog(ks, ccdf[ks], marker + "-", alpha=0.7, markersize=3, label=label)


def plot_degree_distributions(released: Data, real: Data, path: pathlib.Path) -> None:
    """Save a PNG comparing real and released degree distributions (frequency and CCDF, log-log)."""
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    hist_ax, ccdf_ax = fig.subplots(1, 2)
    _plot_degrees(hist_ax, ccdf_ax, simple_degrees(real), "real", "o")
    _plot_degrees(hist_ax, ccdf_ax, simple_degrees(released), "released", "s")
    hist_ax.set(xlabel="degree k", ylabel="fraction of nodes with degree k", title="Degree distribution")
    ccdf_ax.set(xlabel="degree k", ylabel="P(degree >= k)", title="Degree CCDF")
    for ax in (hist_ax, ccdf_ax):
        ax.legend(fontsize="small")
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle("Real vs released graph: node degrees")
    _save(fig, path)


def _plot_clustering(by_degree_ax: Axes, hist_ax: Axes, data: Data, label: str, marker: str) -> None:
    """Add one graph's mean local clustering per degree k >= 2 and its histogram of local clustering coefficients."""
    degree, clustering = degrees_and_clustering(data)
    mean = f"{clustering.mean():.3f}" if clustering.size else "—"
    label = f"{label} (n={degree.size}, average clustering {mean})"
    counts = np.bincount(degree)
    ks = np.nonzero(counts)[0]
    ks = ks[ks >= 2]
    by_degree = np.bincount(degree, weights=clustering)[ks] / counts[ks]
    by_degree_ax.semilogx(ks, by_degree, marker, alpha=0.7, label=label)
    weights = np.full(degree.size, 1.0 / max(degree.size, 1))
    hist_ax.hist(clustering, bins=CLUSTERING_BINS, range=(0.0, 1.0), weights=weights, histtype="step", label=label)


def plot_clustering_by_degree(released: Data, real: Data, path: pathlib.Path) -> None:
    """Save a PNG comparing real and released local clustering: its mean over the nodes of each degree k >= 2
    (log-x), and its distribution over all nodes (the 100 bins of [0, 1] that the clustering MMD compares)."""
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    by_degree_ax, hist_ax = fig.subplots(1, 2)
    _plot_clustering(by_degree_ax, hist_ax, real, "real", "o")
    _plot_clustering(by_degree_ax, hist_ax, released, "released", "s")
    by_degree_ax.set(xlabel="degree k", ylabel="mean local clustering of degree-k nodes", title="Clustering by degree")
    by_degree_ax.set_ylim(bottom=0)
    hist_ax.set(xlabel="local clustering coefficient", ylabel="fraction of nodes", yscale="log",
                title="Local clustering distribution")
    for ax in (by_degree_ax, hist_ax):
        ax.legend(fontsize="small")
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle("Real vs released graph: local clustering")
    _save(fig, path)


def plot_utility(metrics_utility: dict[str, dict], path: pathlib.Path, nodes: str = "test") -> None:
    """Save a PNG bar chart of accuracy on the real graph's `nodes` ("test" or "val") per model (mean +/- std over
    seeds).

    `metrics_utility` is the dict returned by `evaluate_utility`. Raises DPGraphError if it is empty.
    """
    if not metrics_utility:
        raise DPGraphError("no utility results to plot")
    names = list(metrics_utility)
    means = [metrics_utility[n]["test_acc_mean"] for n in names]
    stds = [metrics_utility[n]["test_acc_std"] for n in names]
    fig = Figure(figsize=(max(4.0, 1.2 * len(names) + 2), 4), layout="constrained")
    ax = fig.subplots()
    bars = ax.bar(names, means, yerr=stds, capsize=5, color="tab:blue", alpha=0.8)
    ax.bar_label(bars, labels=[f"{m:.3f}" for m in means], padding=3)
    ax.set(
        ylim=(0, 1.05),
        xlabel="model (trained on released graph)",
        ylabel=f"{nodes} accuracy on real graph",
        title=f"Utility: real-graph {nodes} accuracy (mean ± std over seeds)",
    )
    _save(fig, path)
