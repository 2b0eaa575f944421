"""The graph convolution of Kipf & Welling, with one weight per relation."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn.inits import glorot, zeros

from mmgraph.nn.relational import RelationalConv, self_loops


def split_self_loops(
    edge_index: Tensor,
    edge_weight: Tensor | None,
    num_nodes: int,
    edge_type: Tensor | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
    """Take self loops out of the edge list; return the other edges and each node's loop weight.

    A node's loop weight is the sum of its self loops' weights, or :math:`1` without any.

    Returns:
        ``(edge_index, edge_weight, edge_type, loop_weight)`` without self loops, the weights
        (ones when :obj:`None` was given) and ``loop_weight`` ``[N]``.
    """
    device = edge_index.device
    src, dst = edge_index[0], edge_index[1]
    weight = (
        torch.ones(src.numel(), dtype=dtype, device=device) if edge_weight is None else edge_weight
    )
    is_loop = src == dst
    if not bool(is_loop.any()):
        return edge_index, weight, edge_type, torch.ones(num_nodes, dtype=dtype, device=device)
    loop_nodes = src[is_loop]
    has_loop = torch.zeros(num_nodes, dtype=torch.bool, device=device)
    has_loop[loop_nodes] = True
    loop_sum = torch.zeros(num_nodes, dtype=dtype, device=device).index_add(
        0, loop_nodes, weight[is_loop]
    )
    keep = ~is_loop
    edge_type = None if edge_type is None else edge_type[keep]
    return (
        edge_index[:, keep],
        weight[keep],
        edge_type,
        torch.where(has_loop, loop_sum, torch.ones_like(loop_sum)),
    )


def gcn_degree(
    edge_index: Tensor,
    edge_weight: Tensor | None,
    num_nodes: int,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    r"""The degrees :math:`\hat{d}_v = w_{vv} + \sum_{u \ne v} w_{uv}` of :func:`gcn_norm`.

    Returns:
        torch.Tensor: ``[N]``.
    """
    edge_index, weight, _, loop_weight = split_self_loops(
        edge_index, edge_weight, num_nodes, None, dtype
    )
    return loop_weight.index_add(0, edge_index[1], weight)


def gcn_norm(
    edge_index: Tensor,
    edge_weight: Tensor | None,
    num_nodes: int,
    edge_type: Tensor | None = None,
    dtype: torch.dtype = torch.float32,
    deg: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor | None, Tensor]:
    r"""Symmetric GCN normalisation with one self loop per node, over all relations at once.

    Existing self loops are taken out of the edge list and become the node's self loop (their
    weights add up when a node has several); every other node gets a self loop of weight
    :math:`1`. With :math:`\hat{d}_v = w_{vv} + \sum_{u \ne v} w_{uv}` (incoming edges of every
    relation), edge :math:`u \to v` gets :math:`w_{uv} / \sqrt{\hat{d}_u \hat{d}_v}` and the
    self loop :math:`w_{vv} / \hat{d}_v`. Nodes of degree :math:`0` get coefficient :math:`0`.

    Args:
        edge_index (torch.Tensor): Edges ``[2, E]`` (int64).
        edge_weight (torch.Tensor, optional): Non-negative edge weights ``[E]``.
        num_nodes (int): Number of nodes ``N``.
        edge_type (torch.Tensor, optional): Relation of each edge ``[E]``. (default: :obj:`None`)
        dtype (torch.dtype, optional): Dtype of the coefficients. (default: :obj:`torch.float32`)
        deg (torch.Tensor, optional): The degrees :math:`\hat{d}` ``[N]`` to normalise with,
            computed on a larger graph (:func:`gcn_degree`): layer-wise inference runs the layer
            on a subgraph that holds every incoming edge of its target nodes but not of their
            neighbours. (default: :obj:`None`: computed from ``edge_index``)

    Returns:
        ``(edge_index, coef, edge_type, self_coef)``: the edges without self loops ``[2, E']``,
        their coefficients ``[E']``, their relations ``[E']`` (or :obj:`None`), and the self-loop
        coefficient of every node ``[N]``.
    """
    edge_index, weight, edge_type, loop_weight = split_self_loops(
        edge_index, edge_weight, num_nodes, edge_type, dtype
    )
    src, dst = edge_index[0], edge_index[1]
    if deg is None:
        deg = loop_weight.index_add(0, dst, weight)
    elif deg.shape != (num_nodes,):
        raise ValueError(f"Expected 'deg' to have shape [{num_nodes}] (got {list(deg.shape)})")
    positive = deg > 0
    deg_inv_sqrt = torch.where(positive, torch.where(positive, deg, 1.0).rsqrt(), 0.0)
    coef = deg_inv_sqrt[src] * weight * deg_inv_sqrt[dst]
    self_coef = loop_weight * deg_inv_sqrt.square()
    return edge_index, coef, edge_type, self_coef


class GCNConv(RelationalConv):
    r"""The graph convolution of `Kipf & Welling (ICLR 2017) <https://arxiv.org/abs/1609.02907>`_.

    From "Semi-supervised Classification with Graph Convolutional Networks", made
    relation-aware. With one relation it is the GCN layer

    .. math::
        \mathbf{H}' = \hat{\mathbf{D}}^{-1/2} (\mathbf{A} + \mathbf{I})
        \hat{\mathbf{D}}^{-1/2} \mathbf{H} \mathbf{W}^{\top} + \mathbf{b},

    where the self loop and the neighbours share :math:`\mathbf{W}` and :math:`\hat{D}_{vv} =
    1 + \sum_u w_{uv}`; it equals PyG's :class:`~torch_geometric.nn.conv.GCNConv` (edge
    weights and existing self loops included), but for a node listing several self loops:
    their weights add up here (:func:`gcn_norm`), where PyG keeps one. With :math:`R > 1`
    relations each relation has its own neighbour weight :math:`\mathbf{W}_r` and the self
    loop has its own weight :math:`\mathbf{W}_0`:

    .. math::
        \mathbf{h}'_v = \frac{w_{vv}}{\hat{d}_v} \mathbf{W}_0 \mathbf{h}_v
        + \sum_{r=1}^{R} \sum_{u \in \mathcal{N}_r(v)}
        \frac{w_{uv}}{\sqrt{\hat{d}_u \hat{d}_v}} \mathbf{W}_r \mathbf{h}_u
        + \mathbf{b},
        \qquad \hat{d}_v = w_{vv} + \sum_{r} \sum_{u \in \mathcal{N}_r(v)} w_{uv}.

    Normalisation per relation: the degree is the weighted in-degree over *all* relations
    plus one self loop (counted once, not once per relation), so the coefficients are those
    of the GCN operator of the graph with its relations merged, and the relation only picks
    the weight matrix. Setting every :math:`\mathbf{W}_r` and :math:`\mathbf{W}_0` equal gives
    back the plain GCN layer, and the scale of the output does not grow with :math:`R`.
    Self-loop edges in ``edge_index`` (of any relation) become the node's self loop
    :math:`w_{vv}` (default :math:`1`). Messages flow from ``edge_index[0]`` to
    ``edge_index[1]``.

    Args:
        in_channels (int): Size of each input feature vector.
        out_channels (int): Size of each output feature vector.
        num_relations (int, optional): Number of relations (edge types) :math:`R`.
            (default: :obj:`1`)
        bias (bool, optional): If set to :obj:`False`, the layer learns no additive bias.
            (default: :obj:`True`)

    Shapes:
        - **input:** node features :math:`(N, F_{in})`, edge indices :math:`(2, E)`,
          edge types :math:`(E)` *(required when R > 1)*, non-negative edge weights
          :math:`(E)` *(optional)*
        - **output:** node features :math:`(N, F_{out})`
    """

    supports_sparse_input = True
    nonnegative_edge_weight = True
    needs_degree = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_relations: int = 1,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, num_relations)
        self.weight = Parameter(torch.empty(self.num_relations, out_channels, in_channels))
        self.root: Parameter | None
        self.optional_parameter("root", out_channels, in_channels, create=self.num_relations > 1)
        self.bias: Parameter | None
        self.optional_parameter("bias", out_channels, create=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-initialise the weights and zero the bias."""
        super().reset_parameters()
        glorot(self.weight)
        glorot(self.root)
        zeros(self.bias)

    def degree(
        self,
        edge_index: Tensor,
        edge_weight: Tensor | None,
        num_nodes: int,
        dtype: torch.dtype = torch.float32,
    ) -> Tensor:
        """The normalisation degrees of the whole graph ``[N]`` (:func:`gcn_degree`)."""
        return gcn_degree(edge_index, edge_weight, num_nodes, dtype=dtype)

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
        """Apply the layer; see the class docstring for the shapes.

        ``x`` may be a sparse CSR tensor (a bag of words): the product with the weights is
        then sparse-dense. ``num_targets`` computes the outputs of the first ``T`` nodes
        only, ``[T, F_out]``, when every edge points into them (a trimmed sampled batch,
        :mod:`mmgraph.nn.trim`); ``deg`` gives the normalisation degrees of the nodes (see
        :func:`gcn_norm`): pass the untrimmed batch's :meth:`degree` to get its outputs
        exactly.
        """
        edge_index, edge_type, edge_weight, num_out = self.check_inputs(
            x, edge_index, edge_type, edge_weight, num_targets
        )
        edge_index, coef, edge_type, self_coef = gcn_norm(
            edge_index, edge_weight, x.size(0), edge_type, x.dtype, deg=deg
        )
        # The self loops join the edge list: as relation 0 when it is shared (R = 1), else as
        # an extra relation R whose weight is the root weight.
        edge_index = torch.cat([edge_index, self_loops(num_out, x.device)], dim=1)
        coef = torch.cat([coef, self_coef[:num_out]])
        weight: Tensor = self.weight
        if self.root is not None and edge_type is not None:
            loop_type = torch.full((num_out,), self.num_relations, device=x.device)
            edge_type = torch.cat([edge_type, loop_type])
            weight = torch.cat([weight, self.root.unsqueeze(0)])
        out = self.relational_sum(x, edge_index, edge_type, coef, weight, num_targets)
        if self.bias is not None:
            out = out + self.bias
        return out
