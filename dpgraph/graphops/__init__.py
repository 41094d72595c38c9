"""Graph operations shared by every graph component: the simple undirected view, GCN normalisation and convolution
operators, propagation, receptive fields, per-node feature transforms, class sums, degrees and triangles. Depends on
nothing else in dpgraph but its errors."""

from dpgraph.graphops.adjacency import sparse_adjacency
from dpgraph.graphops.class_sums import class_sums, normalized_class_sums
from dpgraph.graphops.conv_operators import gcn_operator, mean_operator
from dpgraph.graphops.degrees import simple_degrees
from dpgraph.graphops.features import prepare_features, unit_rows
from dpgraph.graphops.normalize import identity_adjacency, normalized_dense, normalized_sparse_adjacency
from dpgraph.graphops.pairs import simple_pairs
from dpgraph.graphops.projection import projected_degrees, theta_projection
from dpgraph.graphops.propagate import propagate, propagate_roots
from dpgraph.graphops.receptive import SparseBlock, csr_rows, receptive_field
from dpgraph.graphops.simple import simple_undirected
from dpgraph.graphops.triangles import triangles_per_node

__all__ = [
    "SparseBlock",
    "csr_rows",
    "gcn_operator",
    "identity_adjacency",
    "mean_operator",
    "class_sums",
    "normalized_class_sums",
    "normalized_dense",
    "normalized_sparse_adjacency",
    "prepare_features",
    "projected_degrees",
    "propagate",
    "propagate_roots",
    "receptive_field",
    "simple_degrees",
    "simple_pairs",
    "simple_undirected",
    "sparse_adjacency",
    "theta_projection",
    "triangles_per_node",
    "unit_rows",
]
