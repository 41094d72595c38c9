"""Post-processing: a degree-corrected stochastic block model sampled from released statistics (per-class degree
pmfs, class-pair edge counts) as a class-aware configuration model, which keeps every node's degree (the
microcanonical form of Karrer & Newman's 2011 model). Reads only released values and a public rng."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from dpgraph.errors import DPGraphError
from dpgraph.graphops import simple_undirected
from dpgraph.resources import check_memory

# public floor added to every clamped pair count, as a fraction of their mean entry (1.0 if all are 0)
PAIR_FLOOR = 1e-3
IPF_ITERATIONS = 1000
IPF_TOLERANCE = 1e-10  # largest relative error of a class's degree sum at which the fitting stops
REPAIR_ROUNDS = 50  # rounds of double-edge swaps repairing self-loops and repeats; the few left are dropped
SWAP_CANDIDATES = 8  # random swap partners a bad pair tries per round

# peak bytes per wired edge: the stubs, their shuffles, the pairs and the repair rounds (above data.sbm's block sampler)
BYTES_PER_WIRED_EDGE = 256


def draw_degrees(y: Tensor, pmfs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """int64 [n]: node u's target degree drawn from pmfs[y_u] (degrees 0..K-1; rows are normalised here, negative
    entries count as 0). A row may be empty only if its class has no nodes."""
    labels = y.numpy()
    mass = np.clip(np.asarray(pmfs, dtype=np.float64), 0.0, None)
    if mass.ndim != 2 or (labels.size and labels.max() >= mass.shape[0]):
        raise DPGraphError(f"degree pmfs must have shape [C, K] with a row for each of the {int(labels.max()) + 1} "
                           "classes of the synthetic nodes: pass one pmf per class")
    degrees = np.zeros(labels.size, dtype=np.int64)
    for c in range(mass.shape[0]):
        members = np.flatnonzero(labels == c)
        if members.size == 0:
            continue
        total = mass[c].sum()
        if not np.isfinite(total) or total <= 0:
            raise DPGraphError(f"the degree pmf of class {c} has no positive finite mass but the class has nodes: "
                               "pass a pmf with positive entries")
        degrees[members] = rng.choice(mass.shape[1], size=members.size, p=mass[c] / total)
    return degrees


def _symmetric(pair_edges: Tensor, num_classes: int) -> np.ndarray:
    """[C, C] symmetric matrix from entries (a, b), a <= b, in row-major order of the upper triangle."""
    expected = num_classes * (num_classes + 1) // 2
    if pair_edges.numel() != expected:
        raise DPGraphError(f"got {pair_edges.numel()} class-pair counts for {num_classes} classes: pass "
                           f"C(C+1)/2 = {expected} entries (a <= b, row-major) as capped_pair_edges returns them")
    rows, cols = np.triu_indices(num_classes)
    matrix = np.zeros((num_classes, num_classes))
    matrix[rows, cols] = pair_edges.double().numpy()
    matrix[cols, rows] = matrix[rows, cols]
    return matrix


def block_edge_targets(pair_edges: Tensor, degree_totals: np.ndarray) -> np.ndarray:
    """Symmetric [C, C] expected edge counts M (M_ab = M_ba between classes a != b, M_aa inside a) with the mixing
    of `pair_edges` and the degree sums 2 M_aa + sum_{b != a} M_ab = degree_totals[a].

    Weights: W = max(pair_edges, 0) + f, with the public floor f = PAIR_FLOOR * mean(max(pair_edges, 0)) (f = 1 if
    every count is 0, which gives configuration-model mixing): the floor makes every class pair possible. In stubs,
    K = W with its diagonal doubled, and M = diag(x) W diag(x) where x >= 0 solves x_a (K x)_a = degree_totals[a]
    (x_a = 0 for classes of total 0). Symmetric iterative proportional fitting finds x: x <- sqrt(x * t / (K x)),
    the symmetric Sinkhorn-Knopp iteration (Knight 2008), run until every class's relative error is at most
    IPF_TOLERANCE or for IPF_ITERATIONS steps (hand-written: no library offers symmetric matrix scaling). If the
    totals already match the counts (t_a = 2 W_aa + sum_b W_ab), x = 1 up to the floor.

    When the totals cannot be matched with the released mixing (e.g. counts only between classes 0 and 1 but
    degree_totals[0] != degree_totals[1], or pairs with a class whose total is 0), the floored pairs absorb the
    difference: K is positive, so an exact fit exists for any positive totals (Sinkhorn 1967; symmetric by
    uniqueness) and the degree sums still match, but the mixing then departs from the counts' proportions where
    it must. Classes with total 0 get zero rows. Should the iteration stop before the tolerance (only with
    extremely uneven inputs) the last iterate is returned and the degree sums are matched only approximately."""
    totals = np.asarray(degree_totals, dtype=np.float64)
    if totals.ndim != 1 or not np.all(np.isfinite(totals)) or np.any(totals < 0):
        raise DPGraphError("degree totals must be one finite non-negative number per class: pass the sums of each "
                           "class's target degrees")
    weights = np.clip(_symmetric(pair_edges, totals.size), 0.0, None)
    weights += PAIR_FLOOR * weights.mean() if weights.any() else 1.0
    stubs = weights + np.diag(np.diag(weights))
    active = totals > 0
    scale = active.astype(np.float64)
    for _ in range(IPF_ITERATIONS):
        reach = stubs @ scale
        if np.all(np.abs(scale[active] * reach[active] - totals[active]) <= IPF_TOLERANCE * totals[active]):
            break
        scale[active] = np.sqrt(scale[active] * totals[active] / reach[active])
    return np.outer(scale, scale) * weights  # exactly symmetric


def stub_inputs(y: Tensor, degrees: np.ndarray, block_edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and int64 stub counts (target degrees) after checking them against `block_edges`, one-line refusals
    naming the fix otherwise."""
    labels, values = y.numpy(), np.asarray(degrees)
    if (values.shape != labels.shape or not np.all(np.isfinite(values)) or np.any(values < 0)
            or np.any(values != np.round(values))):
        raise DPGraphError("target degrees must be one non-negative integer per node: pass draw_degrees' output")
    num_classes = block_edges.shape[0]
    if (block_edges.shape != (num_classes, num_classes) or (labels.size and labels.max() >= num_classes)
            or np.any(block_edges < 0) or not np.all(np.isfinite(block_edges))):
        raise DPGraphError("block edge counts must be a non-negative finite [C, C] matrix covering every class of "
                           "y: pass the output of block_edge_targets")
    return labels, values.astype(np.int64)


