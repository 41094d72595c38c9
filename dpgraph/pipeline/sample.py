"""`sample_pipeline`: build only the subgraphs a pipeline's method would train on, and summarise them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dpgraph.data import load_dataset, resolve_data_root
from dpgraph.errors import DPGraphError
from dpgraph.pipeline.config import PipelineConfig
from dpgraph.privacy.randomness import randomness_for
from dpgraph.sampling.params import SamplerParams, training_roots


def sample_pipeline(config: PipelineConfig, data_root: str | Path | None = None) -> dict[str, Any]:
    """The :meth:`SubgraphSet.stats` of the method's sampler on its roots (labelled training nodes), keyed like a run
    (``privacy.randomness``), plus the privacy unit and whether K bounds a unit's occurrences in the accounting
    (node unit: node-stable samplers only; attributes unit: every sampler, K then being the observed maximum). In a
    private pipeline the run's own checks apply (node unit: node-stable sampler, degree promise). The statistics read
    the real graph: private analysis, not a release."""
    sampler = getattr(config.method_params, "sampler", None)
    if not isinstance(sampler, SamplerParams):
        raise DPGraphError(f"method '{config.method.name}' has no subgraph sampler; `dpgraph sample` needs a "
                           "method with a `sampler:` block (e.g. dp-gnn)")
    graph = load_dataset(config.dataset, config.dataset_params, resolve_data_root(data_root))
    unit = config.privacy.unit
    if config.privacy.private:
        sampler.check_private(graph.data.edge_index, graph.num_nodes, unit)
    subgraphs = sampler.build(graph.data.edge_index, graph.num_nodes, training_roots(graph.data),
                              randomness_for(config.privacy.randomness, config.seed), unit)
    return {**subgraphs.stats(graph.num_nodes), "privacy_unit": unit,
            "bound_holds_under_unit": unit == "attributes" or sampler.node_unit_problem() is None}
