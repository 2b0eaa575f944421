"""Late fusion: one prediction per modality, combined by a masked weighted average."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from mmgraph.fusion.base import FusionHead, reset_linear_layers
from mmgraph.fusion.gated import masked_softmax
from mmgraph.resolver import check_positive_int


class LateFusion(FusionHead):
    r"""Late (decision-level) fusion: per-modality predictions averaged over the present ones.

    .. math::
        \mathbf{p}_{i,m} &= \mathbf{W}_m \mathbf{x}_{i,m} + \mathbf{b}_m \\
        \mathbf{z}_i &= \sum_{m \in \mathcal{P}_i} w_{i,m} \, \mathbf{p}_{i,m}, \qquad
        w_{i,m} = \frac{\exp(\theta_m)}{\sum_{m' \in \mathcal{P}_i} \exp(\theta_{m'})}

    :math:`\mathcal{P}_i` is the set of modalities node :math:`i` has. With
    ``learn_weights=False`` all :math:`\theta_m = 0`, a plain mean over the present
    modalities. A node with no modality at all gets the zero vector (zero logits: no
    preference). :meth:`unimodal` returns the per-modality predictions, e.g. for auxiliary
    per-modality losses.

    Args:
        in_channels (Mapping[str, int]): Embedding size :math:`d_m` of each modality.
        out_channels (int): Size of each prediction (e.g. the number of classes).
        learn_weights (bool, optional): Learn the modality weights :math:`\theta`.
            (default: :obj:`True`)

    Shapes:
        - **input:** ``xs[m]`` :math:`(N, d_m)`, ``masks[m]`` bool :math:`(N)`
        - **output:** :math:`(N, \text{out\_channels})`
    """

    def __init__(
        self, in_channels: Mapping[str, int], out_channels: int, learn_weights: bool = True
    ) -> None:
        super().__init__(in_channels)
        check_positive_int(out_channels, "out_channels")
        self.out_channels = out_channels
        self.learn_weights = bool(learn_weights)
        self.heads = nn.ModuleDict(
            {m: nn.Linear(d, out_channels) for m, d in self.in_channels.items()}
        )
        self.weight_logits: nn.Parameter | None = (
            nn.Parameter(torch.empty(len(self.modalities))) if self.learn_weights else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the per-modality heads; equal modality weights."""
        reset_linear_layers(self.heads)
        if self.weight_logits is not None:
            nn.init.zeros_(self.weight_logits)

    def unimodal(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> dict[str, Tensor]:
        """Return each modality's prediction ``[N, out_channels]``.

        Rows of absent modalities are the head's bias; ignore them with the masks.
        """
        x_list, _ = self.prepare(xs, masks)
        return {m: self.heads[m](x) for m, x in zip(self.modalities, x_list)}

    def modality_weights(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """Return the weight of each modality for each node ``[N, M]``."""
        _, mask_list = self.prepare(xs, masks)
        return self._weights(torch.stack(mask_list, dim=1))

    def _weights(self, mask: Tensor) -> Tensor:
        logits = (
            self.weight_logits
            if self.weight_logits is not None
            else torch.zeros(mask.size(1), device=mask.device)
        )
        return masked_softmax(logits.expand(mask.shape), mask)

    def forward(
        self, xs: Mapping[str, Tensor], masks: Mapping[str, Tensor] | None = None
    ) -> Tensor:
        """Average the present modalities' predictions."""
        x_list, mask_list = self.prepare(xs, masks)
        preds = torch.stack([self.heads[m](x) for m, x in zip(self.modalities, x_list)], dim=1)
        weights = self._weights(torch.stack(mask_list, dim=1)).to(preds.dtype)
        return (weights[:, :, None] * preds).sum(dim=1)

    def _repr_args(self) -> str:
        return f"learn_weights={self.learn_weights}"
