"""scored_stub_matching: targets kept up to a few dropped stubs on heavy-tailed degrees, a simple graph, the
preference for high-score pairs on a toy with known scores, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_pairs
from dpgraph.mechanisms.edge_dp1k import degree_vector
from dpgraph.mechanisms.scored_stub_matching import scored_stub_matching


def _heavy_tailed(n: int, seed: int) -> np.ndarray:
    degrees = np.random.default_rng(seed).zipf(2.2, n).clip(1, n // 10)
    degrees[0] += degrees.sum() % 2
    return degrees


@pytest.mark.parametrize("seed", [0, 1])
def test_every_target_degree_is_kept_up_to_a_few_dropped_stubs(seed):
    n, gen = 1500, torch.Generator().manual_seed(seed)
    targets = _heavy_tailed(n, seed)
    edges = scored_stub_matching(torch.randn(n, 8, generator=gen), torch.randn(n, generator=gen), targets, 0.75,
                                 2.0, gen)
    pairs = simple_pairs(edges, n)
    assert pairs.size(1) == edges.size(1) // 2 and bool((pairs[0] != pairs[1]).all())  # simple, both directions
    degrees = degree_vector(edges, n).numpy()
    assert np.all(degrees <= targets) and (targets - degrees).sum() <= 0.01 * targets.sum()


def test_high_score_pairs_are_chosen_more_often():
    # two groups whose within-group score is +3, across -3; every node wants 2 partners
    n, gen = 200, torch.Generator().manual_seed(0)
    group = torch.arange(n) % 2
    h = torch.nn.functional.one_hot(group, 2).float() * 6 ** 0.5 - (6 ** 0.5) / 2
    edges = scored_stub_matching(h, torch.zeros(n), np.full(n, 2), 1.0, 2.0, gen)
    src, dst = edges
    assert float((group[src] == group[dst]).float().mean()) > 0.9  # uniform pairing: about 1/2
    cold = scored_stub_matching(h, torch.zeros(n), np.full(n, 2), 1e3, 2.0, gen)  # temperature flattens the scores
    assert float((group[cold[0]] == group[cold[1]]).float().mean()) < 0.7


def test_bad_targets_are_refused():
    h, b, gen = torch.zeros(4, 2), torch.zeros(4), torch.Generator()
    with pytest.raises(DPGraphError, match="even sum"):
        scored_stub_matching(h, b, np.array([1, 1, 1, 0]), 1.0, 2.0, gen)
    with pytest.raises(DPGraphError, match="candidates"):
        scored_stub_matching(h, b, np.array([1, 1, 0, 0]), 1.0, 0.5, gen)
