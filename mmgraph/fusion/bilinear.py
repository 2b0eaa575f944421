"""Pairwise bilinear (outer-product) pooling."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

import torch
from torch import Tensor, nn

from mmgraph.fusion.base import FusionHead, reset_linear_layers
from mmgraph.resolver import check_positive_int


class BilinearFusion(FusionHead):
    r"""Pairwise bilinear pooling: the outer product of each pair of modalities, projected.

    Following bilinear pooling (`Lin et al., ICCV 2015 <https://arxiv.org/abs/1504.07889>`_)
    applied to every pair of modalities :math:`a < b` (canonical order): each modality is first
    mapped to :math:`\mathbf{u}_m = \mathbf{P}_m \mathbf{x}_m + \mathbf{c}_m` of size
    ``proj_dim`` (or kept as is when ``proj_dim`` is :obj:`None`), then

    .. math::
        \mathbf{z}_i = \sum_{a < b} \begin{cases}
        \mathbf{W}_{ab} \operatorname{vec}(\mathbf{u}_{i,a} \mathbf{u}_{i,b}^{\top})
        + \mathbf{b}_{ab} & \text{if node } i \text{ has } a \text{ and } b \\
        \mathbf{e}_{ab} & \text{otherwise} \end{cases}

    :math:`\mathbf{W}_{ab}` projects the flattened outer product to ``out_channels``
    (:class:`torch.nn.Bilinear`); a pair that lacks a member contributes a learned vector
    :math:`\mathbf{e}_{ab}` instead, which tells the next layer what is absent. A node with no
    modality gets :math:`\sum_{a<b} \mathbf{e}_{ab}`.

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality (at least two
            modalities).
        out_channels (int): Output size.
        proj_dim (int, optional): Size of the per-modality maps before the outer products;
            :obj:`None` uses the embeddings directly (:math:`d_a d_b` weights per output and
            pair). (default: :obj:`16`)

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** :math:`(N, \text{out\_channels})`
    """

    def __init__(
        self, in_channels: Mapping[str, int], out_channels: int, proj_dim: int | None = 16
    ) -> None:
        super().__init__(in_channels, min_modalities=2)
        check_positive_int(out_channels, "out_channels")
        check_positive_int(proj_dim, "proj_dim", optional=True)
        self.out_channels = out_channels
        self.proj_dim = proj_dim
        self.pairs: tuple[tuple[str, str], ...] = tuple(combinations(self.modalities, 2))
        self.projs = nn.ModuleDict()
        if proj_dim is not None:
            for m, d in self.in_channels.items():
                self.projs[m] = nn.Linear(d, proj_dim)

        def size(m: str) -> int:
            return proj_dim if proj_dim is not None else self.in_channels[m]

        self.bilinears = nn.ModuleList(
            nn.Bilinear(size(a), size(b), out_channels) for a, b in self.pairs
        )
        self.missing_pairs = nn.Parameter(torch.empty(len(self.pairs), out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise projections, bilinear maps and missing-pair vectors (std 0.02)."""
        reset_linear_layers(self.projs, self.bilinears)
        nn.init.normal_(self.missing_pairs, std=0.02)

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """Sum the projected outer products of all pairs of modalities."""
        x_list, mask_list = self.prepare(xs, masks)
        u = {}
        present = {}
        for m, x, mask in zip(self.modalities, x_list, mask_list):
            u[m] = self.projs[m](x) if self.proj_dim is not None else x
            present[m] = mask
        out = x_list[0].new_zeros(x_list[0].size(0), self.out_channels)
        for p, ((a, b), bil) in enumerate(zip(self.pairs, self.bilinears)):
            both = (present[a] & present[b])[:, None]
            out = out + torch.where(both, bil(u[a], u[b]), self.missing_pairs[p].to(out.dtype))
        return out

    def _repr_args(self) -> str:
        return f"proj_dim={self.proj_dim}"
