r"""Sum aggregation with an MLP update (GIN), with one neighbour map per extra relation."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mmgraph.errors import InputError
from mmgraph.nn.relational import RelationalConv


class GINConv(RelationalConv):
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
    interface is the one of the other aggregators (``"gin"`` in
    :data:`~mmgraph.nn.AGGREGATORS`), so :class:`~mmgraph.nn.GNNStack`,
    :class:`~mmgraph.models.MultimodalGNN` and :class:`~mmgraph.subgraph.PoolGNN` stack it.
    The neighbour sums of all relations come from one ``propagate`` (relation :math:`r` of
    node :math:`v` is row :math:`vR + r` of the aggregate).

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
        *,
        eps: float = 0.0,
        train_eps: bool = False,
    ) -> None:
        super().__init__(in_channels, out_channels, num_relations)
        self.initial_eps = float(eps)
        self.train_eps = bool(train_eps)
        if train_eps:
            self.eps = nn.Parameter(torch.empty(1))
        else:
            self.register_buffer("eps", torch.empty(1))
        self.relations = nn.ModuleList(
            nn.Linear(in_channels, in_channels, bias=False) for _ in range(self.num_relations - 1)
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
        *,
        num_targets: int | None = None,
        deg: Tensor | None = None,
    ) -> Tensor:
        """Sum the neighbours, add the node itself, apply the MLP.

        ``num_targets`` computes the outputs of the first ``T`` nodes only, ``[T, C]``, when
        every edge points into them (a trimmed sampled batch, :mod:`mmgraph.nn.trim`).
        ``deg`` is ignored.
        """
        edge_index, edge_type, edge_weight, num_out = self.check_inputs(
            x, edge_index, edge_type, edge_weight, num_targets
        )
        num_nodes = x.size(0)
        out = (1 + self.eps) * x[:num_out]
        if edge_type is None:
            out = out + self.propagate(
                edge_index, x=x, edge_weight=edge_weight, size=(num_nodes, num_out)
            )
        else:
            r = self.num_relations
            index = torch.stack([edge_index[0], edge_index[1] * r + edge_type])
            sums = self.propagate(
                index, x=x, edge_weight=edge_weight, size=(num_nodes, num_out * r)
            )
            sums = sums.view(num_out, r, self.in_channels)
            out = out + sums[:, 0]
            for k, relation in enumerate(self.relations, start=1):
                out = out + relation(sums[:, k])
        if self.training and out.size(0) == 1:
            raise InputError(
                "GINConv's MLP normalises its batch (BatchNorm1d), which needs more than one "
                "node in training mode (got 1): train on more nodes at once, or call .eval() "
                "to apply it to a single node"
            )
        return self.mlp(out)

    def extra_repr_args(self) -> list[str]:
        """``eps`` and ``train_eps``."""
        return [f"eps={self.initial_eps:g}", f"train_eps={self.train_eps}"]
