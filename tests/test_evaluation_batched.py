"""SeedStack: each copy is the PyG model it exports, on the rows a plan restricts it to, and does not see the others."""

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import erdos_renyi_graph

from dpgraph.evaluation.batched import GraphView, Plan, SeedStack
from dpgraph.graphops import sparse_adjacency

CPU = torch.device("cpu")


def _graph(num_features: int, density: float, seed: int = 0) -> Data:
    """A random directed graph with isolated nodes, a self-loop, a duplicate edge, and non-negative features."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    edge_index = erdos_renyi_graph(40, 0.08, directed=True)
    edge_index = torch.cat([edge_index, torch.tensor([[3, 5, 5], [3, 6, 6]])], dim=1)
    edge_index = edge_index[:, (edge_index < 36).all(0)]  # nodes 36..39 isolated
    x = torch.rand(40, num_features, generator=gen) * (torch.rand(40, num_features, generator=gen) < density)
    return Data(x=x, edge_index=edge_index, y=torch.randint(0, 3, (40,), generator=gen))


# (features, density): sparse and wider than hidden (CSR input), narrow (propagated first), wide and dense
SHAPES = [(30, 0.1), (5, 0.5), (30, 0.9)]


@pytest.mark.parametrize("name", ["gcn", "sage", "mlp", "sgc"])
@pytest.mark.parametrize(("features", "density"), SHAPES)
def test_each_copy_computes_its_exported_model_on_the_planned_rows(name, features, density):
    data = _graph(features, density)
    graph = GraphView(data, normalize_features=True, device=CPU)
    stack = SeedStack(name, features, 3, hidden=8, dropout=0.5, seeds=[3, 1], device=CPU).eval()
    targets = torch.tensor([0, 5, 6, 17, 38])
    plan = Plan.build(graph, stack.spec, hidden=8, targets=targets)
    with torch.no_grad():
        logits = stack(plan)
    adj_t = sparse_adjacency(data.edge_index, 40)
    assert logits.shape == (2, 5, 3)
    for copy in range(2):
        expected = stack.module(copy)(graph.x, adj_t)[targets]
        assert torch.allclose(logits[copy], expected, atol=1e-5)
    assert not torch.allclose(logits[0], logits[1])


@pytest.mark.parametrize("name", ["gcn", "sage", "mlp"])
@pytest.mark.parametrize(("features", "density"), SHAPES)
def test_a_copy_trains_the_same_whichever_copies_share_its_stack(name, features, density):
    data = _graph(features, density, seed=1)
    graph = GraphView(data, normalize_features=True, device=CPU)
    targets = torch.arange(0, 40, 3)
    outputs, grads = [], []
    for seeds in ([7, 2, 9], [2]):
        stack = SeedStack(name, features, 3, hidden=8, dropout=0.5, seeds=seeds, device=CPU).train()
        plan = Plan.build(graph, stack.spec, hidden=8, targets=targets)
        for _ in range(2):  # the second step draws fresh masks
            out = stack(plan)
        out[seeds.index(2)].square().sum().backward()
        outputs.append(out[seeds.index(2)].detach())
        grads.append([p.grad[seeds.index(2)] for p in stack.parameters()])
    assert torch.allclose(outputs[0], outputs[1], atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(*grads, strict=True))


@pytest.mark.parametrize("name", ["gcn", "sage", "mlp"])
@pytest.mark.parametrize(("features", "density"), SHAPES)
def test_training_mode_drops_entries_and_the_seed_fixes_which(name, features, density):
    graph = GraphView(_graph(features, density), normalize_features=True, device=CPU)
    stack = SeedStack(name, features, 3, 8, 0.5, [0], CPU)
    plan = Plan.build(graph, stack.spec, hidden=8, targets=torch.arange(40))
    first, again = (SeedStack(name, features, 3, 8, 0.5, [0], CPU).train()(plan) for _ in range(2))
    assert torch.equal(first, again)
    assert not torch.allclose(first, stack.eval()(plan))
    assert torch.allclose(SeedStack(name, features, 3, 8, 0.0, [0], CPU).train()(plan), stack(plan))
    # inverted dropout: averaged over many masks, the first layer's pre-activation is the eval one
    train = SeedStack(name, features, 3, 8, 0.5, range(400), CPU).train()
    train.load_state_dict({k: v[:1].expand_as(v) for k, v in train.state_dict().items()})
    with torch.no_grad():
        mean = train._layer(train._input(plan), plan, 0).mean(0)
        exact = stack._layer(stack._input(plan), plan, 0)[0]
    assert (mean - exact).abs().mean() < 0.1 * exact.abs().mean()
