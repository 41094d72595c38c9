"""`sample_pipeline`: build only the subgraphs a pipeline's method would train on, and summarise them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from dpgraph.config.load import PipelineConfig
from dpgraph.data import load_dataset, resolve_data_root
from dpgraph.errors import DPGraphError
from dpgraph.sampling.params import SamplerParams, training_roots


def sample_pipeline(config: PipelineConfig, data_root: str | Path | None = None) -> dict[str, Any]:
    """The :meth:`SubgraphSet.stats` of the method's sampler on its roots (labelled training nodes), seeded like
    a run. In a private pipeline the sampler must be node-stable, as in the run itself."""
    sampler = getattr(config.method_params, "sampler", None)
    if not isinstance(sampler, SamplerParams):
        raise DPGraphError(f"method '{config.method.name}' has no subgraph sampler; `dpgraph sample` needs a "
                           "method with a `sampler:` block (e.g. dp-gnn)")
    if config.privacy.private:
        sampler.check_private()
    graph = load_dataset(config.dataset, config.dataset_params, resolve_data_root(data_root))
    subgraphs = sampler.build(graph.data.edge_index, graph.num_nodes, training_roots(graph.data),
                              torch.Generator().manual_seed(config.seed))
    return subgraphs.stats(graph.num_nodes)
