"""What a mechanism releases: typed artefacts that know how to write themselves into a run's ``release/`` folder.

Evaluators declare which release types they accept (:mod:`dpgraph.evaluation.evaluators`)."""

from dpgraph.releases.base import Release
from dpgraph.releases.graph import GraphRelease
from dpgraph.releases.model import NodeClassifierRelease

__all__ = ["GraphRelease", "NodeClassifierRelease", "Release"]
