"""Input checks and the relation-aware weighted sum shared by the aggregators."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import MessagePassing

_INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


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
        if not isinstance(edge_type, Tensor) or edge_type.dtype not in _INT_DTYPES:
            got = edge_type.dtype if isinstance(edge_type, Tensor) else type(edge_type).__name__
            raise TypeError(
                f"Expected 'edge_type' of {layer} to be an integer tensor (got '{got}')"
            )
        if edge_type.dim() != 1 or edge_type.numel() != num_edges:
            raise ValueError(
                f"Expected 'edge_type' of {layer} to have shape [{num_edges}], one relation per "
                f"edge (got {list(edge_type.shape)})"
            )
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
        if not isinstance(edge_weight, Tensor) or not edge_weight.is_floating_point():
            got = edge_weight.dtype if isinstance(edge_weight, Tensor) else type(edge_weight)
            raise TypeError(
                f"Expected 'edge_weight' of {layer} to be a floating point tensor (got '{got}')"
            )
        if edge_weight.dim() != 1 or edge_weight.numel() != num_edges:
            raise ValueError(
                f"Expected 'edge_weight' of {layer} to have shape [{num_edges}], one weight per "
                f"edge (got {list(edge_weight.shape)})"
            )
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
    r"""Base of the aggregators: a per-relation linear map of weighted neighbour sums.

    Computes, for target node :math:`v`,

    .. math::
        \mathbf{m}_v = \sum_{r=1}^{R} \sum_{u \in \mathcal{N}_r(v)} c_{uv}\,
        \mathbf{W}_r \mathbf{h}_u,

    where :math:`c_{uv}` is a per-edge coefficient (an edge weight, a mean or a GCN
    normalisation; :math:`1` when absent). It transforms before gathering when that is cheaper
    (output not wider than input) and aggregates before transforming otherwise; both orders
    compute the same sum. All relations are handled by one matrix product and one
    gather/scatter: relation :math:`r` of node :math:`u` is row :math:`uR + r` of the
    transformed features (or of the aggregated ones). Weights are stored as
    :class:`~torch.nn.Linear` stores them, ``[F_out, F_in]`` per relation.

    Args:
        **kwargs (optional): Arguments of :class:`torch_geometric.nn.conv.MessagePassing`
            (``aggr`` defaults to ``"add"``).
    """

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("aggr", "add")
        super().__init__(**kwargs)

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
    ) -> Tensor:
        r"""Return :math:`\sum_r \sum_{u \in N_r(v)} c_{uv} W_r h_u` for every node ``v``.

        Args:
            x (torch.Tensor): Node features ``[N, F_in]``.
            edge_index (torch.Tensor): Edges ``[2, E]`` (int64).
            edge_type (torch.Tensor, optional): Relations ``[E]`` in ``[0, R)``; :obj:`None`
                means relation ``0`` for every edge.
            edge_weight (torch.Tensor, optional): Coefficients ``[E]``.
            weight (torch.Tensor): Per-relation weights ``[R, F_out, F_in]``.
            num_targets (int, optional): Compute the sums for the first ``T`` nodes only
                (every edge must point into them, see :func:`check_num_targets`).
                (default: :obj:`None`: all ``N``)

        Returns:
            torch.Tensor: ``[N, F_out]`` (``[T, F_out]`` with ``num_targets``).
        """
        num_nodes = x.size(0)
        num_out = num_nodes if num_targets is None else num_targets
        num_rel, fout, fin = weight.shape
        transform_first = fout <= fin
        if num_rel == 1 or edge_type is None:
            w = weight[0]
            size = (num_nodes, num_out)
            if transform_first:
                return self.propagate(
                    edge_index, x=F.linear(x, w), edge_weight=edge_weight, size=size
                )
            agg = self.propagate(edge_index, x=x, edge_weight=edge_weight, size=size)
            return F.linear(agg, w)
        src, dst = edge_index[0], edge_index[1]
        if transform_first:
            # Row u * R + r holds W_r h_u.
            xw = F.linear(x, weight.reshape(num_rel * fout, fin))
            index = torch.stack([src * num_rel + edge_type, dst])
            return self.propagate(
                index,
                x=xw.view(num_nodes * num_rel, fout),
                edge_weight=edge_weight,
                size=(num_nodes * num_rel, num_out),
            )
        # Row v * R + r holds the relation-r sum into v; then one product with all W_r.
        index = torch.stack([src, dst * num_rel + edge_type])
        agg = self.propagate(
            index, x=x, edge_weight=edge_weight, size=(num_nodes, num_out * num_rel)
        )
        return F.linear(
            agg.view(num_out, num_rel * fin), weight.transpose(0, 1).reshape(fout, num_rel * fin)
        )
