"""Tensor Fusion (Zadeh et al., 2017): the outer product of the modalities, each with a 1."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from mmgraph.fusion.base import FusionHead, check_positive_int


def append_one(x: Tensor) -> Tensor:
    """Append a constant ``1`` to each row: ``[N, d] -> [N, d + 1]``."""
    return torch.cat([x, x.new_ones(x.size(0), 1)], dim=1)


class TensorFusion(FusionHead):
    r"""Tensor Fusion: the outer product of the modality vectors, each extended by a 1.

    From the `"Tensor Fusion Network for Multimodal Sentiment Analysis"
    <https://arxiv.org/abs/1707.07250>`_ paper (Zadeh et al., EMNLP 2017).

    .. math::
        \mathbf{z}_i = \operatorname{vec}\left(
        \begin{bmatrix} \mathbf{x}_{i,1} \\ 1 \end{bmatrix} \otimes
        \begin{bmatrix} \mathbf{x}_{i,2} \\ 1 \end{bmatrix} \otimes \cdots \otimes
        \begin{bmatrix} \mathbf{x}_{i,M} \\ 1 \end{bmatrix} \right)
        \in \mathbb{R}^{\prod_m (d_m + 1)}

    Appending :math:`1` makes the outer product hold every unimodal, bimodal, ..., M-modal
    interaction term, plus the constant :math:`1` (the last entry). The output has
    :math:`\prod_m (d_m + 1)` entries (flattened row-major, modalities in canonical order), or
    ``out_dim`` when a linear map :math:`\mathbf{W}\mathbf{z}_i + \mathbf{b}` follows.

    An absent modality contributes only through its constant :math:`1`: its vector is replaced
    by :math:`[\mathbf{0}; 1]`, which keeps exactly the terms that do not involve it. A node
    with no modality at all has :math:`\mathbf{z}_i` equal to the one-hot vector of the
    constant term (so the output is the constant column of :math:`\mathbf{W}` plus
    :math:`\mathbf{b}`).

    The size grows as the product of the modality sizes (three modalities of size 32 give
    35,937 entries per node); keep the inputs small or use
    :class:`~mmgraph.fusion.LowRankFusion`.

    Args:
        in_dims (Mapping[str, int]): Embedding size :math:`d_m` of each modality.
        out_dim (int, optional): If set, the size of a linear map applied to the fused tensor.
            (default: :obj:`None`: output the flattened tensor)

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** :math:`(N, \prod_m (d_m + 1))` or :math:`(N, \text{out\_dim})`
    """

    def __init__(self, in_dims: Mapping[str, int], out_dim: int | None = None) -> None:
        super().__init__(in_dims)
        check_positive_int(out_dim, "out_dim", allow_none=True)
        self.fused_dim = math.prod(d + 1 for d in self.in_dims.values())
        self.lin = nn.Linear(self.fused_dim, out_dim) if out_dim is not None else None
        self.out_dim = out_dim if out_dim is not None else self.fused_dim
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the linear map, if any."""
        if self.lin is not None:
            self.lin.reset_parameters()

    def fuse(self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None) -> Tensor:
        r"""Return the flattened tensor product :math:`\mathbf{z}` (before the linear map)."""
        x_list, _ = self.prepare(xs, masks)
        z = x_list[0].new_ones(x_list[0].size(0), 1)
        for x in x_list:
            z = (z[:, :, None] * append_one(x)[:, None, :]).flatten(1)
        return z

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """Fuse by the outer product, then apply the linear map if there is one."""
        z = self.fuse(xs, masks)
        return self.lin(z) if self.lin is not None else z

    def _repr_out_dim(self) -> int | None:
        return self.lin.out_features if self.lin is not None else None

    def _repr_args(self) -> str:
        return f"fused_dim={self.fused_dim}"
