"""CCA / deep CCA loss (Andrew et al., 2013): minus the sum of the top canonical correlations."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mmgraph.coordination._pairs import check_pair, zero_loss


def _check_k(k: object) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"Expected 'k' to be a positive int or None (got {k!r})")


def _check_reg(reg: float) -> None:
    if not reg >= 0:
        raise ValueError(f"Expected 'reg' to be non-negative (got {reg})")


def canonical_correlations(
    a: Tensor, b: Tensor, mask: Tensor | None = None, reg: float = 1e-3
) -> Tensor:
    r"""The canonical correlations of ``a`` and ``b``, largest first (regularised covariances).

    With centred :math:`\bar{\mathbf{A}}, \bar{\mathbf{B}}` over the :math:`n` valid nodes,
    :math:`\Sigma_{aa} = \frac{1}{n-1} \bar{\mathbf{A}}^{\top}\bar{\mathbf{A}} + r\mathbf{I}`,
    :math:`\Sigma_{bb}` likewise, :math:`\Sigma_{ab} = \frac{1}{n-1}
    \bar{\mathbf{A}}^{\top}\bar{\mathbf{B}}`, they are the singular values of
    :math:`\mathbf{T} = \Sigma_{aa}^{-1/2} \Sigma_{ab} \Sigma_{bb}^{-1/2}`. Any whitening works
    in place of :math:`\Sigma^{-1/2}` (it changes :math:`\mathbf{T}` by orthogonal factors
    only), so the Cholesky factors are used, whose gradients are stable.

    Args:
        a (Tensor): ``[N, D_a]``.
        b (Tensor): ``[N, D_b]``.
        mask (Tensor, optional): Bool ``[N]``, :obj:`True` where both are present.
        reg (float, optional): Ridge :math:`r` added to the covariances. (default:
            :obj:`1e-3`)

    Returns:
        ``[min(D_a, D_b)]`` correlations (an empty tensor with fewer than 2 valid nodes).
    """
    valid = check_pair(a, b, mask, same_dim=False)
    _check_reg(reg)
    a, b = a[valid], b[valid]
    n = a.size(0)
    if n < 2:
        return a.new_zeros(0)
    a = a - a.mean(0, keepdim=True)
    b = b - b.mean(0, keepdim=True)
    eye_a = torch.eye(a.size(1), dtype=a.dtype, device=a.device)
    eye_b = torch.eye(b.size(1), dtype=b.dtype, device=b.device)
    s_aa = a.t() @ a / (n - 1) + reg * eye_a
    s_bb = b.t() @ b / (n - 1) + reg * eye_b
    s_ab = a.t() @ b / (n - 1)
    l_a = torch.linalg.cholesky(s_aa)
    l_b = torch.linalg.cholesky(s_bb)
    # T = L_a^{-1} S_ab L_b^{-T}
    left = torch.linalg.solve_triangular(l_a, s_ab, upper=False)
    t = torch.linalg.solve_triangular(l_b, left.t(), upper=False).t()
    return torch.linalg.svdvals(t)


def cca_loss(
    a: Tensor, b: Tensor, mask: Tensor | None = None, k: int | None = None, reg: float = 1e-3
) -> Tensor:
    r"""The deep CCA loss: minus the sum of the top-``k`` canonical correlations.

    From `"Deep Canonical Correlation Analysis"
    <https://proceedings.mlr.press/v28/andrew13.html>`_ (Andrew et al., ICML 2013).

    .. math::
        \mathcal{L} = -\sum_{j=1}^{k} \rho_j

    the negative sum of the top-:math:`k` canonical correlations :math:`\rho_j` of the two
    embeddings over the nodes that have both modalities (see :func:`canonical_correlations`;
    :math:`k` = all when :obj:`None`). Zero with fewer than two such nodes. Compute it on
    batches much larger than the embedding sizes, or the correlations are trivially near 1.

    Args:
        a (Tensor): Embeddings of one modality ``[N, D_a]``.
        b (Tensor): Embeddings of the other modality ``[N, D_b]``.
        mask (Tensor, optional): Bool ``[N]``, :obj:`True` where both are present.
            (default: :obj:`None`: all nodes)
        k (int, optional): Number of correlations summed. (default: :obj:`None`: all)
        reg (float, optional): Ridge added to the covariances. (default: :obj:`1e-3`)
    """
    _check_k(k)
    corr = canonical_correlations(a, b, mask, reg)
    if corr.numel() == 0:
        valid = check_pair(a, b, mask, same_dim=False)
        return zero_loss(a[valid], b[valid])
    return -corr[:k].sum()


class CCALoss(nn.Module):
    """Module form of :func:`cca_loss` (no parameters).

    Args:
        k (int, optional): Number of correlations summed. (default: :obj:`None`: all)
        reg (float, optional): Ridge added to the covariances. (default: :obj:`1e-3`)
    """

    needs_edge_index: bool = False
    """Whether :meth:`forward` takes the graph's ``edge_index`` (it does not)."""

    def __init__(self, k: int | None = None, reg: float = 1e-3) -> None:
        super().__init__()
        _check_k(k)
        _check_reg(reg)
        self.k = k
        self.reg = float(reg)

    def reset_parameters(self) -> None:
        """Nothing to reset."""

    def forward(self, a: Tensor, b: Tensor, mask: Tensor | None = None) -> Tensor:
        """Return :func:`cca_loss` of ``a`` and ``b``."""
        return cca_loss(a, b, mask, self.k, self.reg)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(k={self.k}, reg={self.reg})"
