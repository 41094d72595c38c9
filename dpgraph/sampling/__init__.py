"""Subgraph samplers: rooted subgraphs with an occurrence bound K, for node-level DP-SGD (see `SubgraphSet`)."""

from dpgraph.sampling import ego, random_walk  # noqa: F401  (registration of the samplers)
from dpgraph.sampling.registry import SAMPLERS
from dpgraph.sampling.subgraphs import PAD, SubgraphSet

__all__ = ["PAD", "SAMPLERS", "SubgraphSet"]
