"""A link scorer on public node inputs, its per-unit contrastive loss, and edge generation from its scores.

Inputs (public under the edge unit): ``z_u = [SVD_r(unit-L2 x)_u, onehot(g_u)]``, the rank-r truncated SVD of the
unit-L2 feature rows (scikit-learn, a function of the features alone) and, optionally, the public group of
:func:`~dpgraph.mechanisms.edge_bter.predicted_groups` (training label, else the class a logistic regression
predicts from the features). Scorer: an MLP ``z -> (h, b)`` (``h`` in R^k, ``b`` a scalar propensity),
``s(u, w) = <h_u, h_w> + b_u + b_w`` (symmetric). Every trainable parameter sits in an ``nn.Linear``, so DP-SGD clips
by ghost clipping.

Loss of one unit (one edge, or one walk's pairs): for each of its positive pairs (a, p), ``softplus(-s(a, p)) +
sum_j softplus(s(a, r_j))`` with negatives ``r_j = T[a, j]`` read from a negative table ``T`` [n, k'] drawn with the
PUBLIC generator, of a fixed shape per step, independently of the data (:func:`negative_table`); averaged over the
unit's valid pairs. The unit's loss is a function of its own nodes, ``T`` and the parameters only, and ``T`` is the
same in neighbouring graphs: deleting an edge deletes (or modifies) the units that hold it and changes no other
unit's loss, gradient or clipped gradient.

Generation (post-processing): the ``m`` pairs u < w of largest ``s(u, w) / tau + Gumbel`` (public Gumbel draws),
i.e. ``m`` pairs drawn without replacement with probability proportional to ``exp(s / tau)`` (Gumbel top-m). With
k' negatives drawn uniformly at the anchor the loss is noise-contrastive, so ``exp(s)`` is, at its optimum, the
ratio of the edge distribution to the noise distribution: ``tau = 1`` samples pairs by that ratio.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from sklearn.decomposition import TruncatedSVD
from torch import Tensor, nn

from dpgraph.dpsgd.per_sample import UnitLoss
from dpgraph.graphops import unit_rows
from dpgraph.mechanisms.edge_bter import predicted_groups
from dpgraph.resources import check_memory


def public_node_inputs(x: Tensor, y: Tensor, train_mask: Tensor, num_classes: int, rank: int, with_groups: bool,
                       generator: torch.Generator) -> Tensor:
    """float32 [n, r' (+ C)]: the truncated SVD of the unit-L2 feature rows (r' = min(rank, features - 1), rows
    rescaled to unit norm), then the one-hot public group if ``with_groups``; public data only (module docstring)."""
    rows = unit_rows(x.double()).numpy()
    rank = max(1, min(rank, rows.shape[1] - 1))
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    reduced = unit_rows(torch.from_numpy(TruncatedSVD(rank, random_state=seed).fit_transform(rows)).float())
    if not with_groups:
        return reduced
    groups = predicted_groups(x, y, train_mask, num_classes)
    return torch.cat([reduced, F.one_hot(groups, num_classes).float()], 1)


class LinkScorer(nn.Module):
    """``z -> (h [.., k], b [..])`` by a one-hidden-layer ReLU MLP; :meth:`score` is ``<h_u, h_w> + b_u + b_w``."""

    def __init__(self, num_inputs: int, hidden: int, embedding: int) -> None:
        super().__init__()
        self.embedding = embedding
        self.hidden = nn.Linear(num_inputs, hidden)
        self.out = nn.Linear(hidden, embedding + 1)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        out = self.out(torch.relu(self.hidden(z)))
        return out[..., : self.embedding], out[..., self.embedding]

    @staticmethod
    def score(first: tuple[Tensor, Tensor], second: tuple[Tensor, Tensor]) -> Tensor:
        """``<h_1, h_2> + b_1 + b_2`` of two broadcastable encodings."""
        return (first[0] * second[0]).sum(-1) + first[1] + second[1]


def negative_table(num_nodes: int, negatives: int, generator: torch.Generator) -> Tensor:
    """int64 [n, k']: uniform node ids from the public ``generator``, a fixed-shape draw that reads no data."""
    return torch.randint(0, num_nodes, (num_nodes, negatives), generator=generator)


def link_units(anchors: Tensor, partners: Tensor, table: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One step's units from positive pairs ``anchors``, ``partners`` [N, P]: ``(anchors, partners, valid [N, P],
    negatives [N, P, k'])``, the negatives ``table[anchor]``; a self-pair (a walk that stayed put) is not valid."""
    return anchors, partners, anchors != partners, table[anchors]


def link_unit_loss(inputs: Tensor) -> UnitLoss:
    """The per-unit contrastive loss on the public node ``inputs`` (module docstring), for units of
    :func:`link_units`."""

    def unit_loss(model: nn.Module, batch: tuple[Tensor, ...]) -> Tensor:
        anchors, partners, valid, negatives = batch
        anchor = model(inputs[anchors])
        positive = LinkScorer.score(anchor, model(inputs[partners]))
        negative = LinkScorer.score((anchor[0].unsqueeze(-2), anchor[1].unsqueeze(-1)), model(inputs[negatives]))
        pair = F.softplus(-positive) + F.softplus(negative).sum(-1)
        weight = valid.to(pair.dtype)
        return (pair * weight).sum(1) / weight.sum(1).clamp_min(1.0)

    return unit_loss


def generation_bytes(num_nodes: int) -> float:
    """Working memory of :func:`sample_scored_edges`: a few float32 and int64 n x n matrices."""
    return 24.0 * num_nodes * num_nodes


@torch.no_grad()
def sample_scored_edges(model: LinkScorer, inputs: Tensor, num_edges: int, temperature: float,
                        generator: torch.Generator) -> Tensor:
    """[2, m] pairs u < w: the Gumbel top-m of ``s(u, w) / temperature`` over all pairs u < w (public Gumbel draws
    from ``generator``), m = min(num_edges, n(n-1)/2)."""
    n = inputs.size(0)
    check_memory(generation_bytes(n), f"scoring all pairs of {n} nodes", "use a smaller graph")
    h, b = model(inputs)
    keys = (h @ h.T + b[:, None] + b[None, :]) / temperature
    uniform = torch.rand(keys.shape, generator=generator).clamp_min(1e-12)
    keys -= torch.log(-torch.log(uniform))
    keys.masked_fill_(~torch.ones(n, n, dtype=torch.bool).triu(1), -torch.inf)
    chosen = keys.flatten().topk(min(num_edges, n * (n - 1) // 2)).indices
    return torch.stack([chosen // n, chosen % n])
