"""Cosine-similarity alignment of two modalities' embeddings."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.coordination._pairs import check_pair, zero_loss


def cosine_alignment_loss(a: Tensor, b: Tensor, mask: Tensor | None = None) -> Tensor:
    r"""Mean cosine distance between the two embeddings of each node.

    .. math::
        \mathcal{L} = \frac{1}{|\mathcal{V}|} \sum_{i \in \mathcal{V}}
        \left(1 - \frac{\mathbf{a}_i^{\top} \mathbf{b}_i}
        {\lVert \mathbf{a}_i \rVert \, \lVert \mathbf{b}_i \rVert}\right)

    over the nodes :math:`\mathcal{V}` that have both modalities (zero when there is none).

    Args:
        a (Tensor): Embeddings of one modality ``[N, D]``.
        b (Tensor): Embeddings of the other modality ``[N, D]``.
        mask (Tensor, optional): Bool ``[N]``, :obj:`True` where both are present.
            (default: :obj:`None`: all nodes)
    """
    valid = check_pair(a, b, mask)
    a, b = a[valid], b[valid]
    if a.size(0) == 0:
        return zero_loss(a, b)
    return (1.0 - F.cosine_similarity(a, b, dim=1)).mean()


class CosineAlignmentLoss(nn.Module):
    """Module form of :func:`cosine_alignment_loss` (no parameters)."""

    needs_edge_index: bool = False
    """Whether :meth:`forward` takes the graph's ``edge_index`` (it does not)."""

    def reset_parameters(self) -> None:
        """Nothing to reset."""

    def forward(self, a: Tensor, b: Tensor, mask: Tensor | None = None) -> Tensor:
        """Return :func:`cosine_alignment_loss` of ``a`` and ``b``."""
        return cosine_alignment_loss(a, b, mask)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"
