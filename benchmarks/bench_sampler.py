"""Time the subgraph samplers and `SubgraphSet.dense_batch` on Cora and on large synthetic SBM graphs.

Usage: python benchmarks/bench_sampler.py [--device cpu|cuda] [--repeats 3] [--sizes 100000]
Graphs: Cora through dpgraph's loader ($DPGRAPH_DATA, random 75/10/15 split, roots = training nodes), and per
``--sizes`` entry an SBM graph (10 classes, mean degree ~10, 80% of edges within a class, roots = 20k random
nodes). PyG's ``stochastic_blockmodel_graph`` (used by dpgraph's SBM dataset) enumerates all n^2/2 node pairs,
which is infeasible at 100k nodes, so the SBM edges here come from a vectorised edge-count sampler.
Samplers: ``random_walk_subgraphs`` and, when :mod:`dpgraph.sampling.ego` is importable, ``ego_subgraphs``
(skipped with a note if absent or failing). Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass

import torch
from timing import seconds_per_call
from torch import Tensor
from torch_geometric.utils import degree, remove_self_loops, to_undirected

from dpgraph.config.sections import DatasetSection
from dpgraph.data.load import load_dataset
from dpgraph.data.registry import DATASETS
from dpgraph.data.root import resolve_data_root
from dpgraph.errors import DPGraphError
from dpgraph.privacy.randomness import GeneratorRandomness
from dpgraph.sampling.random_walk import random_walk_subgraphs
from dpgraph.sampling.subgraphs import SubgraphSet

WALK = {"max_size": 32, "walk_length": 8, "restart_prob": 0.2, "walks_per_root": 8, "occurrence_bound": 16}
EGO = {"hops": 2, "fanout": 5}
SBM = {"num_classes": 10, "mean_degree": 10.0, "intra_fraction": 0.8, "num_features": 64, "num_roots": 20_000}


@dataclass(frozen=True)
class Graph:
    name: str
    x: Tensor
    edge_index: Tensor
    y: Tensor
    roots: Tensor

    @property
    def num_nodes(self) -> int:
        return self.x.size(0)


def cora(device: str) -> Graph:
    section = DatasetSection(name="cora", split="random", split_fractions=(0.75, 0.10, 0.15), split_seed=0)
    data = load_dataset(section, DATASETS.get("cora").params(), resolve_data_root()).data
    roots = data.train_mask.nonzero().flatten()
    return Graph("cora", data.x.to(device), data.edge_index.to(device), data.y.to(device), roots.to(device))


def class_members(y: Tensor, cls: Tensor, gen: torch.Generator) -> Tensor:
    """A uniform node of class ``cls[i]`` for each i, when class c is the nodes ``c, c + C, c + 2C, ...``."""
    counts = torch.bincount(y)
    return cls + counts.numel() * (torch.rand(cls.numel(), generator=gen) * counts[cls]).long()


def sbm(num_nodes: int, device: str, seed: int = 0) -> Graph:
    """m = n * mean_degree / 2 edges, each within a uniform class w.p. ``intra_fraction`` (else between two
    distinct uniform classes), endpoints uniform in their classes; duplicates and self-loops dropped.
    Features: class c's block of F // C 'topic' columns on w.p. 0.3, the others w.p. 0.03 (as dpgraph's SBM)."""
    gen = torch.Generator().manual_seed(seed)
    c, m = SBM["num_classes"], round(num_nodes * SBM["mean_degree"] / 2)
    y = torch.arange(num_nodes) % c
    src_cls = torch.randint(c, (m,), generator=gen)
    intra = torch.rand(m, generator=gen) < SBM["intra_fraction"]
    dst_cls = torch.where(intra, src_cls, (src_cls + torch.randint(1, c, (m,), generator=gen)) % c)
    edges = torch.stack([class_members(y, src_cls, gen), class_members(y, dst_cls, gen)])
    edge_index = to_undirected(remove_self_loops(edges)[0], num_nodes=num_nodes)
    block = SBM["num_features"] // c
    topic = (torch.arange(SBM["num_features"]) // block) == y.unsqueeze(1)
    x = torch.bernoulli(torch.where(topic, 0.3, 0.03), generator=gen)
    roots = torch.randperm(num_nodes, generator=gen)[: SBM["num_roots"]]
    return Graph(f"sbm-{num_nodes // 1000}k", x.to(device), edge_index.to(device), y.to(device), roots.to(device))



def samplers(graph: Graph, device: str) -> dict[str, Callable[[], SubgraphSet]]:
    """Name -> zero-argument call producing that sampler's SubgraphSet on ``graph`` (fresh seed-0 generator)."""

    def walk() -> SubgraphSet:
        gen = torch.Generator(device=device).manual_seed(0)
        return random_walk_subgraphs(graph.edge_index, graph.num_nodes, graph.roots, generator=gen, **WALK)

    calls: dict[str, Callable[[], SubgraphSet]] = {"random-walk": walk}
    try:
        from dpgraph.sampling.ego import ego_subgraphs
    except ImportError:
        return calls
    max_degree = int(degree(graph.edge_index[0], graph.num_nodes).max())

    def ego() -> SubgraphSet:
        keys = GeneratorRandomness(torch.Generator(device=device).manual_seed(0))
        return ego_subgraphs(graph.edge_index, graph.num_nodes, graph.roots, randomness=keys, max_degree=max_degree,
                             **EGO)

    calls["ego"] = ego
    return calls


