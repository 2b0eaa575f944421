"""Symmetric InfoNCE with a learnable temperature (CLIP, Radford et al., 2021)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.coordination._pairs import check_pair, zero_loss

CLIP_LOGIT_SCALE = math.log(1 / 0.07)
"""CLIP's initial ``logit_scale``: the log of the inverse of a temperature of 0.07."""


def info_nce_loss(
    a: Tensor,
    b: Tensor,
    mask: Tensor | None = None,
    logit_scale: Tensor | float = CLIP_LOGIT_SCALE,
    max_scale: float = 100.0,
) -> Tensor:
    r"""The symmetric InfoNCE loss of `CLIP <https://arxiv.org/abs/2103.00020>`_.

    .. math::
        \ell_{ij} = e^{\tau} \cos(\mathbf{a}_i, \mathbf{b}_j), \qquad
        \mathcal{L} = \frac{1}{2|\mathcal{V}|} \sum_{i \in \mathcal{V}} \left(
        -\log \frac{e^{\ell_{ii}}}{\sum_{j \in \mathcal{V}} e^{\ell_{ij}}}
        -\log \frac{e^{\ell_{ii}}}{\sum_{j \in \mathcal{V}} e^{\ell_{ji}}} \right)

    over the nodes :math:`\mathcal{V}` that have both modalities (each other node of
    :math:`\mathcal{V}` is a negative; zero when :math:`|\mathcal{V}| < 2`). The scale
    :math:`e^{\tau}` is clamped to at most ``max_scale`` (CLIP: 100).

    Args:
        a (Tensor): Embeddings of one modality ``[N, D]``.
        b (Tensor): Embeddings of the other modality ``[N, D]``.
        mask (Tensor, optional): Bool ``[N]``, :obj:`True` where both are present.
            (default: :obj:`None`: all nodes)
        logit_scale (Tensor or float, optional): :math:`\tau`, the log of the inverse
            temperature. (default: :math:`\log(1/0.07)`)
        max_scale (float, optional): Largest allowed :math:`e^{\tau}`. (default: :obj:`100.0`)
    """
    valid = check_pair(a, b, mask)
    a, b = a[valid], b[valid]
    n = a.size(0)
    if n < 2:
        return zero_loss(a, b)
    if not isinstance(logit_scale, Tensor):
        logit_scale = torch.tensor(float(logit_scale), dtype=a.dtype, device=a.device)
    scale = logit_scale.clamp(max=math.log(max_scale)).exp()
    logits = scale * (F.normalize(a, dim=1) @ F.normalize(b, dim=1).t())
    target = torch.arange(n, device=a.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target)) / 2


class InfoNCELoss(nn.Module):
    r"""Module form of :func:`info_nce_loss` holding the (learnable) ``logit_scale``.

    Args:
        temperature (float, optional): Initial temperature; ``logit_scale`` starts at
            :math:`\log(1/\text{temperature})`. (default: :obj:`0.07`)
        learnable (bool, optional): Learn ``logit_scale`` (a parameter) or keep it fixed (a
            buffer). (default: :obj:`True`)
        max_scale (float, optional): Largest allowed :math:`e^{\tau}`. (default: :obj:`100.0`)
    """

    needs_edge_index: bool = False
    """Whether :meth:`forward` takes the graph's ``edge_index`` (it does not)."""

    def __init__(
        self, temperature: float = 0.07, learnable: bool = True, max_scale: float = 100.0
    ) -> None:
        super().__init__()
        if not 0 < temperature < math.inf:
            raise ValueError(
                f"Expected 'temperature' to be positive and finite (got {temperature})"
            )
        if not max_scale > 0:
            raise ValueError(f"Expected 'max_scale' to be positive (got {max_scale})")
        self.temperature = float(temperature)
        self.learnable = bool(learnable)
        self.max_scale = float(max_scale)
        scale = torch.empty(())
        if self.learnable:
            self.logit_scale = nn.Parameter(scale)
        else:
            self.register_buffer("logit_scale", scale)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Set ``logit_scale`` back to :math:`\log(1/\text{temperature})`."""
        with torch.no_grad():
            self.logit_scale.fill_(math.log(1.0 / self.temperature))

    def forward(self, a: Tensor, b: Tensor, mask: Tensor | None = None) -> Tensor:
        """Return :func:`info_nce_loss` of ``a`` and ``b`` with this module's scale."""
        return info_nce_loss(a, b, mask, self.logit_scale, self.max_scale)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(temperature={self.temperature}, "
            f"learnable={self.learnable}, max_scale={self.max_scale})"
        )
