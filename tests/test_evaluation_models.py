import pytest
import torch

from dpgraph.errors import DPGraphError
from dpgraph.evaluation import MODEL_NAMES, build_model
from dpgraph.evaluation.models import feature_dropout


def _path_graph(n: int) -> torch.Tensor:
    src = torch.arange(n - 1)
    return torch.cat([torch.stack([src, src + 1]), torch.stack([src + 1, src])], dim=1)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_logits_have_one_row_per_node_and_one_column_per_class(name):
    torch.manual_seed(0)
    model = build_model(name, in_channels=5, num_classes=3, hidden=8)
    assert model(torch.randn(7, 5), _path_graph(7)).shape == (7, 3)


def test_unknown_name_raises_and_lists_valid_names():
    with pytest.raises(DPGraphError, match="unknown model 'gat' at 'evaluate.models': use one of centroid, gcn, mlp, "
                                           "sage, sgc"):
        build_model("gat", 5, 3)


@pytest.mark.parametrize("name", ["gcn", "sgc", "sage"])
def test_graph_models_use_the_edges_of_each_call(name):
    # A model trained on the released graph must not reuse it when run on the real graph (no caching).
    torch.manual_seed(0)
    model = build_model(name, 4, 2, hidden=8).eval()
    x = torch.randn(6, 4)
    model(x, _path_graph(6))
    no_edges = torch.empty(2, 0, dtype=torch.long)
    fresh = build_model(name, 4, 2, hidden=8).eval()
    fresh.load_state_dict(model.state_dict())
    assert torch.allclose(model(x, no_edges), fresh(x, no_edges))
    assert not torch.allclose(model(x, no_edges), model(x, _path_graph(6)))


def test_mlp_ignores_edges():
    torch.manual_seed(0)
    model = build_model("mlp", 4, 2, hidden=8).eval()
    x = torch.randn(6, 4)
    assert torch.equal(model(x, _path_graph(6)), model(x, torch.empty(2, 0, dtype=torch.long)))


@pytest.mark.parametrize("density", [0.05, 1.0])
def test_feature_dropout_keeps_zeros_and_rescales_kept_entries(density):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(200, 100, generator=gen) + 1.0
    x = x * (torch.rand(200, 100, generator=gen) < density)
    torch.manual_seed(0)
    out = feature_dropout(x, 0.5, training=True)
    assert torch.all(out[x == 0] == 0)
    kept = out[x != 0] != 0
    assert torch.allclose(out[x != 0][kept], 2 * x[x != 0][kept])
    assert 0.45 < kept.float().mean() < 0.55
    assert torch.equal(feature_dropout(x, 0.5, training=False), x)
