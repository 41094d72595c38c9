"""Subgraph samplers: rooted subgraphs with an occurrence bound K, for node-level DP-SGD (see `SubgraphSet`)."""

from dpgraph.sampling.subgraphs import PAD, SubgraphSet

__all__ = ["PAD", "SubgraphSet"]
