"""Mean aggregation with a separate self weight (GraphSAGE-mean), with one weight per relation."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn.inits import glorot, zeros

from mmgraph.nn.relational import RelationalConv


def mean_coefficients(
    edge_index: Tensor,
    edge_weight: Tensor | None,
    num_nodes: int,
    edge_type: Tensor | None = None,
    num_relations: int = 1,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    r"""Per-edge coefficients of a (weighted) mean over each node's neighbours of each relation.

    Edge :math:`u \to v` of relation :math:`r` gets :math:`w_{uv} / \sum_{u' \in
    \mathcal{N}_r(v)} w_{u'v}` (:math:`1 / |\mathcal{N}_r(v)|` without weights); a group whose
    weights sum to :math:`0` gets coefficient :math:`0`.

    Args:
        edge_index (torch.Tensor): Edges ``[2, E]`` (int64).
        edge_weight (torch.Tensor, optional): Non-negative edge weights ``[E]``.
        num_nodes (int): Number of nodes ``N``.
        edge_type (torch.Tensor, optional): Relation of each edge ``[E]``. (default: :obj:`None`)
        num_relations (int, optional): Number of relations. (default: :obj:`1`)
        dtype (torch.dtype, optional): Dtype of the coefficients. (default: :obj:`torch.float32`)

    Returns:
        torch.Tensor: The coefficients ``[E]``.
    """
    dst = edge_index[1]
    group = dst if edge_type is None else dst * num_relations + edge_type
    weight = (
        torch.ones(dst.numel(), dtype=dtype, device=dst.device)
        if edge_weight is None
        else edge_weight
    )
    total = torch.zeros(num_nodes * num_relations, dtype=dtype, device=dst.device)
    total = total.index_add(0, group, weight)[group]
    return weight / torch.where(total > 0, total, 1.0)


class MeanConv(RelationalConv):
    r"""Mean aggregation of `Hamilton et al. (NeurIPS 2017) <https://arxiv.org/abs/1706.02216>`_.

    GraphSAGE-mean from "Inductive Representation Learning on Large Graphs", with a separate
    self weight, made relation-aware in the manner of R-GCN
    (`Schlichtkrull et al. 2018 <https://arxiv.org/abs/1703.06103>`_):

    .. math::
        \mathbf{h}'_v = \sum_{r=1}^{R} \mathbf{W}_r
        \frac{\sum_{u \in \mathcal{N}_r(v)} w_{uv} \mathbf{h}_u}
        {\sum_{u \in \mathcal{N}_r(v)} w_{uv}}
        + \mathbf{B} \mathbf{h}_v + \mathbf{b}

    With one relation this is :math:`\mathbf{W} \operatorname{mean}_{u \in
    \mathcal{N}(v)} \mathbf{h}_u + \mathbf{B} \mathbf{h}_v + \mathbf{b}`, PyG's
    :class:`~torch_geometric.nn.conv.SAGEConv` with mean aggregation. Each relation is
    averaged on its own (R-GCN's :math:`c_{v,r} = |\mathcal{N}_r(v)|`) and has its own
    :math:`\mathbf{W}_r`; the self weight :math:`\mathbf{B}` is shared by all relations. A
    node without neighbours of relation :math:`r` gets a zero mean for it, so an isolated
    node gets :math:`\mathbf{B} \mathbf{h}_v + \mathbf{b}`. Self-loop edges count as
    ordinary neighbours. Edge weights (:math:`1` when absent) give a weighted mean. Messages
    flow from ``edge_index[0]`` to ``edge_index[1]``; the nonlinearity is left to the stack.

    Args:
        in_channels (int): Size of each input feature vector.
        out_channels (int): Size of each output feature vector.
        num_relations (int, optional): Number of relations (edge types) :math:`R`.
            (default: :obj:`1`)
        root_weight (bool, optional): If set to :obj:`False`, the layer has no self term
            :math:`\mathbf{B} \mathbf{h}_v`. (default: :obj:`True`)
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

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_relations: int = 1,
        *,
        root_weight: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, num_relations)
        self.weight = Parameter(torch.empty(self.num_relations, out_channels, in_channels))
        self.root: Parameter | None
        self.optional_parameter(
            "root", out_channels, in_channels, create=root_weight, argument="root_weight"
        )
        self.bias: Parameter | None
        self.optional_parameter("bias", out_channels, create=bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-initialise the weights and zero the bias."""
        super().reset_parameters()
        glorot(self.weight)
        glorot(self.root)
        zeros(self.bias)

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

        ``x`` may be a sparse CSR tensor (a bag of words): the products with the weights are
        then sparse-dense. ``num_targets`` computes the outputs of the first ``T`` nodes
        only, ``[T, F_out]``, when every edge points into them (a trimmed sampled batch,
        :mod:`mmgraph.nn.trim`). ``deg`` is ignored.
        """
        edge_index, edge_type, edge_weight, num_out = self.check_inputs(
            x, edge_index, edge_type, edge_weight, num_targets
        )
        coef = mean_coefficients(
            edge_index, edge_weight, num_out, edge_type, self.num_relations, x.dtype
        )
        out = self.relational_sum(
            x, edge_index, edge_type, coef, self.weight, num_targets, root=self.root
        )
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr_args(self) -> list[str]:
        """``root_weight=False`` when the layer has no self weight."""
        return [] if self.root is not None else ["root_weight=False"]
