"""Graph data: loaders, public splits and graph files."""

from dpgraph.data.csv_graph import load_graph_csv
from dpgraph.data.graph import GraphDataset
from dpgraph.data.graph_io import load_graph_pt, save_graph
from dpgraph.data.registry import DATASETS
from dpgraph.data.root import resolve_data_root
from dpgraph.data.spec import PrivateDataset, load_dataset

__all__ = ["DATASETS", "GraphDataset", "PrivateDataset", "load_dataset", "load_graph_csv", "load_graph_pt",
           "resolve_data_root", "save_graph"]