def partner_stub_counts(stub_totals: np.ndarray, block_edges: np.ndarray) -> np.ndarray:
    """int64 [C, C]: row a splits class a's S_a stubs over partner classes b in proportion to M_ab (b != a) and
    2 M_aa (b = a), rounded by largest remainder (ties to the lower class) so each row sums to S_a exactly. A row of
    M that is all 0 gets a zero row: its stubs are left for the pool of :func:`wire_stubs`."""
    stubs = np.array(block_edges, dtype=np.float64) + np.diag(np.diag(block_edges))
    reach = stubs.sum(1, keepdims=True)
    shares = np.divide(stubs, reach, out=np.zeros_like(stubs), where=reach > 0) * stub_totals[:, None]
    counts = np.floor(shares).astype(np.int64)
    short = np.where(reach[:, 0] > 0, stub_totals - counts.sum(1), 0)
    ranks = np.argsort(np.argsort(counts - shares, axis=1, kind="stable"), axis=1)  # 0 = largest remainder
    return counts + (ranks < short[:, None])


def _class_pairs(labels: np.ndarray, stubs: np.ndarray, counts: np.ndarray,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First ends, second ends and group of each pair: class a's stubs in a random order, cut into consecutive runs
    of counts[a, b] stubs toward class b (the rest: toward the pool); a's run toward a paired half with half, a's
    run toward b with b's run toward a up to the shorter one; the surplus and odd stubs pooled, shuffled and paired
    half with half (an odd pool total leaves one stub unpaired). Groups: 0..C(C+1)/2 - 1 the class pairs a <= b in
    row-major order, C(C+1)/2 the pool; the first end of a pair of group (a, b) is in class a."""
    owners = np.repeat(np.arange(labels.size), stubs)
    order = owners[np.lexsort((rng.random(owners.size), labels[owners]))]  # stubs class by class, shuffled
    totals = np.bincount(labels, weights=stubs, minlength=counts.shape[0]).astype(np.int64)
    class_start = np.cumsum(totals) - totals
    run_start = class_start[:, None] + np.cumsum(counts, axis=1) - counts

    def run(a: int, b: int) -> np.ndarray:
        return order[run_start[a, b]:run_start[a, b] + counts[a, b]]

    firsts, seconds, groups = [], [], []
    pool = [order[class_start[a] + counts[a].sum():class_start[a] + totals[a]] for a in range(counts.shape[0])]
    for group, (a, b) in enumerate(zip(*np.triu_indices(counts.shape[0]), strict=True)):
        if a == b:
            ends, half = run(a, a), counts[a, a] // 2
            first, second, surplus = ends[:half], ends[half:2 * half], [ends[2 * half:]]
        else:
            mine, theirs = run(a, b), run(b, a)
            shorter = min(mine.size, theirs.size)
            first, second, surplus = mine[:shorter], theirs[:shorter], [mine[shorter:], theirs[shorter:]]
        firsts.append(first)
        seconds.append(second)
        groups.append(np.full(first.size, group))
        pool.extend(surplus)
    pooled = rng.permutation(np.concatenate(pool))
    half = pooled.size // 2
    firsts.append(pooled[:half])
    seconds.append(pooled[half:2 * half])
    groups.append(np.full(half, len(groups)))
    return np.concatenate(firsts), np.concatenate(seconds), np.concatenate(groups)


def _pair_keys(first: np.ndarray, second: np.ndarray, num_nodes: int) -> np.ndarray:
    """One int64 per unordered pair: min * n + max."""
    return np.minimum(first, second) * num_nodes + np.maximum(first, second)


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Mask of the `keys` found in the sorted array `sorted_keys`."""
    if sorted_keys.size == 0:
        return np.zeros(keys.shape, dtype=bool)
    return sorted_keys[np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)] == keys


