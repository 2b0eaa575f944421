"""Element-wise product fusion over the present modalities."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from mmgraph.fusion.base import FusionHead, reset_linear_layers
from mmgraph.resolver import check_positive_int


class ProductFusion(FusionHead):
    r"""Element-wise (Hadamard) product of the modalities after linear maps to a common size.

    .. math::
        \mathbf{z}_i = \prod_{m \in \mathcal{P}_i} \left( \mathbf{W}_m \mathbf{x}_{i,m}
        + \mathbf{b}_m \right)

    where :math:`\mathcal{P}_i` is the set of modalities node :math:`i` has: an absent modality
    is a factor :math:`\mathbf{1}`, left out of the product. A node with no modality at all
    gets the empty product, a vector of ones.

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality.
        out_channels (int): The common size of the linear maps and of the output.

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** :math:`(N, \text{out\_channels})`
    """

    def __init__(self, in_channels: Mapping[str, int], out_channels: int) -> None:
        super().__init__(in_channels)
        check_positive_int(out_channels, "out_channels")
        self.out_channels = out_channels
        self.lins = nn.ModuleDict(
            {m: nn.Linear(d, out_channels) for m, d in self.in_channels.items()}
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the per-modality linear maps."""
        reset_linear_layers(self.lins)

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """Multiply the mapped present modalities of each node."""
        x_list, mask_list = self.prepare(xs, masks)
        out = x_list[0].new_ones(x_list[0].size(0), self.out_channels)
        for m, x, mask in zip(self.modalities, x_list, mask_list):
            out = out * torch.where(mask[:, None], self.lins[m](x), x.new_ones(()))
        return out
