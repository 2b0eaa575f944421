"""The base class of the aggregators: constructor, input checks, flags, relational sum."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import MessagePassing

from mmgraph.errors import InputError
from mmgraph.nn.functional import is_sparse, sparse_linear
from mmgraph.resolver import (
    InputTypeError,
    check_finite,
    check_input_dtype,
    check_positive_int,
    sparse_adjacency_message,
)

_FINITE_FIX = (
    "fill or drop them in the input features (a modality some nodes lack is marked absent, "
    "not NaN); in a model that trained for some epochs, they come from diverging weights: "
    "lower 'lr' or set 'grad_clip'"
)

_INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _check_per_edge(value: object, name: str, num_edges: int, layer: str, integer: bool) -> None:
    """Check a per-edge tensor ``[E]``: integers (relations) or floats (weights)."""
    kind, unit = ("an integer", "relation") if integer else ("a floating point", "weight")
    if not isinstance(value, Tensor) or (
        value.dtype not in _INT_DTYPES if integer else not value.is_floating_point()
    ):
        got = value.dtype if isinstance(value, Tensor) else type(value).__name__
        hint = (
            "; an edge weight goes in edge_weight= (the third argument of mmgraph's layers is "
            "edge_type, where PyG's GCNConv takes the weight)"
            if integer and isinstance(value, Tensor) and value.is_floating_point()
            else ""
        )
        raise TypeError(f"Expected '{name}' of {layer} to be {kind} tensor (got '{got}'){hint}")
    if value.dim() != 1 or value.numel() != num_edges:
        raise ValueError(
            f"Expected '{name}' of {layer} to have shape [{num_edges}], one {unit} per edge "
            f"(got {list(value.shape)})"
        )


def check_graph_inputs(
    x: Tensor,
    edge_index: Tensor,
    edge_type: Tensor | None = None,
    edge_weight: Tensor | None = None,
    *,
    in_channels: int,
    num_relations: int = 1,
    nonnegative_weights: bool = False,
    layer: str = "layer",
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """Check the inputs of an aggregator and return them in canonical form.

    ``edge_index`` and ``edge_type`` come back as ``int64``, ``edge_weight`` in the dtype of
    ``x``; ``edge_type`` comes back as :obj:`None` when ``num_relations == 1``.

    Args:
        x (torch.Tensor): Node features ``[N, in_channels]``, floating point.
        edge_index (torch.Tensor): Edges ``[2, E]`` (source row, target row), integers in
            ``[0, N)``.
        edge_type (torch.Tensor, optional): Relation of each edge ``[E]``, integers in
            ``[0, num_relations)``; required when ``num_relations > 1``. (default: :obj:`None`)
        edge_weight (torch.Tensor, optional): Weight of each edge ``[E]``, finite floats.
            (default: :obj:`None`)
        in_channels (int): The expected feature size of ``x``.
        num_relations (int, optional): The number of relations. (default: :obj:`1`)
        nonnegative_weights (bool, optional): Reject negative edge weights (for layers that
            normalise by a weighted degree). (default: :obj:`False`)
        layer (str, optional): Name of the calling layer, for error messages.
            (default: :obj:`"layer"`)

    Raises:
        TypeError: An input is not a tensor or has the wrong dtype.
        ValueError: An input has the wrong shape or values out of range.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"Expected 'x' of {layer} to be a torch.Tensor (got {type(x).__name__!r})")
    if not x.is_floating_point():
        raise TypeError(
            f"Expected 'x' of {layer} to be of floating point type (got '{x.dtype}'); "
            "convert it with x.float()"
        )
    if x.dim() != 2 or x.size(1) != in_channels:
        raise ValueError(
            f"Expected 'x' of {layer} to have shape [N, {in_channels}] (got {list(x.shape)})"
        )
    num_nodes = x.size(0)
    if not isinstance(edge_index, Tensor):
        raise TypeError(
            f"Expected 'edge_index' of {layer} to be a torch.Tensor of shape [2, E] "
            f"(got {type(edge_index).__name__!r}); sparse adjacency formats are not supported"
        )
    if edge_index.layout != torch.strided:
        raise TypeError(sparse_adjacency_message(edge_index, f"'edge_index' of {layer}"))
    if edge_index.dtype not in _INT_DTYPES:
        raise TypeError(
            f"Expected 'edge_index' of {layer} to be of integer type (got '{edge_index.dtype}'); "
            "convert it with edge_index.long()"
        )
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(
            f"Expected 'edge_index' of {layer} to have shape [2, E] (got {list(edge_index.shape)})"
        )
    edge_index = edge_index.long()
    num_edges = edge_index.size(1)
    if num_edges > 0:
        low, high = (int(v) for v in torch.aminmax(edge_index))
        if low < 0 or high >= num_nodes:
            raise ValueError(
                f"Expected 'edge_index' of {layer} to hold node indices in [0, {num_nodes}) "
                f"as 'x' has {num_nodes} rows (got values in [{low}, {high}])"
            )

    if edge_type is None:
        if num_relations > 1:
            raise ValueError(
                f"Expected 'edge_type' for {layer} with num_relations={num_relations} "
                "(got None); pass the relation of every edge"
            )
    else:
        _check_per_edge(edge_type, "edge_type", num_edges, layer, integer=True)
        if num_edges > 0:
            low, high = (int(v) for v in torch.aminmax(edge_type))
            if low < 0 or high >= num_relations:
                raise ValueError(
                    f"Expected 'edge_type' of {layer} in [0, {num_relations}) for "
                    f"num_relations={num_relations} (got values in [{low}, {high}]); "
                    "build the layer with a larger num_relations"
                )
        edge_type = edge_type.long() if num_relations > 1 else None

    if edge_weight is not None:
        _check_per_edge(edge_weight, "edge_weight", num_edges, layer, integer=False)
        if num_edges > 0:
            if not bool(torch.isfinite(edge_weight).all()):
                raise ValueError(f"Expected finite 'edge_weight' for {layer} (got NaN or inf)")
            if nonnegative_weights and bool((edge_weight < 0).any()):
                raise ValueError(
                    f"Expected non-negative 'edge_weight' for {layer}, which normalises by the "
                    f"weighted degree (got minimum {float(edge_weight.min())})"
                )
        edge_weight = edge_weight.to(x.dtype)
    return edge_index, edge_type, edge_weight


