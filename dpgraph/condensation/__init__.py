"""Graph condensation by per-class gradient matching (GCond), with the real data behind a gradient oracle."""

from dpgraph.condensation.condense import CondenseSettings, condense
from dpgraph.condensation.init import jittered_copies, random_features, real_sample_features
from dpgraph.condensation.matching import layerwise_distance, matching_distance
from dpgraph.condensation.oracle import ExactClassGradients, RealGradientOracle
from dpgraph.condensation.synthetic import SyntheticGraph

__all__ = ["CondenseSettings", "ExactClassGradients", "RealGradientOracle", "SyntheticGraph", "condense",
           "jittered_copies", "layerwise_distance", "matching_distance", "random_features", "real_sample_features"]
