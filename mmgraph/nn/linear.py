"""The zero-layer stack: a linear map of each node's features that ignores the edges."""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor
from torch.nn import Linear

from mmgraph.nn.functional import is_sparse, sparse_linear


class NodeLinear(Linear):
    r"""A linear layer in place of the aggregator layers (an MLP: ``num_layers=0``).

    :math:`\mathbf{H} = \mathbf{X}\mathbf{W}^\top + \mathbf{b}`, row by row, whatever the
    edges. A sparse CSR input (a wide bag of words) is multiplied as it is.

    Args:
        in_features (int): Input size.
        out_features (int): Output size.
        **kwargs: Those of :class:`torch.nn.Linear`.
    """

    passes_messages: ClassVar[bool] = False
    """Whether ``forward`` takes the edges (:obj:`True` on :class:`~mmgraph.nn.GNNStack`)."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply the linear map to every row of ``x`` (dense or sparse CSR)."""
        if is_sparse(x):
            return sparse_linear(x, self.weight, self.bias)
        return super().forward(x)
