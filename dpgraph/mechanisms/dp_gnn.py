"""`dp-gnn`: a GNN trained directly with node-level DP-SGD on sampled subgraphs (a released model, not a graph).

Privacy unit: node, or attributes (one node's features and label replaced; the edges public). Roots are the
labelled training nodes (the split is public). Under the node unit the sampler must be node-stable (``sampler.kind:
ego``); under the attributes unit any sampler is sound (``random-walk`` included), since it reads only the public
edges (:mod:`dpgraph.sampling.subgraphs`). Each step: Poisson selection of subgraphs at rate ``q``, one gradient per
subgraph, clipped to ``C``, summed, Gaussian noise of std ``sigma C`` (:class:`~dpgraph.dpsgd.DPSGDEngine`). Event,
stage ``train``: one-node subgraphs (``hops: 0``) under the node unit are plain add/remove DP-SGD,
``SelfComposed(PoissonSampled(q, Gaussian(sigma)), T)``; otherwise (larger subgraphs, or the replace-one
attributes unit, where a neighbour modifies rows instead of removing one) the K-occurrence step of
:mod:`dpgraph.privacy.k_occurrence` with K from the sampler (:meth:`SubgraphSet.accounting_occurrences`),
composed T times. ``sigma`` is calibrated to the whole budget. Features are scaled to unit L2 norm per node (no
shared statistic), so a linear layer's per-subgraph gradient norm is at most about ``sqrt(2)``. ``epsilon: null``
trains the same way without clipping or noise (the reference).

Released: the trained model (:class:`~dpgraph.releases.NodeClassifierRelease`), evaluated by ``model-accuracy``.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field
from torch import nn
from tqdm.auto import tqdm

from dpgraph.condensation.seeded import reset_linear
from dpgraph.config.validation import StrictModel
from dpgraph.data.graph import GraphDataset
from dpgraph.dpsgd import DenseGCN, DenseSGC, DPSGDEngine
from dpgraph.dpsgd.gradient_sum import PrivateGradientSum
from dpgraph.dpsgd.losses import root_cross_entropy
from dpgraph.dpsgd.unit_sampling import UnitSampling
from dpgraph.graphops import unit_rows
from dpgraph.mechanisms.base import Mechanism, ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS
from dpgraph.releases import NodeClassifierRelease
from dpgraph.sampling.params import SamplerParams, training_roots
from dpgraph.sampling.subgraphs import SubgraphSet


class DPGNNParams(StrictModel):
    """Model, sampler and DP-SGD settings of `dp-gnn` (all public, fixed in the pipeline file)."""

    model: Literal["gcn", "sgc"] = "gcn"
    hidden: int = Field(default=64, ge=1)
    layers: int = Field(default=2, ge=1, le=4)
    sgc_k: int = Field(default=2, ge=1, le=4)
    sampler: SamplerParams = SamplerParams()
    clip_norm: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    sample_rate: float = Field(default=0.1, gt=0, le=1)
    steps: int = Field(default=300, ge=1)
    lr: float = Field(default=0.01, gt=0)


def build_dense_model(params: DPGNNParams, num_features: int, num_classes: int,
                      generator: torch.Generator) -> nn.Module:
    """The configured dense model, its layers initialised from ``generator`` (public randomness)."""
    model: nn.Module = (DenseSGC(num_features, num_classes, k=params.sgc_k) if params.model == "sgc"
                        else DenseGCN(num_features, params.hidden, num_classes, num_layers=params.layers))
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            reset_linear(layer, generator)
    return model


def unit_sampling(subgraphs: SubgraphSet, params: DPGNNParams, unit: str) -> UnitSampling:
    """Poisson selection at ``sample_rate``, accounted as :meth:`SubgraphSet.accounting_occurrences` says."""
    return UnitSampling(len(subgraphs), sample_rate=params.sample_rate,
                        occurrences=subgraphs.accounting_occurrences(unit))


@MECHANISMS.register("dp-gnn")
class DPGNN(Mechanism):
    name = "dp-gnn"
    Params = DPGNNParams
    units = ("node", "attributes")
    private = None
    releases = NodeClassifierRelease
    stages = ("train",)
    default_split = {"train": 1.0}

    def memory_estimate(self, graph: GraphDataset, params: DPGNNParams) -> tuple[float, str]:
        """The dense batch of all training subgraphs, plus one step's float32 per-subgraph gradients (about q N of
        them, each the size of the model)."""
        roots, f, c, h = int(training_roots(graph.data).numel()), graph.num_features, graph.num_classes, params.hidden
        weights = f * c if params.model == "sgc" else f * h + (params.layers - 2) * h * h + h * c
        per_step = 4.0 * params.sample_rate * roots * weights
        return (params.sampler.dense_batch_bytes(roots, f) + per_step,
                "lower method.sampler.hops or fanout, method.sample_rate or method.hidden")

    def check(self, privacy, graph, params: DPGNNParams) -> None:  # type: ignore[override]
        super().check(privacy, graph, params)
        if privacy.private:
            params.sampler.check_private(graph.data.edge_index, graph.num_nodes, privacy.unit)

    def release(self, graph: GraphDataset, params: DPGNNParams, context: ReleaseContext) -> NodeClassifierRelease:
        d, private, unit = graph.data, context.private, context.privacy.unit
        subgraphs = params.sampler.build(d.edge_index, graph.num_nodes, training_roots(d), context.secret, unit)
        x = unit_rows(d.x.float())
        batch_all = subgraphs.dense_batch(x, d.edge_index, d.y).to(context.device)
        sampling = unit_sampling(subgraphs, params, unit)
        spend = context.spend("train", lambda sigma: sampling.event(sigma, params.steps)) if private else None
        model = build_dense_model(params, graph.num_features, graph.num_classes, context.public).to(context.device)
        gradient_sum = PrivateGradientSum(root_cross_entropy, sampling,
                                          params.clip_norm if private else math.inf,
                                          spend.noise_multiplier if spend is not None else 0.0, context.secret,
                                          private=private)
        engine = DPSGDEngine(model, torch.optim.Adam(model.parameters(), lr=params.lr), gradient_sum)
        for _ in tqdm(range(params.steps), desc="dp-gnn", unit="step", disable=not context.progress):
            engine.step(batch_all.tensors())
        if spend is not None:
            spend.record(engine.event())
        return NodeClassifierRelease(model.eval())