def check_num_targets(
    num_targets: int | None, num_nodes: int, edge_index: Tensor, layer: str = "layer"
) -> int:
    """Check ``num_targets`` (outputs for the first ``T`` of ``N`` rows); return ``T``.

    Every edge must point into the first ``T`` rows (``edge_index[1] < T``), as the edges of
    a trimmed sampled batch do (:mod:`mmgraph.nn.trim`); :obj:`None` means all ``N`` rows.
    """
    if num_targets is None:
        return num_nodes
    if isinstance(num_targets, bool) or not isinstance(num_targets, int):
        raise TypeError(
            f"Expected 'num_targets' of {layer} to be an int (got {type(num_targets).__name__!r})"
        )
    if not 0 <= num_targets <= num_nodes:
        raise ValueError(
            f"Expected 'num_targets' of {layer} in [0, {num_nodes}] (the rows of 'x') "
            f"(got {num_targets})"
        )
    if edge_index.size(1) > 0 and int(edge_index[1].max()) >= num_targets:
        raise ValueError(
            f"Expected every edge of {layer} to point into the first num_targets={num_targets} "
            f"rows (got a target {int(edge_index[1].max())}); keep only the edges into the "
            "target rows (mmgraph.nn.trim.layer_slice) or leave 'num_targets' out"
        )
    return num_targets


def self_loops(num_nodes: int, device: torch.device) -> Tensor:
    """Return the self-loop edges ``[[0, 1, ..., N-1], [0, 1, ..., N-1]]``."""
    loop = torch.arange(num_nodes, device=device)
    return torch.stack([loop, loop])


