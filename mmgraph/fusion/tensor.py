"""Tensor Fusion (Zadeh et al., 2017): the outer product of the modalities, each with a 1."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from mmgraph.fusion.base import FusionHead
from mmgraph.resolver import check_positive_int


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
    ``out_channels`` when a linear map :math:`\mathbf{W}\mathbf{z}_i + \mathbf{b}` follows.

    An absent modality contributes only through its constant :math:`1`: its vector is replaced
    by :math:`[\mathbf{0}; 1]`, which keeps exactly the terms that do not involve it. A node
    with no modality at all has :math:`\mathbf{z}_i` equal to the one-hot vector of the
    constant term (so the output is the constant column of :math:`\mathbf{W}` plus
    :math:`\mathbf{b}`).

    The size grows as the product of the modality sizes (three modalities of size 32 give
    35,937 entries per node): with ``proj_dim``, each modality is first mapped to
    :math:`\mathbf{u}_m = \mathbf{P}_m \mathbf{x}_m + \mathbf{c}_m` of size
    :math:`\min(d_m, \text{proj\_dim})` (an absent modality stays :math:`[\mathbf{0}; 1]`);
    :func:`tfn_proj_dim` picks the largest size that keeps the fused width within a limit, as
    :class:`~mmgraph.models.MultimodalGNN` does by default. Or use
    :class:`~mmgraph.fusion.LowRankFusion`.

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality.
        out_channels (int, optional): If set, the size of a linear map applied to the fused tensor.
            (default: :obj:`None`: output the flattened tensor)
        proj_dim (int, optional): Size of the per-modality maps before the outer product;
            :obj:`None` uses the embeddings directly. (default: :obj:`None`)

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** :math:`(N, \prod_m (d_m + 1))` or :math:`(N, \text{out\_channels})`
    """

    max_fused_dim = 1024
    """Widest product a model builds by name unless ``proj_dim`` is given (:meth:`auto_options`)."""

    @classmethod
    def auto_options(cls, in_channels: Mapping[str, int], options: Mapping[str, Any]) -> dict:
        """``proj_dim`` from :func:`tfn_proj_dim`, when not given and the product is too wide.

        The outer product of three 64-dim modalities has 274,625 entries per node: each
        modality is projected first so the fused width stays within :attr:`max_fused_dim`.
        """
        if "proj_dim" in options:
            return {}
        proj_dim = tfn_proj_dim(in_channels, cls.max_fused_dim)
        return {} if proj_dim is None else {"proj_dim": proj_dim}

    def __init__(
        self,
        in_channels: Mapping[str, int],
        out_channels: int | None = None,
        proj_dim: int | None = None,
    ) -> None:
        super().__init__(in_channels)
        check_positive_int(out_channels, "out_channels", optional=True)
        check_positive_int(proj_dim, "proj_dim", optional=True)
        self.proj_dim = proj_dim
        self.projs = nn.ModuleDict()
        if proj_dim is not None:
            for m, d in self.in_channels.items():
                self.projs[m] = nn.Linear(d, min(d, proj_dim))
        sizes = [min(d, proj_dim) if proj_dim else d for d in self.in_channels.values()]
        self.fused_dim = math.prod(d + 1 for d in sizes)
        self.lin = nn.Linear(self.fused_dim, out_channels) if out_channels is not None else None
        self.out_channels = out_channels if out_channels is not None else self.fused_dim
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the per-modality maps and the linear map, if any."""
        for proj in self.projs.values():
            assert isinstance(proj, nn.Linear)  # built so in __init__
            proj.reset_parameters()
        if self.lin is not None:
            self.lin.reset_parameters()

    def fuse(self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None) -> Tensor:
        r"""Return the flattened tensor product :math:`\mathbf{z}` (before the linear map)."""
        x_list, mask_list = self.prepare(xs, masks)
        if self.proj_dim is not None:
            projected = []
            for m, x, mask in zip(self.modalities, x_list, mask_list):
                proj: nn.Module = self.projs[m]
                projected.append(proj(x) * mask[:, None].to(x.dtype))  # absent: still [0; 1]
            x_list = projected
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

    def _repr_out_channels(self) -> int | None:
        return self.lin.out_features if self.lin is not None else None

    def _repr_args(self) -> str:
        proj = f", proj_dim={self.proj_dim}" if self.proj_dim is not None else ""
        return f"fused_dim={self.fused_dim}{proj}"


def tfn_proj_dim(in_channels: Mapping[str, int], max_fused_dim: int = 1024) -> int | None:
    r"""The largest per-modality size keeping Tensor Fusion's width within ``max_fused_dim``.

    Returns :obj:`None` when the modalities need no projection
    (:math:`\prod_m (d_m + 1) \le` ``max_fused_dim``), else the largest :math:`p \ge 1` with
    :math:`\prod_m (\min(d_m, p) + 1) \le` ``max_fused_dim`` (at least 1).
    """
    check_positive_int(max_fused_dim, "max_fused_dim")
    dims = list(in_channels.values())
    if math.prod(d + 1 for d in dims) <= max_fused_dim:
        return None
    best = 1
    for p in range(1, max(dims) + 1):
        if math.prod(min(d, p) + 1 for d in dims) > max_fused_dim:
            break
        best = p
    return best
