"""`SeedStack`: S independent copies of one evaluation model (one per training seed), run as one batched model.

Copy s holds its own weights (index s of every stacked parameter) and draws its initialisation and dropout masks from
its own generator, seeded with seed s alone; the copies share only the arithmetic: one product for the first layer,
one sparse propagation of all copies' states side by side. Summing the copies' losses gives each copy exactly its own
gradient, and Adam and weight decay act elementwise, so training the stack is training each copy alone. Rows are
computed only where the output rows read them (`receptive_field`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import torch
from torch import Tensor
from torch_geometric.data import Data

from dpgraph.evaluation.dropout import dropout_relu_, keep_scale
from dpgraph.evaluation.models import build_model
from dpgraph.graphops import prepare_features, sparse_adjacency
from dpgraph.graphops.conv_operators import gcn_operator, mean_operator
from dpgraph.graphops.receptive import SparseBlock, csr_rows, receptive_field


@dataclass(frozen=True)
class Spec:
    """A model as layers: `fixed_hops` weightless GCN propagations of the input (no dropout), then `layers`, each
    ``linear`` (h W + b), ``gcn`` (Â h W + b) or ``sage`` (mean_{j in N(i)} h_j W + h_i W_root + b), with ReLU between
    them, and dropout on the input and hidden layers when `dropout`. `prefixes` name the layers in `build_model`."""

    layers: tuple[str, ...]
    prefixes: tuple[str, ...]
    fixed_hops: int = 0
    dropout: bool = True


SPECS: dict[str, Spec] = {
    "gcn": Spec(("gcn", "gcn"), ("layer1", "layer2")),
    "sage": Spec(("sage", "sage"), ("layer1", "layer2")),
    "mlp": Spec(("linear", "linear"), ("layer1", "layer2")),
    "sgc": Spec(("linear",), ("conv.lin",), fixed_hops=2, dropout=False),
}

# build_model's parameter names per layer kind: (weight, bias, root weight); weights stored [out, in] there.
_KEYS = {
    "linear": ("{}.weight", "{}.bias", None),
    "gcn": ("{}.lin.weight", "{}.bias", None),
    "sage": ("{}.lin_l.weight", "{}.lin_l.bias", "{}.lin_r.weight"),
}


class GraphView:
    """A graph as the evaluation models read it: prepared features and the sparse operators, each built once
    (``gcn``: `gcn_operator`, ``sage``: `mean_operator` of `sparse_adjacency`)."""

    def __init__(self, data: Data, normalize_features: bool, device: torch.device):
        self.x = prepare_features(data.x, normalize_features).to(device)
        self.adj_t = sparse_adjacency(data.edge_index.to(device), data.num_nodes)

    @cached_property
    def gcn(self) -> Tensor:
        return gcn_operator(self.adj_t)

    @cached_property
    def sage(self) -> Tensor:
        return mean_operator(self.adj_t)

    @cached_property
    def sparse_x(self) -> Tensor | None:
        """The features as CSR when under a quarter of the entries are non-zero, else None."""
        return None if 4 * int(self.x.count_nonzero()) > self.x.numel() else self.x.to_sparse_csr()


@dataclass(frozen=True)
class SeedDiagonal:
    """Sparse inputs of S copies as one CSR [S * rows, S * d]: row s * rows + i holds copy s's row i in columns
    s * d to s * d + d - 1, so one product with the stacked weights [S * d, d_out] gives every copy's h_s W_s as
    [S, rows, d_out]."""

    block: SparseBlock

    @classmethod
    def of(cls, features: Tensor, copies: int) -> SeedDiagonal:
        rows, width = features.shape
        crow, col = features.crow_indices(), features.col_indices()
        seed = torch.arange(copies, device=col.device).repeat_interleave(col.numel())
        crow = torch.cat([crow.new_zeros(1), torch.cumsum(crow.diff().repeat(copies), 0)])
        matrix = torch.sparse_csr_tensor(crow, col.repeat(copies) + seed * width, features.values().repeat(copies),
                                         (rows * copies, width * copies))
        return cls(SparseBlock(matrix))

    def with_values(self, values: Tensor) -> SeedDiagonal:
        """The same pattern carrying the copies' values [S, nnz]."""
        return SeedDiagonal(self.block.with_values(values.flatten()))


# A layer's input: dense [rows, d] shared by the copies or [S, rows, d], one slice per copy (any memory layout);
# sparse shared (SparseBlock) or per copy (SeedDiagonal).
Hidden = Tensor | SparseBlock | SeedDiagonal


