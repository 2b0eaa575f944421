"""Gated (attention) fusion: per-node weights over the present modalities."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from mmgraph.fusion.base import FusionHead, reset_linear_layers
from mmgraph.resolver import check_positive_int


def masked_softmax(scores: Tensor, mask: Tensor) -> Tensor:
    """Softmax over the last dimension restricted to ``mask``; all-masked rows give zeros.

    Args:
        scores (Tensor): Scores ``[..., M]``.
        mask (Tensor): Bool ``[..., M]``, :obj:`True` where a score takes part.
    """
    any_present = mask.any(dim=-1, keepdim=True)
    scores = scores.masked_fill(~mask, float("-inf"))
    scores = torch.where(any_present, scores, scores.new_zeros(()))
    return torch.softmax(scores, dim=-1) * any_present


class GatedFusion(FusionHead):
    r"""Attention-gated fusion with weights per node over the present modalities.

    In the spirit of the `Gated Multimodal Unit <https://arxiv.org/abs/1702.01992>`_ (Arevalo
    et al., 2017) and of attention-based fusion.

    .. math::
        \mathbf{h}_{i,m} &= \mathbf{W}_m \mathbf{x}_{i,m} + \mathbf{b}_m \\
        s_{i,m} &= \mathbf{v}^{\top} \tanh(\mathbf{U} \mathbf{h}_{i,m} + \mathbf{c}) + p_m \\
        \alpha_{i,m} &= \frac{\exp(s_{i,m})}{\sum_{m' \in \mathcal{P}_i} \exp(s_{i,m'})}
        \quad (m \in \mathcal{P}_i), \qquad \alpha_{i,m} = 0 \quad (m \notin \mathcal{P}_i) \\
        \mathbf{z}_i &= \sum_{m} \alpha_{i,m} \mathbf{h}_{i,m}

    :math:`\mathcal{P}_i` is the set of modalities node :math:`i` has, so the gate weights are
    renormalised over the present modalities; :math:`p_m` is a learned per-modality prior. A
    node with no modality at all gets the zero vector (and zero weights).

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality.
        out_channels (int): Size of the common space and of the output.
        attention_dim (int, optional): Size of the scorer's hidden layer.
            (default: :obj:`None`: ``out_channels``)

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** :math:`(N, \text{out\_channels})`
    """

    def __init__(
        self, in_channels: Mapping[str, int], out_channels: int, attention_dim: int | None = None
    ) -> None:
        super().__init__(in_channels)
        check_positive_int(out_channels, "out_channels")
        check_positive_int(attention_dim, "attention_dim", optional=True)
        self.out_channels = out_channels
        self.attention_dim = attention_dim if attention_dim is not None else out_channels
        self.lins = nn.ModuleDict(
            {m: nn.Linear(d, out_channels) for m, d in self.in_channels.items()}
        )
        self.score_hidden = nn.Linear(out_channels, self.attention_dim)
        self.score_out = nn.Linear(self.attention_dim, 1, bias=False)
        self.prior = nn.Parameter(torch.empty(len(self.modalities)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the maps and the scorer; zero priors (equal weights a priori)."""
        reset_linear_layers(self.lins, self.score_hidden, self.score_out)
        nn.init.zeros_(self.prior)

    def _project_and_weigh(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None
    ) -> tuple[Tensor, Tensor]:
        x_list, mask_list = self.prepare(xs, masks)
        h = torch.stack([self.lins[m](x) for m, x in zip(self.modalities, x_list)], dim=1)
        scores = self.score_out(torch.tanh(self.score_hidden(h))).squeeze(-1) + self.prior
        return h, masked_softmax(scores, torch.stack(mask_list, dim=1))

    def attention_weights(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        r"""Return the gate weights :math:`\alpha` ``[N, M]`` (modalities in canonical order)."""
        return self._project_and_weigh(xs, masks)[1]

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """Weigh the mapped present modalities of each node by their gates."""
        h, weights = self._project_and_weigh(xs, masks)
        return (weights[:, :, None] * h).sum(dim=1)

    def _repr_args(self) -> str:
        return f"attention_dim={self.attention_dim}"
