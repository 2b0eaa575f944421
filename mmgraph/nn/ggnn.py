"""Gated graph neural network propagation (GGNN), with one weight per relation."""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor
from torch.nn import GRUCell, Linear, ModuleList, Parameter
from torch_geometric.nn.inits import uniform

from mmgraph.nn.functional import dense, linear
from mmgraph.nn.relational import RelationalConv
from mmgraph.resolver import check_positive_int


class GGNNConv(RelationalConv):
    r"""Gated graph propagation of `Li et al. (ICLR 2016) <https://arxiv.org/abs/1511.05493>`_.

    From "Gated Graph Sequence Neural Networks" (GGNN), made relation-aware:

    .. math::
        \mathbf{h}_v^{(0)} &= \mathbf{P} \mathbf{x}_v + \mathbf{p}
        \quad (\text{or } \mathbf{x}_v \text{ when } F_{in} = F_{out})

        \mathbf{m}_v^{(t)} &= \sum_{r=1}^{R} \sum_{u \in \mathcal{N}_r(v)} w_{uv}\,
        \mathbf{W}_r^{(t)} \mathbf{h}_u^{(t-1)}

        \mathbf{h}_v^{(t)} &= \operatorname{GRUCell}^{(t)}\big(\mathbf{m}_v^{(t)},
        \mathbf{h}_v^{(t-1)}\big)

    for :math:`t = 1, \dots, T`; the output is :math:`\mathbf{h}^{(T)}`. The GRU (its input is
    the message, its state the node) is PyTorch's :class:`~torch.nn.GRUCell`. With
    ``tie_weights=True`` (the paper's choice) one set :math:`\{\mathbf{W}_r\}` and one GRU serve
    every step; with ``tie_weights=False`` each step has its own. Messages are summed, not
    averaged, and scaled by the edge weight :math:`w_{uv}` (:math:`1` when absent; any finite
    value allowed). As in PyG's :class:`~torch_geometric.nn.conv.GatedGraphConv`, the messages
    have no bias (the GRU has biases); unlike it, inputs narrower or wider than the hidden
    size are projected by a learned linear map :math:`\mathbf{P}` rather than zero-padded.
    Messages flow from ``edge_index[0]`` to ``edge_index[1]``.

    Args:
        in_channels (int): Size of each input feature vector.
        out_channels (int): Size of the hidden state and of the output.
        num_relations (int, optional): Number of relations (edge types) :math:`R`.
            (default: :obj:`1`)
        num_steps (int, optional): Number of propagation steps :math:`T`. (default: :obj:`3`)
        tie_weights (bool, optional): Share the message weights and the GRU across steps.
            (default: :obj:`True`)

    Shapes:
        - **input:** node features :math:`(N, F_{in})`, edge indices :math:`(2, E)`,
          edge types :math:`(E)` *(required when R > 1)*, edge weights :math:`(E)`
          *(optional)*
        - **output:** node features :math:`(N, F_{out})`
    """

    supports_sparse_input = True
    recurrent = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_relations: int = 1,
        *,
        num_steps: int = 3,
        tie_weights: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, num_relations)
        self.num_steps = check_positive_int(num_steps, "num_steps")
        self.tie_weights = tie_weights
        self.lin: Linear | None = (
            Linear(in_channels, out_channels) if in_channels != out_channels else None
        )
        num_sets = 1 if tie_weights else self.num_steps
        self.weight = Parameter(
            torch.empty(num_sets, self.num_relations, out_channels, out_channels)
        )
        self.grus = ModuleList([GRUCell(out_channels, out_channels) for _ in range(num_sets)])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the projection, the message weights and the GRUs."""
        super().reset_parameters()
        if self.lin is not None:
            self.lin.reset_parameters()
        uniform(self.out_channels, self.weight)
        for gru in self.grus:
            cast(GRUCell, gru).reset_parameters()

    def project(self, x: Tensor) -> Tensor:
        """Map input features ``[N, F_in]`` (dense or sparse CSR) to the state ``[N, F_out]``."""
        if self.lin is None:
            return dense(x)
        return linear(x, self.lin.weight, self.lin.bias)  # sparse-dense for a sparse x

    def step(
        self,
        t: int,
        h: Tensor,
        edge_index: Tensor,
        edge_type: Tensor | None = None,
        edge_weight: Tensor | None = None,
        *,
        num_targets: int | None = None,
        deg: Tensor | None = None,
    ) -> Tensor:
        """Apply propagation step ``t`` (counted from 0) to the hidden state ``h`` ``[N, F_out]``.

        ``forward(x, ...)`` equals ``project(x)`` followed by ``step(0, ...)``, ...,
        ``step(num_steps - 1, ...)``. ``num_targets`` updates the first ``T`` nodes only and
        returns ``[T, F_out]``, when every edge points into them (a trimmed sampled batch,
        :mod:`mmgraph.nn.trim`). ``deg`` is ignored.
        """
        if not 0 <= t < self.num_steps:
            raise ValueError(f"Expected step 't' in [0, {self.num_steps}) (got {t})")
        edge_index, edge_type, edge_weight, _ = self.check_inputs(
            h, edge_index, edge_type, edge_weight, num_targets, in_channels=self.out_channels
        )
        return self._step(t, h, edge_index, edge_type, edge_weight, num_targets)

    def _step(
        self,
        t: int,
        h: Tensor,
        edge_index: Tensor,
        edge_type: Tensor | None,
        edge_weight: Tensor | None,
        num_targets: int | None = None,
    ) -> Tensor:
        k = 0 if self.tie_weights else t
        m = self.relational_sum(h, edge_index, edge_type, edge_weight, self.weight[k], num_targets)
        return self.grus[k](m, h if num_targets is None else h[:num_targets])

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
        """Project ``x`` and run all propagation steps; see the class docstring for shapes.

        ``num_targets`` returns the states of the first ``T`` nodes only, ``[T, F_out]``
        (every edge must point into them): the last step updates those rows only, the
        earlier ones every row. ``deg`` is ignored.
        """
        edge_index, edge_type, edge_weight, _ = self.check_inputs(
            x, edge_index, edge_type, edge_weight, num_targets
        )
        h = self.project(x)
        for t in range(self.num_steps):
            last = t == self.num_steps - 1
            h = self._step(t, h, edge_index, edge_type, edge_weight, num_targets if last else None)
        return h

    def __repr__(self) -> str:
        channels = (
            f"{self.out_channels}"
            if self.in_channels == self.out_channels
            else f"{self.in_channels}, {self.out_channels}"
        )
        rel = f", num_relations={self.num_relations}" if self.num_relations > 1 else ""
        tie = "" if self.tie_weights else ", tie_weights=False"
        return f"{type(self).__name__}({channels}, num_steps={self.num_steps}{rel}{tie})"
