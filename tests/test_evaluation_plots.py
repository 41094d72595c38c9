import torch
from torch_geometric.data import Data
from torch_geometric.utils import barabasi_albert_graph, erdos_renyi_graph

from dpgraph.evaluation import plot_degree_distributions, plot_utility
from dpgraph.evaluation.plots import plot_clustering_by_degree

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _data(edge_index: torch.Tensor, n: int) -> Data:
    return Data(x=torch.ones(n, 1), edge_index=edge_index, y=torch.zeros(n, dtype=torch.long))


def test_degree_plot_is_a_png(tmp_path):
    torch.manual_seed(0)
    real = _data(barabasi_albert_graph(200, 3), 200)
    released = _data(erdos_renyi_graph(220, 0.02), 220)
    path = tmp_path / "figs" / "degrees.png"
    plot_degree_distributions(released, real, path)
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_clustering_plot_is_a_png_also_for_graphs_without_wedges(tmp_path):
    torch.manual_seed(0)
    real = _data(barabasi_albert_graph(200, 3), 200)
    for name, released in (("er", _data(erdos_renyi_graph(220, 0.02), 220)),
                           ("edgeless", _data(torch.empty(2, 0, dtype=torch.long), 10))):
        path = tmp_path / "figs" / f"clustering-{name}.png"
        plot_clustering_by_degree(released, real, path)
        assert path.read_bytes()[:8] == PNG_MAGIC


def test_utility_plot_is_a_png(tmp_path):
    metrics = {
        "gcn": {"test_acc_mean": 0.8, "test_acc_std": 0.01, "per_seed": [0.79, 0.81]},
        "mlp": {"test_acc_mean": 0.55, "test_acc_std": 0.0, "per_seed": [0.55]},
    }
    path = tmp_path / "utility.png"
    plot_utility(metrics, path)
    assert path.read_bytes()[:8] == PNG_MAGIC
