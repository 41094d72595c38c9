"""``SAMPLERS``: the subgraph samplers selectable by ``sampler.kind``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from dpgraph.privacy.randomness import SecretRandomness
from dpgraph.registry import Registry
from dpgraph.sampling.subgraphs import SubgraphSet


@dataclass(frozen=True)
class SamplerSpec:
    """One sampler. ``build(params, edge_index, num_nodes, roots, randomness)``: the subgraphs of ``roots``;
    ``max_size(params)``: S, the most nodes one subgraph can hold; ``node_stable``: whether removing a node changes
    only the subgraphs that contain it (so that the occurrence bound K bounds the privacy loss);
    ``check_promise(params, edge_index, num_nodes)``: refuse a graph that breaks a public promise the bound relies on
    (the message names only the promise)."""

    build: Callable[[Any, Tensor, int, Tensor, SecretRandomness], SubgraphSet]
    max_size: Callable[[Any], int]
    node_stable: bool
    check_promise: Callable[[Any, Tensor, int], None] = lambda _params, _edges, _n: None


SAMPLERS: Registry[SamplerSpec] = Registry("sampler", "method.sampler.kind")