def bench(name: str, call: Callable[[], SubgraphSet], graph: Graph, device: str, repeats: int) -> dict:
    sample_s = seconds_per_call(call, device, repeats)
    result = call()
    dense_s = seconds_per_call(lambda: result.dense_batch(graph.x, graph.edge_index, graph.y), device, repeats)
    stats = result.stats(graph.num_nodes)
    return {"sampler": name, "graph": graph.name, "device": device, "num_nodes": graph.num_nodes,
            "num_edges": graph.edge_index.size(1), "num_subgraphs": len(result), "max_size": result.max_size,
            "mean_size": stats["mean_size"], "sample_s": sample_s, "subgraphs_per_s": len(result) / sample_s,
            "subgraph_nodes_per_s": int(result.sizes().sum()) / sample_s, "dense_batch_s": dense_s,
            "max_occurrence": stats["max_occurrence"], "occurrence_bound": result.occurrence_bound}


def print_table(rows: list[dict]) -> None:
    print(f"{'sampler':<12} {'graph':<9} {'device':<6} {'N':>6} {'S':>3} {'mean |V|':>8} {'subgraphs/s':>12} "
          f"{'sub-nodes/s':>12} {'dense-batch s':>13} {'max occ':>7} {'K':>6}")
    for r in rows:
        if "error" in r:
            print(f"{r['sampler']:<12} {r['graph']:<9} {r['device']:<6} skipped: {r['error']}")
            continue
        print(f"{r['sampler']:<12} {r['graph']:<9} {r['device']:<6} {r['num_subgraphs']:>6} {r['max_size']:>3} "
              f"{r['mean_size']:>8.2f} {r['subgraphs_per_s']:>12.0f} {r['subgraph_nodes_per_s']:>12.0f} "
              f"{r['dense_batch_s']:>13.3f} {r['max_occurrence']:>7} {r['occurrence_bound']:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000], help="SBM node counts")
    args = parser.parse_args()
    graphs = [sbm(n, args.device) for n in args.sizes]
    try:
        graphs.insert(0, cora(args.device))
    except DPGraphError as error:
        print(f"cora skipped: {error}")
    rows = []
    for graph in graphs:
        for name, call in samplers(graph, args.device).items():
            try:
                rows.append(bench(name, call, graph, args.device, args.repeats))
            except Exception as error:  # a sampler still being written must not sink the others
                rows.append({"sampler": name, "graph": graph.name, "device": args.device,
                             "error": f"{type(error).__name__}: {error}"})
    print(f"device={args.device} repeats={args.repeats} threads={torch.get_num_threads()} torch={torch.__version__} "
          f"python={platform.python_version()}")
    print(f"random-walk: {WALK}; ego: {EGO} (max_degree = the graph's own, non-private); sbm: {SBM}")
    print_table(rows)
    print(json.dumps({"benchmark": "sampler", "device": args.device, "walk": WALK, "ego": EGO, "sbm": SBM,
                      "rows": rows}))


if __name__ == "__main__":
    main()