@dataclass(frozen=True)
class Plan:
    """What a `SeedStack` computes for output rows `targets` of one graph: the first layer's input on its receptive
    field (dense, or sparse), and per layer the operator block from its input rows to its output rows (None: no
    propagation) and the output rows' positions among the input rows (sage)."""

    targets: Tensor
    dense: Tensor | None
    sparse: SparseBlock | None
    blocks: tuple[SparseBlock | None, ...]
    roots: tuple[Tensor | None, ...]
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, graph: GraphView, spec: Spec, hidden: int, targets: Tensor) -> Plan:
        """Rows R_L = targets back to R_0, through the fixed hops and the layers. The features stay dense when there
        are at most `hidden` of them (then they are propagated before the first weight) or they are dense."""
        kinds = ("gcn",) * spec.fixed_hops + spec.layers
        rows = [targets]
        for kind in reversed(kinds):
            rows.insert(0, rows[0] if kind == "linear" else receptive_field(getattr(graph, kind), rows[0]))
        steps = list(zip(kinds, rows[:-1], rows[1:], strict=True))
        blocks = tuple(None if kind == "linear" else SparseBlock(csr_rows(getattr(graph, kind), out, inp))
                       for kind, inp, out in steps)
        roots = tuple(torch.searchsorted(inp, out) if kind == "sage" else None for kind, inp, out in steps)
        sparse = graph.sparse_x if spec.fixed_hops == 0 and graph.x.size(1) > hidden else None
        if sparse is not None:
            return cls(targets, None, SparseBlock(csr_rows(sparse, rows[0])), blocks, roots)
        dense = graph.x[rows[0]]
        for block in blocks[:spec.fixed_hops]:
            dense = block.matrix @ dense
        return cls(targets, dense, None, blocks[spec.fixed_hops:], roots[spec.fixed_hops:])

    def seed_diagonal(self, copies: int) -> SeedDiagonal:
        """The sparse input's pattern for `copies` copies (built on first use)."""
        key = ("diagonal", copies)
        if key not in self._cache:
            self._cache[key] = SeedDiagonal.of(self.sparse.matrix, copies)
        return self._cache[key]

    def dropout_buffer(self, copies: int) -> tuple[Tensor, Tensor, Tensor]:
        """(zeros [rows, S * d], flat positions [S, nnz] of copy s's non-zero inputs in it, their values [nnz]): the
        dense input of S copies, rewritten in place at the same positions on every step (built on first use)."""
        key = ("buffer", copies)
        if key not in self._cache:
            rows, width = self.dense.shape
            node, col = self.dense.nonzero(as_tuple=True)
            offsets = torch.arange(copies, device=col.device).unsqueeze(1) * width
            positions = node * (copies * width) + col + offsets
            buffer = torch.zeros(rows, copies * width, device=self.dense.device)
            self._cache[key] = (buffer, positions, self.dense[node, col])
        return self._cache[key]


def _uniform(generator: torch.Generator, shape: tuple[int, ...], bound: float) -> Tensor:
    return torch.empty(shape, device=generator.device).uniform_(-bound, bound, generator=generator)