class RelationalConv(MessagePassing):
    r"""Base of the aggregators: one constructor, one ``forward``, shared checks and flags.

    Every aggregator (:class:`~mmgraph.nn.MeanConv`, :class:`~mmgraph.nn.GCNConv`,
    :class:`~mmgraph.nn.GGNNConv`, :class:`~mmgraph.nn.GINConv`, or one of yours) subclasses
    it and keeps its interface:

    * ``__init__(in_channels, out_channels, num_relations=1, *, <layer options>)``; a layer
      of yours may pass options of :class:`~torch_geometric.nn.conv.MessagePassing` (such
      as ``aggr="max"`` for its ``propagate``) on to this constructor. The built-in layers
      take none: they aggregate with :meth:`relational_sum`, whatever ``aggr`` would say;
      messages always flow from ``edge_index[0]`` to ``edge_index[1]``;
    * ``forward(x, edge_index, edge_type=None, edge_weight=None, *, num_targets=None,
      deg=None)``: ``num_targets`` asks for the outputs of the first ``T`` rows only
      (``[T, F_out]``, every edge pointing into them: a trimmed sampled batch,
      :mod:`mmgraph.nn.trim`); ``deg`` is read by layers with :attr:`needs_degree` and
      ignored by the others;
    * :meth:`check_inputs` at the start of ``forward``: the checks and error messages of
      :func:`check_graph_inputs` and :func:`check_num_targets`, once for all layers;
    * class-level capability flags, read by :class:`~mmgraph.nn.GNNStack` and layer-wise
      inference instead of the layer's type or name (as PyG's ``BasicGNN`` reads
      ``supports_edge_weight``).

    Register a new layer with one line, ``AGGREGATORS["name"] = MyConv``.

    :meth:`relational_sum` computes, for target node :math:`v`,

    .. math::
        \mathbf{m}_v = \sum_{r=1}^{R} \sum_{u \in \mathcal{N}_r(v)} c_{uv}\,
        \mathbf{W}_r \mathbf{h}_u,

    where :math:`c_{uv}` is a per-edge coefficient (an edge weight, a mean or a GCN
    normalisation; :math:`1` when absent). It transforms before gathering when that is cheaper
    (output not wider than input, or a sparse input) and aggregates before transforming
    otherwise; both orders compute the same sum. All relations are handled by one matrix
    product and one gather/scatter: relation :math:`r` of node :math:`u` is row :math:`uR + r`
    of the transformed features (or of the aggregated ones). Weights are stored as
    :class:`~torch.nn.Linear` stores them, ``[F_out, F_in]`` per relation.

    Args:
        in_channels (int): Size of each input feature vector.
        out_channels (int): Size of each output feature vector.
        num_relations (int, optional): Number of relations (edge types) :math:`R`.
            (default: :obj:`1`)
        **kwargs (optional): Arguments of :class:`torch_geometric.nn.conv.MessagePassing`
            for a subclass's own ``propagate`` (``aggr`` defaults to ``"add"``); ``flow``
            can only be ``"source_to_target"``, the direction :meth:`check_inputs`,
            ``num_targets`` and the degrees read.

    Shapes:
        - **input:** node features :math:`(N, F_{in})`, edge indices :math:`(2, E)`,
          edge types :math:`(E)` *(required when R > 1)*, edge weights :math:`(E)`
          *(optional)*, degrees :math:`(N)` *(optional, for* :attr:`needs_degree` *layers)*
        - **output:** node features :math:`(N, F_{out})` (:math:`(T, F_{out})` with
          ``num_targets``)
    """

    supports_edge_weight: ClassVar[bool] = True
    """The layer scales messages by ``edge_weight``."""
    nonnegative_edge_weight: ClassVar[bool] = False
    """The layer normalises by a weighted degree, so :meth:`check_inputs` rejects negative
    edge weights."""
    supports_edge_type: ClassVar[bool] = True
    """The layer has one weight per relation (``num_relations > 1`` reads ``edge_type``)."""
    supports_sparse_input: ClassVar[bool] = False
    """``x`` may be a sparse CSR tensor (a wide bag of words); callers densify it otherwise."""
    supports_num_targets: ClassVar[bool] = True
    """``forward`` takes ``num_targets``; callers slice the output of a layer without it."""
    needs_degree: ClassVar[bool] = False
    """``forward`` reads ``deg``, the :meth:`degree` of the whole graph, when it runs on a part
    of it (a trimmed batch, a chunk of layer-wise inference) to give the whole graph's
    outputs; callers compute it once with :meth:`degree` and pass ``deg=``."""
    recurrent: ClassVar[bool] = False
    """One layer serves all the layers of a stack: built with ``num_steps=num_layers``, it
    has ``project(x)`` (input to state) and ``step(t, h, edge_index, edge_type,
    edge_weight, *, num_targets=None, deg=None)``, and :class:`~mmgraph.nn.GNNStack` applies
    no activation between its steps."""

    def __init__(
        self, in_channels: int, out_channels: int, num_relations: int = 1, **kwargs: Any
    ) -> None:
        kwargs.setdefault("aggr", "add")
        flow = kwargs.get("flow", "source_to_target")
        if flow != "source_to_target":
            raise InputError(
                f"{type(self).__name__} passes messages from edge_index[0] to edge_index[1] "
                f"only (got flow={flow!r}): flip the edges instead, edge_index.flip(0)"
            )
        super().__init__(**kwargs)
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.num_relations = check_positive_int(num_relations, "num_relations")

    def optional_parameter(
        self, name: str, *shape: int, create: bool, argument: str | None = None
    ) -> None:
        """Register the parameter ``name`` of ``shape`` (uninitialised), or :obj:`None`.

        Raises:
            InputTypeError: ``create`` (the constructor's ``argument``, by default ``name``)
                is not a bool.
        """
        if not isinstance(create, bool):
            raise InputTypeError(
                f"Expected '{argument or name}' of {type(self).__name__} to be True or False "
                f"(got {create!r})"
            )
        self.register_parameter(name, torch.nn.Parameter(torch.empty(*shape)) if create else None)

    def check_inputs(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor | None = None,
        edge_weight: Tensor | None = None,
        num_targets: int | None = None,
        *,
        in_channels: int | None = None,
    ) -> tuple[Tensor, Tensor | None, Tensor | None, int]:
        """Check the inputs of ``forward`` (:func:`check_graph_inputs`, :func:`check_num_targets`).

        Args:
            x (torch.Tensor): Node features ``[N, F_in]``.
            edge_index (torch.Tensor): Edges ``[2, E]``.
            edge_type (torch.Tensor, optional): Relations ``[E]``. (default: :obj:`None`)
            edge_weight (torch.Tensor, optional): Edge weights ``[E]``. (default: :obj:`None`)
            num_targets (int, optional): Output rows wanted. (default: :obj:`None`: all)
            in_channels (int, optional): The expected width of ``x``.
                (default: :obj:`None`: :attr:`in_channels`)

        Returns:
            ``(edge_index, edge_type, edge_weight, num_out)`` in canonical form, ``num_out``
            the number of output rows (``num_targets``, else ``N``).
        """
        layer = type(self).__name__
        edge_index, edge_type, edge_weight = check_graph_inputs(
            x,
            edge_index,
            edge_type,
            edge_weight,
            in_channels=self.in_channels if in_channels is None else in_channels,
            num_relations=self.num_relations,
            nonnegative_weights=self.nonnegative_edge_weight,
            layer=layer,
        )
        check_input_dtype(x, self)
        check_finite(x, "x", layer, fix=_FINITE_FIX)
        num_out = check_num_targets(num_targets, x.size(0), edge_index, layer)
        return edge_index, edge_type, edge_weight, num_out

    def degree(
        self,
        edge_index: Tensor,
        edge_weight: Tensor | None,
        num_nodes: int,
        dtype: torch.dtype = torch.float32,
    ) -> Tensor:
        """The ``deg`` ``[N]`` that a :attr:`needs_degree` layer reads, for the whole graph.

        Raises:
            NotImplementedError: The layer does not read degrees.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not read degrees (needs_degree=False); "
            "override `degree` when you set needs_degree=True"
        )

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor | None = None,
        edge_weight: Tensor | None = None,
        *,
        num_targets: int | None = None,
        deg: Tensor | None = None,
    ) -> Tensor:
        """Apply the layer (subclasses implement it; see the class docstring)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def message(self, x_j: Tensor, edge_weight: Tensor | None) -> Tensor:
        """Scale each gathered source row by its edge coefficient."""
        return x_j if edge_weight is None else edge_weight.view(-1, 1) * x_j

    def relational_sum(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor | None,
        edge_weight: Tensor | None,
        weight: Tensor,
        num_targets: int | None = None,
        root: Tensor | None = None,
    ) -> Tensor:
        r"""Return :math:`\sum_r \sum_{u \in N_r(v)} c_{uv} W_r h_u` (:math:`+ B h_v`) per node.

        A sparse CSR ``x`` (a bag of words) is transformed first, by one sparse-dense
        product with every relation's weight (and ``root``) stacked
        (:func:`~mmgraph.nn.functional.sparse_linear`).

        Args:
            x (torch.Tensor): Node features ``[N, F_in]``, dense or sparse CSR.
            edge_index (torch.Tensor): Edges ``[2, E]`` (int64).
            edge_type (torch.Tensor, optional): Relations ``[E]`` in ``[0, R)``; :obj:`None`
                means relation ``0`` for every edge.
            edge_weight (torch.Tensor, optional): Coefficients ``[E]``.
            weight (torch.Tensor): Per-relation weights ``[R, F_out, F_in]``.
            num_targets (int, optional): Compute the sums for the first ``T`` nodes only
                (every edge must point into them, see :func:`check_num_targets`).
                (default: :obj:`None`: all ``N``)
            root (torch.Tensor, optional): A self weight ``[F_out, F_in]`` :math:`B`, whose
                term :math:`B h_v` is added. (default: :obj:`None`)

        Returns:
            torch.Tensor: ``[N, F_out]`` (``[T, F_out]`` with ``num_targets``).
        """
        num_nodes = x.size(0)
        num_out = num_nodes if num_targets is None else num_targets
        num_rel, fout, fin = weight.shape
        rel = 1 if num_rel == 1 or edge_type is None else num_rel
        if is_sparse(x):  # a wide, mostly-zero input: one sparse-dense product first
            stacked = weight[:rel].reshape(rel * fout, fin)
            if root is not None:
                stacked = torch.cat([stacked, root])
            xw = sparse_linear(x, stacked)
            messages = xw if root is None else xw[:, : rel * fout]
            out = self._gather(messages, edge_index, edge_type, edge_weight, rel, num_out)
            return out if root is None else out + xw[:num_out, rel * fout :]
        if fout <= fin:
            # Row u * R + r holds W_r h_u.
            xw = F.linear(x, weight[0] if rel == 1 else weight.reshape(rel * fout, fin))
            out = self._gather(xw, edge_index, edge_type, edge_weight, rel, num_out)
        elif rel == 1:
            size = (num_nodes, num_out)
            agg = self.propagate(edge_index, x=x, edge_weight=edge_weight, size=size)
            out = F.linear(agg, weight[0])
        else:
            # Row v * R + r holds the relation-r sum into v; then one product with all W_r.
            assert edge_type is not None  # rel > 1 only with edge types
            index = torch.stack([edge_index[0], edge_index[1] * rel + edge_type])
            agg = self.propagate(
                index, x=x, edge_weight=edge_weight, size=(num_nodes, num_out * rel)
            )
            out = F.linear(
                agg.view(num_out, rel * fin), weight.transpose(0, 1).reshape(fout, rel * fin)
            )
        return out if root is None else out + F.linear(x[:num_out], root)

    def _gather(
        self,
        xw: Tensor,
        edge_index: Tensor,
        edge_type: Tensor | None,
        edge_weight: Tensor | None,
        rel: int,
        num_out: int,
    ) -> Tensor:
        """Sum the transformed rows ``xw`` ``[N, R F_out]`` (row ``u`` holds every ``W_r h_u``)."""
        num_nodes = xw.size(0)
        if rel == 1:
            return self.propagate(
                edge_index, x=xw, edge_weight=edge_weight, size=(num_nodes, num_out)
            )
        assert edge_type is not None  # rel > 1 only with edge types
        index = torch.stack([edge_index[0] * rel + edge_type, edge_index[1]])
        return self.propagate(
            index,
            x=xw.reshape(num_nodes * rel, -1),
            edge_weight=edge_weight,
            size=(num_nodes * rel, num_out),
        )

    def extra_repr_args(self) -> list[str]:
        """The layer options shown by ``repr`` after the sizes (and ``num_relations``)."""
        return []

    def __repr__(self) -> str:
        rel = [f"num_relations={self.num_relations}"] if self.num_relations > 1 else []
        args = [str(self.in_channels), str(self.out_channels), *rel, *self.extra_repr_args()]
        return f"{type(self).__name__}({', '.join(args)})"
