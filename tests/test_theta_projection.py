"""theta-projection by edge addition: the stream order and greedy rule against an independent reference, its
degree cap, and the steps of the node-stability lemma (dpgraph/mechanisms/degree_statistics.py), checked for every
node and every capacity of graphs with hubs."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.utils import degree, erdos_renyi_graph, subgraph, to_undirected

from dpgraph.errors import DPGraphError
from dpgraph.graphops import projected_degrees, simple_pairs, theta_projection


def _undirected(pairs: list[tuple[int, int]]) -> torch.Tensor:
    return to_undirected(torch.tensor(pairs, dtype=torch.long).t())


def _hub_graph(seed: int, n: int = 30) -> torch.Tensor:
    """A random graph plus a hub adjacent to everyone."""
    torch.manual_seed(seed)
    hub = torch.stack([torch.zeros(n - 1, dtype=torch.long), torch.arange(1, n)])
    return to_undirected(torch.cat([erdos_renyi_graph(n, 0.15), hub], 1))


def _rank(n: int, seed: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def _greedy(pairs: torch.Tensor, capacity: list[int], rank: torch.Tensor) -> set[tuple[int, int]]:
    """Independent reference: Python's sort on the key (later rank, earlier rank), per-node capacities."""
    keys = rank.tolist()
    edges = sorted(map(tuple, pairs.t().tolist()), key=lambda e: (max(keys[e[0]], keys[e[1]]),
                                                                  min(keys[e[0]], keys[e[1]])))
    load = [0] * len(capacity)
    kept = set()
    for u, w in edges:
        if load[u] < capacity[u] and load[w] < capacity[w]:
            load[u], load[w] = load[u] + 1, load[w] + 1
            kept.add((u, w))
    return kept


def _degrees(kept: set[tuple[int, int]], n: int) -> list[int]:
    out = [0] * n
    for u, w in kept:
        out[u], out[w] = out[u] + 1, out[w] + 1
    return out


def test_the_stream_order_follows_the_later_then_the_earlier_rank():
    edges = _undirected([(0, 1), (1, 2), (2, 3), (0, 3), (1, 3)])
    # identity ranks: (0,1) (1,2) (0,3) (1,3) (2,3); ranks [3,0,1,2]: (1,2) (1,3) (2,3) (0,1) (0,3)
    assert theta_projection(edges, 4, 1, torch.arange(4)).t().tolist() == [[0, 1], [2, 3]]
    assert theta_projection(edges, 4, 1, torch.tensor([3, 0, 1, 2])).t().tolist() == [[0, 3], [1, 2]]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("theta", [1, 2, 5])
def test_projection_matches_the_reference_caps_degrees_and_is_maximal(seed, theta):
    n, edges, rank = 30, _hub_graph(seed), _rank(30, seed)
    projected = theta_projection(edges, n, theta, rank)
    kept = set(map(tuple, projected.t().tolist()))
    assert kept == _greedy(simple_pairs(edges, n), [theta] * n, rank)
    degrees = projected_degrees(projected, n)
    assert degrees.max() == theta  # the hub fills up
    for u, w in simple_pairs(edges, n).t().tolist():  # greedy: every rejected edge has a full endpoint
        assert (u, w) in kept or max(degrees[u], degrees[w]) == theta


def test_projection_keeps_every_edge_when_theta_reaches_the_maximum_degree():
    n, edges = 30, _hub_graph(0)
    pairs = simple_pairs(edges, n)
    assert torch.equal(theta_projection(edges, n, n - 1, _rank(n, 1)), pairs)
    assert theta_projection(edges, n, n - 2, _rank(n, 1)).size(1) < pairs.size(1)


def test_projection_reads_the_simple_graph_and_counts_degrees():
    n, edges = 30, _hub_graph(1)
    noisy = torch.cat([edges, edges[:, :7], torch.tensor([[3, 4], [3, 4]])], 1)  # duplicates and self-loops
    projected = theta_projection(noisy, n, 3, _rank(n, 2))
    assert torch.equal(projected, theta_projection(edges, n, 3, _rank(n, 2)))
    expected = degree(to_undirected(projected, num_nodes=n)[0], num_nodes=n).long().numpy()
    assert (projected_degrees(projected, n) == expected).all()


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("theta", [1, 3, 6])
def test_each_step_of_the_stability_lemma_holds_for_every_node(seed, theta):
    """(ii) capacity theta -> d~(v) changes nothing; (iii) one unit less moves v's degree by <= 1, one other node's
    by <= 1 and the edge count by 0 or 1; (i) capacity 0 is the deletion of v."""
    n, edges, rank = 30, _hub_graph(seed), _rank(30, seed)
    pairs = simple_pairs(edges, n)
    full = _greedy(pairs, [theta] * n, rank)
    moved = 0
    for v, degree_v in enumerate(_degrees(full, n)):
        capacity = [theta] * n
        capacity[v] = degree_v
        assert _greedy(pairs, capacity, rank) == full
        for c in range(degree_v, 0, -1):
            capacity[v] = c
            larger = _greedy(pairs, capacity, rank)
            capacity[v] = c - 1
            smaller = _greedy(pairs, capacity, rank)
            gaps = [a - b for a, b in zip(_degrees(larger, n), _degrees(smaller, n), strict=True)]
            assert gaps[v] in (0, 1) and len(larger) - len(smaller) in (0, 1)
            others = [abs(g) for u, g in enumerate(gaps) if u != v]
            assert max(others) <= 1 and sum(others) <= 1
            moved += sum(others)
        keep = torch.arange(n) != v
        reduced, _ = subgraph(keep, edges, relabel_nodes=True, num_nodes=n)
        deleted = theta_projection(reduced, n - 1, theta, rank[keep])
        ids = torch.nonzero(keep).flatten()
        assert set(map(tuple, ids[deleted].t().tolist())) == _greedy(pairs, capacity, rank)
    assert moved > 0  # some deletion does move other nodes' degrees


@pytest.mark.parametrize("theta", [0, -1, 1.5, True])
def test_bad_theta_fails_with_the_fix(theta):
    with pytest.raises(DPGraphError, match="theta must be an integer >= 1"):
        theta_projection(_hub_graph(0), 30, theta, _rank(30, 0))


@pytest.mark.parametrize("rank", [torch.arange(29), torch.zeros(30, dtype=torch.long)])
def test_rank_must_be_distinct_keys_for_every_node(rank):
    with pytest.raises(DPGraphError, match="distinct public keys"):
        theta_projection(_hub_graph(0), 30, 3, rank)
