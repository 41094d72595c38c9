"""Mechanisms that produce released graphs; importing this package registers all of them."""

from dpgraph.mechanisms import (  # noqa: F401  (registration side effect)
    dp_centroid,
    dp_gcond,
    dp_gnn,
    dp_graph_generator,
    dp_sbm,
    edge_bter,
    edge_dp1k,
    edge_link_generator,
    edge_privgraph,
    edge_tmf,
    real,
)
from dpgraph.mechanisms.base import Mechanism, ReleaseContext
from dpgraph.mechanisms.registry import MECHANISMS

__all__ = ["MECHANISMS", "Mechanism", "ReleaseContext"]
