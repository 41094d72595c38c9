import torch
import torch.nn.functional as F
from torch_geometric.data import Data
from torch_geometric.utils import erdos_renyi_graph, to_undirected

from dpgraph.evaluation import TrainSettings, evaluate_utility, train_on_released
from dpgraph.evaluation.centroid import NearestCentroid
from dpgraph.graphops import sparse_adjacency

CPU = torch.device("cpu")
RAW = TrainSettings(normalize_features=False)


def _dense_propagated_directions(x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """Independent reference: unit rows of Â²x with Â = D^-1/2 (A + I) D^-1/2 built densely."""
    n = x.size(0)
    a = torch.zeros(n, n)
    a[edge_index[0], edge_index[1]] = 1.0
    a = a + torch.eye(n)
    d = a.sum(1).rsqrt()
    a_hat = d[:, None] * a * d[None, :]
    return F.normalize(a_hat @ a_hat @ x, dim=1)


def _graph(seed: int, n: int = 12, f: int = 5) -> Data:
    torch.manual_seed(seed)
    edge_index = to_undirected(erdos_renyi_graph(n, 0.3))
    return Data(x=torch.randn(n, f), edge_index=edge_index, y=torch.randint(0, 3, (n,)))


def test_fit_and_logits_match_the_dense_closed_form():
    released, real = _graph(0), _graph(1)
    released.y[:2] = -1  # unlabelled released nodes take no part in the centroids
    model = train_on_released(released, "centroid", 3, RAW, seed=0, device=CPU)
    h = _dense_propagated_directions(released.x, released.edge_index)
    labelled = released.y >= 0
    centroids = torch.stack([h[labelled & (released.y == c)].sum(0) for c in range(3)])
    assert torch.allclose(model.centroids, centroids, atol=1e-5)
    expected = _dense_propagated_directions(real.x, real.edge_index) @ F.normalize(centroids, dim=1).T
    assert torch.allclose(model(real.x, real.edge_index), expected, atol=1e-5)
    assert torch.allclose(model(real.x, sparse_adjacency(real.edge_index, real.num_nodes)), expected, atol=1e-5)


def test_isolated_released_nodes_give_the_sums_of_their_directions_and_an_empty_class_scores_zero():
    x = torch.tensor([[3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [1.0, 1.0, 0.0]])
    released = Data(x=x, edge_index=torch.zeros(2, 0, dtype=torch.long), y=torch.tensor([0, 1, 0]))
    model = NearestCentroid(3, 3).fit(x, sparse_adjacency(released.edge_index, 3), released.y,
                                      torch.ones(3, dtype=torch.bool))
    s = 2 ** -0.5
    assert torch.allclose(model.centroids, torch.tensor([[1 + s, s, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))
    logits = model(torch.tensor([[0.0, 0.0, 5.0]]), torch.zeros(2, 0, dtype=torch.long))
    assert torch.equal(logits, torch.zeros(1, 3))


def test_fit_is_deterministic_and_ignores_the_training_seed():
    released = _graph(2)
    a = train_on_released(released, "centroid", 3, TrainSettings(), seed=0, device=CPU)
    b = train_on_released(released, "centroid", 3, TrainSettings(), seed=7, device=CPU)
    assert torch.equal(a.centroids, b.centroids)


def test_prototype_release_classifies_a_separable_graph_perfectly():
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(3).repeat_interleave(20)
    x = 3.0 * F.one_hot(y, 6).float() + 0.3 * torch.rand(60, 6, generator=gen)
    real = Data(x=x, edge_index=torch.zeros(2, 0, dtype=torch.long), y=y, test_mask=torch.ones(60, dtype=torch.bool))
    prototypes = Data(x=F.one_hot(torch.arange(3), 6).float(), edge_index=torch.zeros(2, 0, dtype=torch.long),
                      y=torch.arange(3))
    result = evaluate_utility(prototypes, real, ["centroid"], [0, 1], TrainSettings(), 3, progress=False)
    assert result["centroid"]["per_seed"] == [1.0, 1.0]
    flipped = Data(x=prototypes.x, edge_index=prototypes.edge_index, y=torch.tensor([1, 2, 0]))
    assert evaluate_utility(flipped, real, ["centroid"], [0], TrainSettings(), 3, progress=False)[
        "centroid"]["test_acc_mean"] == 0.0
