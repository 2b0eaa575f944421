"""Low-rank multimodal fusion (Liu et al., 2018): Tensor Fusion with a CP-decomposed weight."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from mmgraph.fusion.base import FusionHead
from mmgraph.fusion.tensor import append_one
from mmgraph.resolver import check_positive_int


class LowRankFusion(FusionHead):
    r"""Low-rank multimodal fusion: Tensor Fusion with a rank-``r`` CP-decomposed weight.

    From the `"Efficient Low-rank Multimodal Fusion with Modality-Specific Factors"
    <https://arxiv.org/abs/1806.00064>`_ paper (Liu et al., ACL 2018).

    The weight :math:`\mathcal{W} \in \mathbb{R}^{\text{out} \times \prod_m (d_m + 1)}` of
    :class:`~mmgraph.fusion.TensorFusion` is given the rank-:math:`r` CP decomposition
    :math:`\mathcal{W}_{o} = \sum_{k=1}^{r} \lambda_k \bigotimes_{m} \mathbf{A}^{(k)}_{m,:,o}`,
    so the product with the fused tensor never has to be built:

    .. math::
        \mathbf{h}_i = \sum_{k=1}^{r} \lambda_k \prod_{m=1}^{M}
        \left( [\mathbf{x}_{i,m}; 1]^{\top} \mathbf{A}^{(k)}_m \right) + \mathbf{b}

    with per-modality factors :math:`\mathbf{A}_m \in \mathbb{R}^{r \times (d_m + 1) \times
    \text{out}}`, fusion weights :math:`\boldsymbol{\lambda} \in \mathbb{R}^{r}` and a bias
    :math:`\mathbf{b}`, all registered parameters (MultiBench keeps the factors in a plain list,
    so they are never trained nor saved). An absent modality is :math:`[\mathbf{0}; 1]`, as in
    Tensor Fusion; :meth:`dense_weight` rebuilds :math:`\mathcal{W}` so the two can be compared.
    A node with no modality gets the constant term of the decomposition plus the bias.

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality.
        out_channels (int): Output size.
        rank (int, optional): Rank :math:`r` of the decomposition. (default: :obj:`4`)

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** :math:`(N, \text{out\_channels})`
    """

    def __init__(self, in_channels: Mapping[str, int], out_channels: int, rank: int = 4) -> None:
        super().__init__(in_channels)
        check_positive_int(out_channels, "out_channels")
        check_positive_int(rank, "rank")
        self.out_channels = out_channels
        self.rank = rank
        self.factors = nn.ParameterDict(
            {
                m: nn.Parameter(torch.empty(rank, d + 1, out_channels))
                for m, d in self.in_channels.items()
            }
        )
        self.fusion_weights = nn.Parameter(torch.empty(rank))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-normal factors (per rank) and fusion weights; zero bias."""
        for factor in self.factors.values():
            for k in range(self.rank):
                nn.init.xavier_normal_(factor.data[k])
        nn.init.xavier_normal_(self.fusion_weights.data.view(1, -1))
        nn.init.zeros_(self.bias)

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """Fuse through the low-rank factors."""
        x_list, _ = self.prepare(xs, masks)
        factors = [
            torch.einsum("nd,rdo->nro", append_one(x), self.factors[m])
            for m, x in zip(self.modalities, x_list)
        ]
        prod = factors[0]
        for f in factors[1:]:
            prod = prod * f
        return torch.einsum("nro,r->no", prod, self.fusion_weights) + self.bias

    def dense_weight(self) -> Tensor:
        r"""Rebuild the full Tensor Fusion weight :math:`[\text{out}, \prod_m (d_m + 1)]`.

        Copying it (and :attr:`bias`) into a :class:`~mmgraph.fusion.TensorFusion` with the
        same ``in_channels`` and ``out_channels`` gives the same outputs.
        """
        weight = self.factors[self.modalities[0]]  # [r, d + 1, out]
        for m in self.modalities[1:]:
            factor = self.factors[m]
            weight = (weight[:, :, None, :] * factor[:, None, :, :]).flatten(1, 2)
        return torch.einsum("rko,r->ok", weight, self.fusion_weights)

    def _repr_args(self) -> str:
        return f"rank={self.rank}"