def _bad_pairs(first: np.ndarray, second: np.ndarray, num_nodes: int, avoid_keys: np.ndarray) -> np.ndarray:
    """Mask of the self-loops, the repeats of an earlier pair (in position order) and the pairs in `avoid_keys`
    (sorted)."""
    keys = _pair_keys(first, second, num_nodes)
    repeated = np.ones(keys.size, dtype=bool)
    repeated[np.unique(keys, return_index=True)[1]] = False
    return (first == second) | repeated | _contains(avoid_keys, keys)


def _once(values: np.ndarray) -> np.ndarray:
    """Mask of the entries whose value occurs exactly once in `values`."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return counts[inverse] == 1


def _repair(first: np.ndarray, second: np.ndarray, group: np.ndarray, symmetric: np.ndarray, num_nodes: int,
            avoid_keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mask of the pairs still bad (:func:`_bad_pairs`) after up to REPAIR_ROUNDS rounds of double-edge swaps,
    `first` and `second` edited in place. In a round, each bad pair (u, v) (a random subset of at most a
    1 / SWAP_CANDIDATES share of all pairs, which bounds the round's memory) draws SWAP_CANDIDATES pairs (x, w) of
    its group uniformly at random, read as (w, x) with probability 1/2 where `symmetric[group]` (within a class and
    in the pool, where both ends come from the same stubs), and takes the first whose swap to (u, w), (x, v) makes
    two distinct new pairs that are not self-loops, not in `avoid_keys` and not present in the current graph; swaps
    that share a pair or a new pair with another swap of the round wait for the next round. A swap keeps every
    degree and every group's class pair (between classes the first end stays in the lower class), and only ever
    removes bad pairs."""
    group_size = np.bincount(group)
    by_group = np.argsort(group, kind="stable")
    group_start = np.cumsum(group_size) - group_size
    bad = _bad_pairs(first, second, num_nodes, avoid_keys)
    for _ in range(REPAIR_ROUNDS):
        if not bad.any():
            break
        broken = np.flatnonzero(bad)
        if broken.size > first.size // SWAP_CANDIDATES:
            broken = rng.choice(broken, first.size // SWAP_CANDIDATES, replace=False)
        home = group[broken]
        picks = (rng.random((broken.size, SWAP_CANDIDATES)) * group_size[home][:, None]).astype(np.int64)
        helpers = by_group[group_start[home][:, None] + picks]
        flip = symmetric[home][:, None] & (rng.random(helpers.shape) < 0.5)
        near, far = np.where(flip, second[helpers], first[helpers]), np.where(flip, first[helpers], second[helpers])
        mine = _pair_keys(first[broken][:, None], far, num_nodes)
        theirs = _pair_keys(near, second[broken][:, None], num_nodes)
        present = np.sort(_pair_keys(first, second, num_nodes))
        valid = ((first[broken][:, None] != far) & (near != second[broken][:, None]) & (mine != theirs)
                 & (helpers != broken[:, None]))
        for keys in (mine, theirs):
            valid &= ~_contains(present, keys) & ~_contains(avoid_keys, keys)
        found = valid.any(1)
        choice = valid.argmax(1)[found]
        broken, helpers, near, far = broken[found], helpers[found, choice], near[found, choice], far[found, choice]
        alone = (_once(np.concatenate([broken, helpers]))
                 & _once(np.concatenate([mine[found, choice], theirs[found, choice]])))
        kept = alone[:broken.size] & alone[broken.size:]
        broken, helpers = broken[kept], helpers[kept]
        first[helpers], second[helpers], second[broken] = near[kept], second[broken], far[kept]
        bad = _bad_pairs(first, second, num_nodes, avoid_keys)
    return bad


def wire_stubs(labels: np.ndarray, stubs: np.ndarray, block_edges: np.ndarray, rng: np.random.Generator,
               avoid: np.ndarray | None = None) -> np.ndarray:
    """[2, m] pairs (u, w), u != w, each at most once and none in `avoid` ([2, k] pairs already present, either
    order): a class-aware configuration model in which node u has `stubs[u]` edge ends.

    Class a's S_a stubs go to partner classes by :func:`partner_stub_counts`; each node's share of them is a
    uniformly random subset (multivariate hypergeometric, close to a multinomial for d_u << S_a), while the class
    totals are exact, so with S_a = 2 M_aa + sum_{b != a} M_ab (as :func:`block_edge_targets` fits) the ends toward
    b match the ends back up to rounding and almost nothing is pooled. The stubs are then paired uniformly at random
    group by group (:func:`_class_pairs`). Self-loops, repeated pairs and pairs in `avoid` are repaired by
    :func:`_repair`'s double-edge swaps; pairs still bad after it are dropped (and the pool's odd stub, if any), so
    node u ends with at most d_u edges, exactly d_u unless one of its stubs is dropped (hand-written: networkx's
    configuration_model is per-edge Python and not class-aware). Cost: O(S log S) per round, S the number of
    stubs."""
    totals = np.bincount(labels, weights=stubs, minlength=block_edges.shape[0]).astype(np.int64)
    first, second, group = _class_pairs(labels, stubs, partner_stub_counts(totals, block_edges), rng)
    avoid_keys = np.zeros(0, dtype=np.int64) if avoid is None else np.sort(_pair_keys(*avoid, labels.size))
    rows, cols = np.triu_indices(block_edges.shape[0])
    bad = _repair(first, second, group, np.append(rows == cols, True), labels.size, avoid_keys, rng)
    return np.stack([first[~bad], second[~bad]])


def sample_dcsbm(y: Tensor, degrees: np.ndarray, block_edges: np.ndarray, rng: np.random.Generator) -> Tensor:
    """Edge index (both directions, simple) of a degree-corrected SBM in configuration-model form: node u gets
    exactly its target degree `degrees[u]` (non-negative integers) up to the few stubs :func:`wire_stubs` drops,
    class pairs (a, b) get about M_ab edges (M = `block_edges`, M_aa inside a, as :func:`block_edge_targets` fits
    them to these degree sums). Linear cost up to logarithms; a request that would not fit in memory is refused
    before drawing."""
    labels, stubs = stub_inputs(y, degrees, block_edges)
    edges = float(stubs.sum()) / 2
    check_memory(BYTES_PER_WIRED_EDGE * edges, f"sampling a degree-corrected block model with about {edges:.3g} edges",
                 "ask for fewer nodes or lower degrees")
    return simple_undirected(torch.from_numpy(wire_stubs(labels, stubs, block_edges, rng)), labels.size)
