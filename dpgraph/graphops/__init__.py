"""Graph operations shared by every graph component: the simple undirected view, GCN normalisation, propagation,
per-node feature transforms, class sums and degrees. Depends on nothing else in dpgraph."""

from dpgraph.graphops.adjacency import sparse_adjacency
from dpgraph.graphops.class_sums import normalized_class_sums
from dpgraph.graphops.degrees import simple_degrees
from dpgraph.graphops.features import prepare_features, unit_rows
from dpgraph.graphops.normalize import identity_adjacency, normalized_dense, normalized_sparse_adjacency
from dpgraph.graphops.propagate import propagate, propagate_roots
from dpgraph.graphops.simple import simple_undirected

__all__ = [
    "identity_adjacency",
    "normalized_class_sums",
    "normalized_dense",
    "normalized_sparse_adjacency",
    "prepare_features",
    "propagate",
    "propagate_roots",
    "simple_degrees",
    "simple_undirected",
    "sparse_adjacency",
    "unit_rows",
]
