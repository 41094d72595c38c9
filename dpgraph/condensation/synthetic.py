"""The condensed graph being learnt: features X', fixed labels, and an identity or generated adjacency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from dpgraph.condensation.adjacency import PairwiseAdjacency
from dpgraph.graphops import normalized_dense, propagate

AdjacencyMode = Literal["identity", "mlp"]


class SyntheticGraph(nn.Module):
    """N' = sum(nodes_per_class) nodes; node i has label c for the i-th block of `nodes_per_class` (public).

    Features: the parameter X' [N', F] seen row-L1-normalised, X'_i / ||X'_i||_1, which is also what the
    evaluation's `prepare_features` makes of them (normalising twice changes nothing); X' starts normalised.
    Adjacency: "identity" has no edges (GCN normalisation turns it into I); "mlp" is A' = PairwiseAdjacency(X')
    (GCond's PGE), weighted in (0, 1) during condensation and thresholded at `edge_threshold` for release.
    """

    def __init__(
        self,
        features: Tensor,
        nodes_per_class: Sequence[int],
        generator: torch.Generator,
        adjacency: AdjacencyMode = "identity",
        hidden: int = 128,
        edge_threshold: float = 0.5,
    ):
        super().__init__()
        if features.size(0) != sum(nodes_per_class) or min(nodes_per_class) < 0:
            raise ValueError(f"need {sum(nodes_per_class)} feature rows and counts >= 0, got {features.size(0)}")
        if adjacency not in ("identity", "mlp"):
            raise ValueError(f"unknown adjacency mode {adjacency!r}; valid: identity, mlp")
        self.x = nn.Parameter(F.normalize(features.detach().float(), p=1.0, dim=1))
        counts = torch.tensor(list(nodes_per_class))
        self.register_buffer("y", torch.repeat_interleave(torch.arange(len(counts)), counts))
        self.adjacency_model = PairwiseAdjacency(features.size(1), hidden, generator) if adjacency == "mlp" else None
        self.edge_threshold = edge_threshold
        self.num_classes = len(counts)

    @property
    def classes(self) -> list[int]:
        """The classes with at least one synthetic node."""
        return self.y.unique().tolist()

    def features(self) -> Tensor:
        """X' row-L1-normalised [N', F] (differentiable; the gradient has no radial component)."""
        return F.normalize(self.x, p=1.0, dim=1)

    @torch.no_grad()
    def project_(self) -> None:
        """Put the rows of X' back on the unit L1 sphere (after an optimizer step).

        `features()` ignores the row scale, so updates can only grow it, which shrinks later gradients (as 1 / scale)
        and with them Adam's effective step: projecting keeps the step size fixed in feature units.
        """
        self.x.copy_(self.features())

    def adjacency(self) -> Tensor:
        """Dense weighted A' [N', N'] without self-loops: zeros for "identity", PairwiseAdjacency(X') for "mlp"."""
        if self.adjacency_model is None:
            n = self.x.size(0)
            return torch.zeros(n, n, dtype=self.x.dtype, device=self.x.device)
        return self.adjacency_model(self.features())

    def propagated(self, k: int) -> Tensor:
        """Â'^k X' with Â' = D^-1/2 (A' + I) D^-1/2 (just X' for "identity")."""
        h = self.features()
        if self.adjacency_model is None:
            return h
        return propagate(h, normalized_dense(self.adjacency()), k)

    @torch.no_grad()
    def to_data(self) -> Data:
        """The release: x = normalised X', y, and an undirected edge (i, j) wherever A'_ij > edge_threshold.

        Edges carry no weight: `evaluate_utility` reads `edge_index` only, as a simple unweighted graph.
        """
        n = self.x.size(0)
        edge_index = (self.adjacency() > self.edge_threshold).nonzero().T.contiguous()
        return Data(x=self.features().detach().clone(), edge_index=edge_index, y=self.y.clone(), num_nodes=n)
