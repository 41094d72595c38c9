"""edge-link-generator: the ledger against opacus and dp_accounting, the refused unit, selection and noise from the
secret stream, per-example gradient isolation by deleting every edge of graphs with hubs, the count's sensitivity,
and the generated edge count; with noisy degrees: the composed ledger, the secret noise, the kept targets."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import torch
from hub_graphs import HUB_GRAPHS, edge_deletions, messy
from opacus.accountants import RDPAccountant
from privacy_reference import dp_accounting_pld_epsilon

from dpgraph.config.sections import PrivacySection
from dpgraph.data.graph import GraphDataset
from dpgraph.data.sbm import SBMParams, make_sbm_graph
from dpgraph.data.split import random_split
from dpgraph.dpsgd.clip import clip_factors
from dpgraph.dpsgd.per_sample import per_unit_gradients
from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_pairs
from dpgraph.mechanisms import MECHANISMS, ReleaseContext
from dpgraph.mechanisms.edge_dp1k import degree_vector
from dpgraph.mechanisms.edge_link_generator import COUNT_SENSITIVITY
from dpgraph.mechanisms.link_scorer import LinkScorer, link_unit_loss, link_units, negative_table, sample_scored_edges
from dpgraph.privacy import GaussianEvent, PoissonSampledEvent, PrivacyLedger, PureDPEvent, SelfComposedEvent
from dpgraph.privacy.randomness import GeneratorRandomness, SecretRandomness

C = 3
CPU = torch.device("cpu")
FAST = {"degrees": "none", "steps": 15, "sample_rate": 0.2, "svd_rank": 8, "hidden": 16, "embedding": 8}


def _graph(num_nodes: int = 300) -> GraphDataset:
    data = make_sbm_graph(SBMParams(num_nodes=num_nodes, num_classes=C, num_features=24, p_in=0.05, p_out=0.005))
    return GraphDataset("sbm", random_split(data, (0.75, 0.1, 0.15), seed=0), num_classes=C)


class RecordingRandomness(SecretRandomness):
    """A reproducible secret stream that counts its draws by kind."""

    mode = "reproducible"

    def __init__(self, seed: int) -> None:
        self.inner, self.calls = GeneratorRandomness.seeded(seed), {"uniform": 0, "normal": 0, "integer": 0}

    def uniform(self, shape: Sequence[int], device: torch.device = CPU) -> torch.Tensor:
        self.calls["uniform"] += 1
        return self.inner.uniform(shape, device)

    def normal(self, shape, std, device=CPU, dtype=torch.float64) -> torch.Tensor:
        self.calls["normal"] += 1
        return self.inner.normal(shape, std, device, dtype)

    def integer(self, bits: int) -> int:
        self.calls["integer"] += 1
        return self.inner.integer(bits)


def _release(graph: GraphDataset, epsilon: float | None, secret_seed: int = 0, public_seed: int = 0, **params):
    mechanism = MECHANISMS.get("edge-link-generator")()
    privacy = PrivacySection(epsilon=epsilon, delta=1e-5, unit="edge", randomness="reproducible")
    context = ReleaseContext.create(privacy, mechanism, seed=public_seed, progress=False)
    context.secret = RecordingRandomness(secret_seed)
    released = mechanism.release(graph, mechanism.Params(**(FAST | params)), context)
    return released.data, context


def test_the_ledger_is_poisson_sampled_dp_sgd_and_matches_opacus_and_dp_accounting():
    _, context = _release(_graph(), 1.0, num_edges=500)
    ledger = context.budget.ledger
    [(stage, event)] = ledger.events  # a configured edge count spends nothing on the count stage
    sigma = event.event.event.noise_multiplier
    assert stage == "train" and event == SelfComposedEvent(PoissonSampledEvent(0.2, GaussianEvent(sigma)), 15)
    assert ledger.epsilon() == pytest.approx(dp_accounting_pld_epsilon([], [(sigma, 0.2, 15)], 1e-5), rel=1e-6)
    opacus = RDPAccountant()
    opacus.history = [(sigma, 0.2, 15)]
    rdp = PrivacyLedger.from_dict(ledger.to_dict() | {"accountant": "rdp"})
    assert rdp.epsilon() == pytest.approx(opacus.get_epsilon(1e-5), rel=1e-6)
    assert 0.99 <= ledger.epsilon() <= 1.0


def test_a_noisy_count_is_a_laplace_stage_before_training():
    _, context = _release(_graph(), 2.0)
    ledger = context.budget.ledger
    assert [stage for stage, _ in ledger.events] == ["count", "train"]
    assert isinstance(ledger.events[0][1], PureDPEvent) and 0.99 * 2.0 <= ledger.epsilon() <= 2.0


@pytest.mark.parametrize("make", HUB_GRAPHS)
def test_deleting_any_edge_moves_the_count_by_one(make):
    edge_index = messy(make())
    n = int(edge_index.max()) + 1
    full = simple_pairs(edge_index, n).size(1)
    assert {full - simple_pairs(kept, n).size(1) for _, _, kept in edge_deletions(edge_index, n)} == \
        {COUNT_SENSITIVITY}


def test_the_node_unit_is_refused():
    mechanism = MECHANISMS.get("edge-link-generator")()
    with pytest.raises(DPGraphError, match="supports privacy.unit edge"):
        mechanism.check(PrivacySection(epsilon=1.0, unit="node"), _graph(), mechanism.Params())
    mechanism.check(PrivacySection(epsilon=1.0, unit="edge"), _graph(), mechanism.Params())


def test_selection_and_noise_come_from_the_secret_stream_only():
    graph = _graph()
    first, context = _release(graph, 1.0, num_edges=400)
    calls = context.secret.calls
    assert calls["uniform"] == FAST["steps"]  # one Bernoulli selection per step; the count is configured
    assert calls["normal"] == 4 * FAST["steps"]  # noise on each of the 4 parameter tensors per step
    same, _ = _release(graph, 1.0, num_edges=400)
    other_secret, _ = _release(graph, 1.0, secret_seed=1, num_edges=400)
    assert torch.equal(first.edge_index, same.edge_index)
    assert not torch.equal(first.edge_index, other_secret.edge_index)


def _clipped_gradients(pairs: torch.Tensor, inputs: torch.Tensor, table: torch.Tensor, model: LinkScorer,
                       clip_norm: float) -> dict[tuple[int, int], torch.Tensor]:
    """{edge: its clipped gradient, all parameters flattened}."""
    units = link_units(pairs.t(), pairs.flip(0).t(), table)
    grads = per_unit_gradients(model, link_unit_loss(inputs), units)
    scale, _ = clip_factors(grads, clip_norm)
    flat = torch.cat([g.flatten(1) for g in grads.values()], 1) * scale[:, None]
    return {(int(u), int(w)): row for (u, w), row in zip(pairs.t(), flat, strict=True)}


@pytest.mark.parametrize("make", HUB_GRAPHS)
def test_deleting_any_edge_changes_only_its_own_clipped_gradient(make):
    edge_index = messy(make())
    n = int(edge_index.max()) + 1
    gen = torch.Generator().manual_seed(0)
    inputs, model, table = torch.randn(n, 5, generator=gen), LinkScorer(5, 6, 3), negative_table(n, 3, gen)
    full = _clipped_gradients(simple_pairs(edge_index, n), inputs, table, model, 0.5)
    worst = 0.0
    for u, w, kept in edge_deletions(edge_index, n):
        reduced = _clipped_gradients(simple_pairs(kept, n), inputs, table, model, 0.5)
        assert set(full) - set(reduced) == {(u, w)} and set(reduced) <= set(full)
        assert all(torch.equal(full[edge], gradient) for edge, gradient in reduced.items())
        change = sum(full.values()) - sum(reduced.values())  # the clipped sum moves by the deleted edge's term
        assert torch.allclose(change, full[(u, w)], atol=1e-5)
        worst = max(worst, float(full[(u, w)].norm()))
    assert worst == pytest.approx(0.5, rel=1e-5)  # at most C (float32 rounding), and attained: the clip binds


def test_generation_keeps_the_configured_edge_count_and_draws_distinct_pairs():
    graph = _graph()
    released, _ = _release(graph, 1.0, num_edges=321)
    assert simple_pairs(released.edge_index, graph.num_nodes).size(1) == 321
    gen = torch.Generator().manual_seed(0)
    pairs = sample_scored_edges(LinkScorer(4, 5, 2), torch.randn(30, 4, generator=gen), 100, 1.0, gen)
    assert pairs.shape == (2, 100) and bool((pairs[0] < pairs[1]).all())
    assert torch.unique(pairs[0] * 30 + pairs[1]).numel() == 100
    everything = sample_scored_edges(LinkScorer(4, 5, 2), torch.randn(30, 4, generator=gen), 10**6, 1.0, gen)
    assert everything.size(1) == 30 * 29 // 2


def _homophily(data, y: torch.Tensor) -> float:
    src, dst = simple_pairs(data.edge_index, data.num_nodes)
    return float((y[src] == y[dst]).double().mean())


def test_the_noiseless_scorer_learns_the_class_mixing():
    graph = _graph()
    released, context = _release(graph, None, steps=80, groups="none")
    assert context.budget is None
    assert simple_pairs(released.edge_index, graph.num_nodes).size(1) == simple_pairs(graph.data.edge_index,
                                                                                        graph.num_nodes).size(1)
    assert _homophily(released, graph.data.y) > 0.6  # real: about 0.9; uniform pairs: 1/3


def test_noisy_degrees_are_a_gaussian_stage_before_training_and_compose_to_the_closed_form():
    _, context = _release(_graph(), 1.0, degrees="noisy")
    ledger = context.budget.ledger
    assert [stage for stage, _ in ledger.events] == ["degrees", "train"]  # no count: the degree sum gives it
    (_, degrees), (_, train) = ledger.events
    sigma = train.event.event.noise_multiplier
    assert isinstance(degrees, GaussianEvent)
    reference = dp_accounting_pld_epsilon([degrees.noise_multiplier], [(sigma, 0.2, 15)], 1e-5)
    assert ledger.epsilon() == pytest.approx(reference, rel=1e-6) and 0.99 <= ledger.epsilon() <= 1.0
    alone = PrivacyLedger(delta=1e-5, unit="edge")
    alone.record("degrees", degrees)  # the degrees stage alone meets its cumulative target 0.05 + 0.55
    assert 0.99 * 0.6 <= alone.epsilon() <= 0.6


def test_noisy_degree_noise_comes_from_the_secret_stream_and_num_edges_is_refused():
    graph = _graph()
    first, context = _release(graph, 1.0, degrees="noisy")
    assert context.secret.calls["normal"] == 1 + 4 * FAST["steps"]  # the degree vector, then DP-SGD
    same, _ = _release(graph, 1.0, degrees="noisy")
    other, _ = _release(graph, 1.0, secret_seed=1, degrees="noisy")
    assert torch.equal(first.edge_index, same.edge_index) and not torch.equal(first.edge_index, other.edge_index)
    with pytest.raises(DPGraphError, match="num_edges: null"):
        _release(graph, 1.0, degrees="noisy", num_edges=100)


def test_the_released_degrees_keep_the_targets_up_to_a_few_dropped_stubs():
    graph = _graph()
    released, _ = _release(graph, None, degrees="noisy")  # non-private: the targets are the exact degrees
    n = graph.num_nodes
    real = degree_vector(graph.data.edge_index, n).long()
    synthetic = degree_vector(released.edge_index, n).long()
    assert bool((synthetic <= real).all()) and int((real - synthetic).sum()) <= 0.01 * int(real.sum())