class SeedStack(torch.nn.Module):
    """Copies of model `name` for `seeds`, initialised like `build_model`'s layers: GCN weights Glorot-uniform with
    zero bias, linear and SAGE weights and biases U(-1/sqrt(in), 1/sqrt(in)). Copy s draws its initialisation and then
    its dropout masks from ``torch.Generator().manual_seed(seeds[s])``, so it does not depend on the other seeds.
    Logits come as [S, targets, classes]."""

    def __init__(self, name: str, in_channels: int, num_classes: int, hidden: int, dropout: float,
                 seeds: Sequence[int], device: torch.device):
        super().__init__()
        self.name, self.spec, self.p = name, SPECS[name], dropout
        self.dims = (in_channels, hidden, num_classes)
        self.generators = [torch.Generator(device).manual_seed(int(s)) for s in seeds]
        self._scratch: dict[tuple, Tensor] = {}
        widths = [in_channels] + [hidden] * (len(self.spec.layers) - 1) + [num_classes]
        self.weights, self.biases, self.root_weights = (torch.nn.ParameterList() for _ in range(3))
        for kind, d_in, d_out in zip(self.spec.layers, widths[:-1], widths[1:], strict=True):
            draws = [self._init(g, kind, d_in, d_out) for g in self.generators]
            self.weights.append(torch.stack([w for w, _, _ in draws]))
            self.biases.append(torch.stack([b for _, b, _ in draws]))
            if kind == "sage":
                self.root_weights.append(torch.stack([r for _, _, r in draws]))

    @staticmethod
    def _init(g: torch.Generator, kind: str, d_in: int, d_out: int) -> tuple[Tensor, Tensor, Tensor | None]:
        if kind == "gcn":
            glorot = math.sqrt(6.0 / (d_in + d_out))
            return _uniform(g, (d_in, d_out), glorot), torch.zeros(d_out, device=g.device), None
        bound = 1.0 / math.sqrt(d_in)
        weight, bias = _uniform(g, (d_in, d_out), bound), _uniform(g, (d_out,), bound)
        return weight, bias, _uniform(g, (d_in, d_out), bound) if kind == "sage" else None

    @property
    def num_seeds(self) -> int:
        return len(self.generators)

    def _dropping(self) -> bool:
        return self.training and self.spec.dropout and self.p > 0

    def _keep(self, shape: tuple[int, ...], seed_dim: int = 0) -> Tensor:
        """[S, *shape]: copy s's dropout scales (`keep_scale`), drawn from its own generator, stored with the copies
        along `seed_dim` (1: laid out like a [rows, S, d] tensor). The storage is reused by the next call for the same
        shape, so the result must be consumed before then (nothing keeps it for a backward pass)."""
        key = (shape, seed_dim)
        if key not in self._scratch:
            size = shape[:seed_dim] + (self.num_seeds,) + shape[seed_dim:]
            self._scratch[key] = torch.empty(size, device=self.weights[0].device)
        keep = self._scratch[key]
        for s, g in enumerate(self.generators):
            keep_scale(shape, self.p, g, out=keep.select(seed_dim, s))
        return keep.transpose(0, 1) if seed_dim else keep

    def _input(self, plan: Plan) -> Hidden:
        """The first layer's input, dropout applied to its non-zero entries (zeros stay zero either way)."""
        if not self._dropping():
            return plan.sparse if plan.dense is None else plan.dense
        if plan.dense is None:
            values = plan.sparse.matrix.values()
            return plan.seed_diagonal(self.num_seeds).with_values(self._keep(values.shape) * values)
        buffer, positions, values = plan.dropout_buffer(self.num_seeds)
        buffer.view(-1)[positions] = self._keep(values.shape).mul_(values)
        rows, width = plan.dense.shape
        return buffer.view(rows, self.num_seeds, width).transpose(0, 1)

    @staticmethod
    def _transform(h: Hidden, weight: Tensor, bias: Tensor | None = None) -> Tensor:
        """Every copy's ``h_s @ weight[s] (+ bias[s])``: [S, rows, d_out]."""
        s, d_in, d_out = weight.shape
        if isinstance(h, Tensor) and h.dim() == 3:
            return torch.bmm(h, weight) if bias is None else torch.baddbmm(bias.unsqueeze(1), h, weight)
        if isinstance(h, SeedDiagonal):
            out = h.block.apply(weight.reshape(s * d_in, d_out)).view(s, -1, d_out)
        else:
            wide = weight.transpose(0, 1).reshape(d_in, s * d_out)
            out = (h.apply(wide) if isinstance(h, SparseBlock) else h @ wide).view(-1, s, d_out).transpose(0, 1)
        return out if bias is None else out + bias.unsqueeze(1)

    @staticmethod
    def _propagate(block: SparseBlock, h: Tensor) -> Tensor:
        """``block @ h`` for a shared [rows, d] or per-copy [S, rows, d] dense `h`."""
        if h.dim() == 2:
            return block.apply(h)
        s, rows, d = h.shape
        return block.apply(h.transpose(0, 1).reshape(rows, s * d)).view(-1, s, d).transpose(0, 1)

    def _root(self, h: Hidden, layer: int, rows: Tensor) -> Tensor:
        """sage's ``h_i W_root`` for the output rows, at positions `rows` of the input rows."""
        weight = self.root_weights[layer]
        if isinstance(h, Tensor):
            return self._transform(h[..., rows, :], weight)
        return self._transform(h, weight)[:, rows]

    def _layer(self, h: Hidden, plan: Plan, layer: int) -> Tensor:
        weight, bias, block = self.weights[layer], self.biases[layer], plan.blocks[layer]
        if block is None:
            return self._transform(h, weight, bias)
        if isinstance(h, Tensor) and weight.size(1) <= weight.size(2):  # propagate the narrower side
            out = self._transform(self._propagate(block, h), weight, bias)
        else:
            out = self._propagate(block, self._transform(h, weight)) + bias.unsqueeze(1)
        if plan.roots[layer] is not None:
            out = out + self._root(h, layer, plan.roots[layer])
        return out

    def forward(self, plan: Plan) -> Tensor:
        """Logits [S, targets, classes] of every copy (dropout drawn in training mode)."""
        h: Hidden = self._input(plan)
        for layer in range(len(self.weights)):
            h = self._layer(h, plan, layer)
            if layer + 1 < len(self.weights):
                if self._dropping():  # in place on the fresh pre-activation
                    h = dropout_relu_(h, self._keep(h.shape[1:], seed_dim=int(h.stride(0) < h.stride(1))), self.p)
                else:
                    h = h.relu_()
        return h

    def module(self, index: int) -> torch.nn.Module:
        """Copy `index` as `build_model`'s module (same logits on any graph), in eval mode."""
        in_channels, hidden, num_classes = self.dims
        model = build_model(self.name, in_channels, num_classes, hidden, self.p)
        state = {}
        for layer, (kind, prefix) in enumerate(zip(self.spec.layers, self.spec.prefixes, strict=True)):
            weight_key, bias_key, root_key = (key and key.format(prefix) for key in _KEYS[kind])
            state[weight_key] = self.weights[layer][index].detach().T
            state[bias_key] = self.biases[layer][index].detach()
            if root_key:
                state[root_key] = self.root_weights[layer][index].detach().T
        model.load_state_dict(state)
        return model.eval()
