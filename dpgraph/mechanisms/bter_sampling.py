"""Post-processing: a class-aware BTER graph (Seshadhri, Kolda & Pinar 2012): dense affinity blocks of
similar-degree nodes of one class give clustering, a class-aware configuration model wires each node's remaining
degree.
Reads only released values, the public hyper-parameter `block_density` and a public rng."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_undirected
from dpgraph.mechanisms.dcsbm_sampling import (
    BYTES_PER_WIRED_EDGE,
    block_edge_targets,
    sample_dcsbm,
    stub_inputs,
    wire_stubs,
)
from dpgraph.resources import check_memory


def affinity_blocks(labels: np.ndarray, degrees: np.ndarray, num_classes: int,
                    rng: np.random.Generator) -> list[np.ndarray]:
    """BTER's affinity blocks, class by class: the nodes of target degree >= 2, sorted by degree (ties in a random
    order), cut into consecutive blocks of d_min + 1 nodes, d_min the degree of the block's first (smallest) node;
    the class's last block may be smaller."""
    blocks = []
    for c in range(num_classes):
        members = np.flatnonzero((labels == c) & (degrees >= 2))
        order = members[np.lexsort((rng.random(members.size), degrees[members]))]
        start = 0
        while start < order.size:
            size = int(degrees[order[start]]) + 1
            blocks.append(order[start:start + size])
            start += size
    return blocks


def _dense_blocks(blocks: list[np.ndarray], density: float, rng: np.random.Generator) -> np.ndarray:
    """[2, m] pairs: each block an Erdos-Renyi graph G(|block|, density)."""
    chunks = [np.zeros((2, 0), dtype=np.int64)]
    for block in blocks:
        first, second = np.triu_indices(block.size, 1)
        keep = rng.random(first.size) < density
        chunks.append(np.stack([block[first[keep]], block[second[keep]]]))
    return np.concatenate(chunks, axis=1)


def sample_bter(y: Tensor, degrees: np.ndarray, block_edges: np.ndarray, block_density: float,
                rng: np.random.Generator) -> Tensor:
    """Edge index (both directions, simple) of a class-aware BTER graph with target degrees `degrees` (integers
    >= 0) and class mixing `block_edges` ([C, C], as :func:`block_edge_targets` returns it).

    Phase 1: every affinity block B (:func:`affinity_blocks`) is G(|B|, rho) with rho = `block_density`, a public
    hyper-parameter in [0, 1] (constant, not BTER's degree-dependent rho_d): the clustering coefficient is not
    released, so rho is configuration, chosen on a public proxy. Phase 2: node u's remaining stubs d_u - k_u (k_u
    its realised phase-1 degree; k_u <= |B_u| - 1 <= d_u since a block has d_min + 1 nodes at most) are wired by
    :func:`wire_stubs`, avoiding the phase-1 edges, with targets refitted by :func:`block_edge_targets` to the
    classes' remaining stub totals from `block_edges` whose diagonal is lowered by the realised phase-1 edges of each
    class (floored at 0). Every node thus ends with its target degree up to the stubs wire_stubs drops. Phase 1
    adds only within-class edges, so when a class's phase-1 edges exceed its within-class target the refit lowers
    its cross-class edges. block_density = 0 is exactly :func:`sample_dcsbm` (same rng draws). Memory is checked
    before drawing."""
    if not 0 <= block_density <= 1:
        raise DPGraphError(f"block_density must be in [0, 1], got {block_density}: set it to e.g. 0.5")
    if block_density == 0:
        return sample_dcsbm(y, degrees, block_edges, rng)
    labels, targets = stub_inputs(y, degrees, block_edges)
    # phase 1 draws from at most sum(d) / 2 candidate pairs (a node of a block of size s <= d_u + 1 adds
    # (s - 1) / 2 <= d_u / 2 of them), phase 2 pairs the remaining stubs: at most sum(d) / 2 edges in all
    edges = float(targets.sum()) / 2
    check_memory(BYTES_PER_WIRED_EDGE * edges, f"sampling a BTER graph with up to {edges:.3g} edges",
                 "ask for fewer nodes or lower degrees")
    num_classes = block_edges.shape[0]
    dense = _dense_blocks(affinity_blocks(labels, targets, num_classes, rng), block_density, rng)
    remaining = targets - np.bincount(dense.ravel(), minlength=labels.size)
    lowered = np.array(block_edges, dtype=np.float64)
    within = np.bincount(labels[dense[0]], minlength=num_classes)
    np.fill_diagonal(lowered, np.maximum(np.diag(lowered) - within, 0.0))
    refitted = block_edge_targets(torch.from_numpy(lowered[np.triu_indices(num_classes)]),
                                  np.bincount(labels, weights=remaining, minlength=num_classes))
    wired = wire_stubs(labels, remaining, refitted, rng, avoid=dense)
    return simple_undirected(torch.from_numpy(np.concatenate([dense, wired], axis=1)), labels.size)
