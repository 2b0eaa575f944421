r"""Sum aggregation with an MLP update (GIN), the aggregator of whole-graph classification."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mmgraph.nn.relational import check_graph_inputs
from mmgraph.subgraph._checks import check_positive


class GINConv(nn.Module):
    r"""The graph isomorphism network layer, with one neighbour map per extra relation.

    From `"How Powerful are Graph Neural Networks?" <https://arxiv.org/abs/1810.00826>`_
    (Xu et al., ICLR 2019): a sum over the neighbours followed by an MLP is as discriminative
    as the Weisfeiler–Lehman test, where a mean or a normalised sum is not (they cannot count),
    which is what counting substructures in molecules (MUTAG, PTC) needs:

    .. math::
        \mathbf{h}'_v = \operatorname{MLP}\Big((1 + \epsilon)\, \mathbf{h}_v
        + \sum_{r=1}^{R} \mathbf{M}_r \sum_{u \in \mathcal{N}_r(v)} w_{uv}\, \mathbf{h}_u\Big),
        \qquad \operatorname{MLP}(\mathbf{a}) = \mathbf{W}_2\,
        \operatorname{ReLU}\big(\operatorname{BN}(\mathbf{W}_1 \mathbf{a})\big)

    with :math:`\mathbf{M}_1 = \mathbf{I}` (one relation: exactly GIN) and a learned
    :math:`\mathbf{M}_r` for each further relation, :math:`w_{uv}` the edge weight (1 when
    absent) and :math:`\epsilon` fixed (GIN-0 with :math:`\epsilon = 0`) or learned. The
    interface is the one of :mod:`mmgraph.nn`'s aggregators, so
    :class:`~mmgraph.nn.GNNStack` and :class:`~mmgraph.subgraph.PoolGNN` stack it.

    Args:
        in_channels (int): Size :math:`F` of the input features.
        out_channels (int): Size :math:`C` of the output features.
        num_relations (int, optional): Number of relations :math:`R`. (default: :obj:`1`)
        eps (float, optional): Initial :math:`\epsilon`. (default: :obj:`0.0`)
        train_eps (bool, optional): Learn :math:`\epsilon`. (default: :obj:`False`)

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices :math:`(2, E)`, edge types
          :math:`(E)` *(required when num_relations > 1)*, edge weights :math:`(E)`
          *(optional)*
        - **output:** node features :math:`(N, C)`
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_relations: int = 1,
        eps: float = 0.0,
        train_eps: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = check_positive(in_channels, "in_channels")
        self.out_channels = check_positive(out_channels, "out_channels")
        self.num_relations = check_positive(num_relations, "num_relations")
        self.initial_eps = float(eps)
        self.train_eps = bool(train_eps)
        if train_eps:
            self.eps = nn.Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        self.relations = nn.ModuleList(
            nn.Linear(in_channels, in_channels, bias=False) for _ in range(num_relations - 1)
        )
        self.mlp = nn.Sequential(
            nn.Linear(in_channels, out_channels),
            nn.BatchNorm1d(out_channels),
            nn.ReLU(),
            nn.Linear(out_channels, out_channels),
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Reset :math:`\epsilon`, the relation maps and the MLP."""
        with torch.no_grad():
            self.eps.fill_(self.initial_eps)
        for module in [*self.relations, *self.mlp]:
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor | None = None,
        edge_weight: Tensor | None = None,
    ) -> Tensor:
        """Sum the neighbours, add the node itself, apply the MLP."""
        edge_index, edge_type, edge_weight = check_graph_inputs(
            x,
            edge_index,
            edge_type,
            edge_weight,
            in_channels=self.in_channels,
            num_relations=self.num_relations,
            layer=type(self).__name__,
        )
        src, dst = edge_index
        messages = x.index_select(0, src)
        if edge_weight is not None:
            messages = messages * edge_weight.unsqueeze(-1)
        out = (1 + self.eps) * x
        if edge_type is None:
            out = out.index_add(0, dst, messages)
        else:
            for r in range(self.num_relations):
                keep = edge_type == r
                total = x.new_zeros(x.shape).index_add_(0, dst[keep], messages[keep])
                out = out + (total if r == 0 else self.relations[r - 1](total))
        return self.mlp(out)

    def __repr__(self) -> str:
        relations = f", num_relations={self.num_relations}" if self.num_relations > 1 else ""
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}{relations}, "
            f"eps={self.initial_eps:g}, train_eps={self.train_eps})"
        )
