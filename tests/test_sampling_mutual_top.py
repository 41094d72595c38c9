"""The mutual top-f view: its definition against a brute-force reference, its degree bound, and its edge-stability
(removing any one edge changes the view by at most three edges) on graphs with hubs."""

from __future__ import annotations

import torch

from dpgraph.sampling.ego import edge_priorities
from dpgraph.sampling.mutual_top import mutual_top_view


def _hub_graph(num_nodes: int = 60, seed: int = 0) -> torch.Tensor:
    """Two hubs joined to most nodes, plus random edges."""
    g = torch.Generator().manual_seed(seed)
    star = [(0, v) for v in range(1, num_nodes)] + [(1, v) for v in range(2, num_nodes, 2)]
    random = torch.randint(0, num_nodes, (2, 120), generator=g).t().tolist()
    pairs = {tuple(sorted(p)) for p in star + random if p[0] != p[1]}
    return torch.tensor(sorted(pairs)).t()


def _undirected(view: torch.Tensor) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in view.t().tolist() if a < b}


def _reference(pairs: set[tuple[int, int]], f: int, seed: int) -> set[tuple[int, int]]:
    """The definition, one node at a time."""
    priority = {p: float(edge_priorities(torch.tensor([p[0]]), torch.tensor([p[1]]), seed)) for p in pairs}
    neighbours: dict[int, list[tuple[float, int]]] = {}
    for (a, b), value in priority.items():
        neighbours.setdefault(a, []).append((value, b))
        neighbours.setdefault(b, []).append((value, a))
    top = {u: {w for _, w in sorted(items)[:f]} for u, items in neighbours.items()}
    return {(a, b) for a, b in pairs if b in top[a] and a in top[b]}


def test_the_view_matches_its_definition_and_bounds_degrees():
    edges = _hub_graph()
    pairs = {tuple(p) for p in edges.t().tolist()}
    for f in (1, 3, 8):
        view = mutual_top_view(edges, 60, f, seed=11)
        assert _undirected(view) == _reference(pairs, f, seed=11)
        assert int(torch.bincount(view[0], minlength=60).max()) <= f
    assert _undirected(mutual_top_view(edges, 60, 3, seed=11)) != _undirected(mutual_top_view(edges, 60, 3, seed=12))


def test_removing_any_edge_changes_the_view_by_at_most_three_edges():
    worst = 0
    for graph_seed in range(3):
        edges = _hub_graph(seed=graph_seed)
        for f in (2, 5):
            view = _undirected(mutual_top_view(edges, 60, f, seed=5))
            for i in range(edges.size(1)):
                without = torch.cat([edges[:, :i], edges[:, i + 1:]], dim=1)
                changed = len(view ^ _undirected(mutual_top_view(without, 60, f, seed=5)))
                worst = max(worst, changed)
                assert changed <= 3
    assert worst == 3  # the hubs move other edges in: the bound is attained, not vacuous
