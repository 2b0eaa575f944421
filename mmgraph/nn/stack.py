"""Stacks of aggregator layers, and building aggregators by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, cast

import torch
from torch import Tensor
from torch.nn import ELU, GELU, Identity, LeakyReLU, Module, ModuleList, ReLU, Tanh

from mmgraph.nn.functional import dense, dropout, is_sparse, row_prefix
from mmgraph.nn.gcn_conv import GCNConv
from mmgraph.nn.ggnn import GGNNConv
from mmgraph.nn.gin_conv import GINConv
from mmgraph.nn.mean_conv import MeanConv
from mmgraph.nn.relational import RelationalConv
from mmgraph.nn.trim import check_sampled_sizes, layer_slice
from mmgraph.resolver import InputTypeError, lookup, option_names, resolve

AGGREGATORS: dict[str, type[RelationalConv]] = {
    "mean": MeanConv,
    "gcn": GCNConv,
    "ggnn": GGNNConv,
    "gin": GINConv,
}
"""The aggregators by name: ``"mean"`` (:class:`MeanConv`), ``"gcn"`` (:class:`GCNConv`),
``"ggnn"`` (:class:`GGNNConv`), ``"gin"`` (:class:`GINConv`). Read only through
:func:`mmgraph.resolver.resolve` / :func:`~mmgraph.resolver.lookup`; add a layer (a
:class:`~mmgraph.nn.RelationalConv` subclass) with one line, ``AGGREGATORS["name"] = MyConv``.
"""

ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "elu": ELU,
    "gelu": GELU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
    "identity": Identity,
}
"""The activations by name (:class:`GNNStack`, :class:`~mmgraph.subgraph.GLASS`), read
through :func:`mmgraph.resolver.resolve`."""


def build_aggregator(
    name_or_class: str | type[RelationalConv],
    in_channels: int,
    out_channels: int,
    num_relations: int = 1,
    **kwargs: Any,
) -> RelationalConv:
    """Build an aggregator layer by name (or from its class).

    Args:
        name_or_class (str or type): A name in :data:`AGGREGATORS` (``"mean"``, ``"gcn"``,
            ``"ggnn"``, ``"gin"``; case-insensitive) or a
            :class:`~mmgraph.nn.RelationalConv` subclass.
        in_channels (int): Size of each input feature vector.
        out_channels (int): Size of each output feature vector.
        num_relations (int, optional): Number of relations (edge types). (default: :obj:`1`)
        **kwargs (optional): Further arguments of the layer, e.g. ``num_steps`` for
            ``"ggnn"`` or ``bias`` for ``"gcn"``.

    Raises:
        UnknownNameError: ``name_or_class`` is not a known aggregator (a
            :class:`ValueError`; the message lists the valid names).
    """
    return resolve(
        AGGREGATORS,
        name_or_class,
        in_channels,
        out_channels,
        num_relations,
        what="aggregator",
        base=RelationalConv,
        **kwargs,
    )


def _check_layer_options(cls: type[RelationalConv], options: dict[str, Any]) -> None:
    """Refuse options the layer class does not take, or that the stack sets itself.

    Raises:
        InputTypeError: An unknown option (listing the layer's), or ``num_steps`` for a
            recurrent layer (the stack's ``num_layers``).
    """
    valid = option_names(cls)
    if valid is None:  # a layer of yours with **kwargs: it decides
        return
    valid = valid[3:]  # in_channels, out_channels, num_relations: set by the stack
    set_here = ["num_steps"] if cls.recurrent else []
    taken = sorted(set(options) & set(set_here))
    if taken:
        raise InputTypeError(
            f"{taken} of {cls.__name__} is set by GNNStack from 'num_layers' (the propagation "
            "steps of a recurrent layer): give num_layers instead"
        )
    unknown = sorted(set(options) - set(valid))
    if unknown:
        options_left = [v for v in valid if v not in set_here]
        raise InputTypeError(
            f"Unknown option{'s' if len(unknown) > 1 else ''} {unknown} of the aggregator "
            f"{cls.__name__}: its options are {options_left}"
        )


class GNNStack(Module):
    r"""A stack of :math:`K` aggregator layers with an activation and dropout between layers.

    .. math::
        \mathbf{H}^{(k)} = \operatorname{drop}\big(\sigma\big(
        \operatorname{conv}_k(\mathbf{H}^{(k-1)})\big)\big), \quad k = 1, \dots, K - 1,
        \qquad \mathbf{H}^{(K)} = \operatorname{conv}_K(\mathbf{H}^{(K-1)}),

    with :math:`\mathbf{H}^{(0)} = \mathbf{X}`: the first layer maps ``in_channels`` to
    ``hidden_channels``, the others keep ``hidden_channels``, and the last layer's output is
    returned without activation or dropout (as in PyG's ``BasicGNN``). The stack reads the
    layer's capability flags (:class:`~mmgraph.nn.RelationalConv`), never its type or name:
    for a :attr:`~mmgraph.nn.RelationalConv.recurrent` layer (``"ggnn"``) the :math:`K`
    layers are the :math:`K` propagation steps of one layer built with ``num_steps=K``
    (:class:`GGNNConv`: weights tied across steps unless ``tie_weights=False``); its GRU is
    its nonlinearity, so ``act`` is not applied between steps, but dropout is (on the hidden
    state passed to the next step).

    The input may be a sparse CSR tensor (a wide bag of words): layers with
    :attr:`~mmgraph.nn.RelationalConv.supports_sparse_input` (mean, GCN, a GGNN's input
    projection) multiply it sparse-dense; other layers get it densified.

    :meth:`forward_layer` applies one layer (with the activation and dropout that follow it),
    so that ``forward`` equals applying ``forward_layer(0, ...)``, ...,
    ``forward_layer(K - 1, ...)`` in turn: layer-wise full-graph inference and training on
    sampled subgraphs use it.

    **Trimming.** Given a sampled batch's ``num_sampled_nodes`` and ``num_sampled_edges``
    (:class:`~mmgraph.sampling.NeighborLoader`), ``forward`` computes each layer only for the
    nodes later layers read (:mod:`mmgraph.nn.trim`) and returns the seeds' outputs, equal
    to the first rows of the untrimmed output (layers with
    :attr:`~mmgraph.nn.RelationalConv.needs_degree`, GCN, get the degrees of the whole
    batch, computed once here, as untrimmed).

    Args:
        aggregator (str or type): A name in :data:`AGGREGATORS` or a
            :class:`~mmgraph.nn.RelationalConv` subclass.
        in_channels (int): Size of each input feature vector.
        hidden_channels (int): Size of every layer's output.
        num_layers (int): Number of layers :math:`K` (GGNN: propagation steps).
        num_relations (int, optional): Number of relations (edge types). (default: :obj:`1`)
        dropout (float, optional): Dropout probability between layers. (default: :obj:`0.0`)
        act (str, optional): Activation between layers, a name in :data:`ACTIVATIONS`;
            :obj:`None` for none. (default: :obj:`"relu"`)
        **layer_kwargs (optional): Further arguments of every layer (e.g. ``bias=False``,
            ``tie_weights=False``).

    Shapes:
        - **input:** node features :math:`(N, F_{in})`, edge indices :math:`(2, E)`,
          edge types :math:`(E)` *(required when num_relations > 1)*, edge weights
          :math:`(E)` *(optional)*
        - **output:** node features :math:`(N, F_{hidden})`
    """

    passes_messages: ClassVar[bool] = True
    """Whether ``forward`` takes the edges (:obj:`False` on the zero-layer
    :class:`~mmgraph.nn.NodeLinear`): callers read it instead of the class."""

    def __init__(
        self,
        aggregator: str | type[RelationalConv],
        in_channels: int,
        hidden_channels: int,
        num_layers: int,
        num_relations: int = 1,
        dropout: float = 0.0,
        act: str | None = "relu",
        **layer_kwargs: Any,
    ) -> None:
        super().__init__()
        if isinstance(aggregator, str):
            cls = lookup(AGGREGATORS, aggregator, "aggregator")
            self.aggregator = aggregator.lower()
        elif isinstance(aggregator, type) and issubclass(aggregator, RelationalConv):
            cls = aggregator
            self.aggregator = aggregator.__name__
        else:
            raise TypeError(
                f"Expected 'aggregator' to be a name in {sorted(AGGREGATORS)} or a "
                f"RelationalConv subclass (got {type(aggregator).__name__!r})"
            )
        _check_layer_options(cls, layer_kwargs)
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"Expected 'num_layers' to be a positive int (got {num_layers!r})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"Expected 'dropout' in [0, 1) (got {dropout})")
        act_name = "identity" if act is None else act.lower()
        self.act = resolve(ACTIVATIONS, act_name, what="activation")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.num_relations = num_relations
        self.dropout = float(dropout)
        self.act_name = act_name
        self.recurrent = cls.recurrent
        self.needs_degree = cls.needs_degree
        convs: list[RelationalConv]
        if self.recurrent:
            convs = [
                cls(
                    in_channels,
                    hidden_channels,
                    num_relations,
                    num_steps=num_layers,
                    **layer_kwargs,
                )
            ]
        else:
            convs = [
                cls(
                    in_channels if i == 0 else hidden_channels,
                    hidden_channels,
                    num_relations,
                    **layer_kwargs,
                )
                for i in range(num_layers)
            ]
        self.convs = ModuleList(convs)

    @property
    def out_channels(self) -> int:
        """Size of the output features (``hidden_channels``)."""
        return self.hidden_channels

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        for conv in self.convs:
            conv.reset_parameters()  # type: ignore[operator]

    def degree(
        self, edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int, dtype: torch.dtype
    ) -> Tensor | None:
        """The ``deg`` ``[N]`` its layers read (:attr:`needs_degree`), else :obj:`None`."""
        if not self.needs_degree:
            return None
        conv = cast(RelationalConv, self.convs[0])
        return conv.degree(edge_index, edge_weight, num_nodes, dtype)

    def forward_layer(
        self,
        i: int,
        h: Tensor,
        edge_index: Tensor,
        edge_type: Tensor | None = None,
        edge_weight: Tensor | None = None,
        *,
        num_targets: int | None = None,
        deg: Tensor | None = None,
    ) -> Tensor:
        """Apply layer ``i`` (from 0), then the activation and dropout unless it is the last.

        Args:
            i (int): The layer, in ``[0, num_layers)``.
            h (torch.Tensor): Input of layer ``i``: ``[N, in_channels]`` for ``i = 0``,
                ``[N, hidden_channels]`` otherwise.
            edge_index (torch.Tensor): Edges ``[2, E]``.
            edge_type (torch.Tensor, optional): Relations ``[E]``. (default: :obj:`None`)
            edge_weight (torch.Tensor, optional): Edge weights ``[E]``. (default: :obj:`None`)
            num_targets (int, optional): Compute the outputs of the first ``T`` nodes only,
                when every edge points into them (:mod:`mmgraph.nn.trim`).
                (default: :obj:`None`: all ``N``)
            deg (torch.Tensor, optional): The :meth:`degree` of the whole graph, of the
                ``N`` input rows, for layers that read it (layer-wise inference on
                subgraphs, trimmed batches); ignored by the others. (default: :obj:`None`)

        Returns:
            torch.Tensor: ``[N, hidden_channels]`` (``[T, hidden_channels]``).
        """
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < self.num_layers:
            raise ValueError(f"Expected layer 'i' in [0, {self.num_layers}) (got {i!r})")
        kwargs: dict[str, Any] = {}
        if deg is not None and self.needs_degree:
            kwargs["deg"] = deg
        if self.recurrent:
            conv = self.convs[0]
            if i == 0:
                if not isinstance(h, Tensor) or h.dim() != 2 or h.size(1) != self.in_channels:
                    raise ValueError(
                        f"Expected the input of layer 0 to have shape [N, {self.in_channels}] "
                        f"(got {list(h.shape) if isinstance(h, Tensor) else type(h).__name__})"
                    )
                h = conv.project(h)  # type: ignore[operator]
            h = conv.step(  # type: ignore[operator]
                i, h, edge_index, edge_type, edge_weight, num_targets=num_targets, **kwargs
            )
        else:
            conv = self.convs[i]
            if num_targets is not None and conv.supports_num_targets:
                kwargs["num_targets"] = num_targets
            if is_sparse(h) and not conv.supports_sparse_input:
                h = dense(h)
            h = conv(h, edge_index, edge_type, edge_weight, **kwargs)
            if num_targets is not None and h.size(0) != num_targets:
                h = h[:num_targets]
            if i < self.num_layers - 1:
                h = self.act(h)
        if i < self.num_layers - 1 and self.dropout > 0:
            h = dropout(h, p=self.dropout, training=self.training)
        return h

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor | None = None,
        edge_weight: Tensor | None = None,
        num_sampled_nodes: Sequence[int] | None = None,
        num_sampled_edges: Sequence[int] | None = None,
        num_later_layers: int = 0,
        deg: Tensor | None = None,
    ) -> Tensor:
        """Apply all layers; see the class docstring for the shapes.

        With ``num_sampled_nodes`` and ``num_sampled_edges`` of a sampled batch the layers are
        trimmed (see the class docstring) and the output holds the first rows only: the
        seeds, or with ``num_later_layers = k`` (aggregation layers applied to the output
        afterwards, e.g. a conv head) the nodes of hops up to k. Layers that read degrees get
        the :meth:`degree` of the whole batch, computed here unless ``deg`` gives it.
        """
        if num_sampled_nodes is None or num_sampled_edges is None:
            h = x
            for i in range(self.num_layers):
                h = self.forward_layer(i, h, edge_index, edge_type, edge_weight)
            return h
        total = self.num_layers + num_later_layers
        check_sampled_sizes(num_sampled_nodes, num_sampled_edges, total)
        if deg is None:
            deg = self.degree(edge_index, edge_weight, x.size(0), x.dtype)
        h = x
        for i in range(self.num_layers):
            part = layer_slice(i, total, num_sampled_nodes, num_sampled_edges)
            if h.size(0) > part.num_inputs:  # (a no-op slice would still cost a backward copy)
                h = row_prefix(h, part.num_inputs)
            h = self.forward_layer(
                i,
                h,
                *part.edges(edge_index, edge_type, edge_weight),
                num_targets=part.num_targets,
                deg=None if deg is None else deg[: part.num_inputs],
            )
        return h

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.aggregator!r}, {self.in_channels}, "
            f"{self.hidden_channels}, num_layers={self.num_layers}, "
            f"num_relations={self.num_relations}, dropout={self.dropout}, "
            f"act={self.act_name!r})"
        )


def apply_trimmed(
    conv: RelationalConv,
    i: int,
    num_layers: int,
    x: Tensor,
    edge_index: Tensor,
    edge_type: Tensor | None = None,
    edge_weight: Tensor | None = None,
    *,
    num_sampled_nodes: Sequence[int],
    num_sampled_edges: Sequence[int],
    deg: Tensor | None = None,
) -> Tensor:
    """Apply ``conv`` as layer ``i`` of ``num_layers`` to a sampled batch, trimmed.

    As :meth:`GNNStack.forward` does for its layers (:mod:`mmgraph.nn.trim`), for a layer
    outside a stack (a conv head): ``x`` holds at least the layer's input rows, and the
    outputs of its target rows come back. A layer that reads degrees
    (:attr:`~mmgraph.nn.RelationalConv.needs_degree`) gets those of the whole batch,
    computed here from ``edge_index`` unless ``deg`` ``[N]`` gives them.

    Args:
        conv (RelationalConv): The layer.
        i (int): Its position among the batch's aggregation layers, in ``[0, num_layers)``.
        num_layers (int): The aggregation layers of the model.
        x (torch.Tensor): Input rows ``[N', F]``, ``N'`` at least the layer's inputs.
        edge_index (torch.Tensor): All edges of the batch ``[2, E]``.
        edge_type (torch.Tensor, optional): Relations ``[E]``. (default: :obj:`None`)
        edge_weight (torch.Tensor, optional): Edge weights ``[E]``. (default: :obj:`None`)
        num_sampled_nodes (Sequence[int]): Nodes per hop of the batch.
        num_sampled_edges (Sequence[int]): Edges per hop of the batch.
        deg (torch.Tensor, optional): The layer's :meth:`~RelationalConv.degree` of the
            whole batch. (default: :obj:`None`: computed when the layer reads it)

    Returns:
        torch.Tensor: The outputs of the layer's target rows ``[T, F_out]``.
    """
    check_sampled_sizes(num_sampled_nodes, num_sampled_edges, num_layers)
    part = layer_slice(i, num_layers, num_sampled_nodes, num_sampled_edges)
    kwargs: dict[str, Any] = {}
    if conv.needs_degree:
        if deg is None:
            num_nodes = int(sum(num_sampled_nodes))
            deg = conv.degree(edge_index, edge_weight, num_nodes, x.dtype)
        kwargs["deg"] = deg[: part.num_inputs]
    if conv.supports_num_targets:
        kwargs["num_targets"] = part.num_targets
    if x.size(0) > part.num_inputs:
        x = row_prefix(x, part.num_inputs)
    out = conv(x, *part.edges(edge_index, edge_type, edge_weight), **kwargs)
    return out[: part.num_targets]
