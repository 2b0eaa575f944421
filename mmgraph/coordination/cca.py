"""CCA: the deep CCA loss (Andrew et al., 2013) and the linear CCA maps of two views."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mmgraph.coordination._pairs import check_pair, zero_loss
from mmgraph.errors import InputError
from mmgraph.resolver import check_positive_int


def _check_k(k: object) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"Expected 'k' to be a positive int or None (got {k!r})")


def _cholesky(cov: Tensor, name: str, reg: float) -> Tensor:
    """The Cholesky factor of the covariance of view ``name``, or a clear refusal.

    Without a ridge, a view with a constant or repeated column (redundant one-hot
    attributes) has a singular covariance, which no whitening exists for.
    """
    factor, info = torch.linalg.cholesky_ex(cov)
    if int(info) != 0:
        raise InputError(
            f"The covariance of {name!r} is singular (reg={reg}): it has a constant column or "
            "columns that are linear combinations of others. Give reg > 0 (the default is "
            "1e-3), or drop those columns"
        )
    return factor


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

    Raises:
        InputError: NaN or infinite values in the rows ``mask`` selects, or with
            ``reg=0`` a singular covariance (a constant or repeated column).
    """
    valid = check_pair(a, b, mask, same_dim=False)
    _check_reg(reg)
    a, b = a[valid], b[valid]  # (check_pair refused NaN or infinite values in them)
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
    l_a = _cholesky(s_aa, "a", reg)
    l_b = _cholesky(s_bb, "b", reg)
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
    two_d = isinstance(a, Tensor) and isinstance(b, Tensor) and a.dim() == b.dim() == 2
    dims = min(a.size(1), b.size(1)) if two_d else None
    if k is not None and dims is not None and k > dims:
        raise ValueError(
            f"Expected 'k' <= {dims}, the number of canonical correlations of {a.size(1)}- and "
            f"{b.size(1)}-dimensional views (got {k}): pass k <= {dims}, or None for all"
        )
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

    aligns_up_to_linear_maps: bool = True
    """The loss does not fix the axes of either view (without the ridge it is invariant to
    invertible linear maps of each), so the projections it trains are compared only after a
    :class:`LinearCCA` fitted on top (the other losses leave this flag off: their shared space
    is compared as it is).

    The ridge ``reg`` is a fixed amount, as in Andrew et al.: it keeps the loss defined for
    degenerate projections, but it also makes the loss depend on the views' scale. A view
    whose variances are near ``reg`` loses correlation to it (scaled by 0.01 from unit
    variance, a top correlation of 0.96 reads 0.29), so the loss slightly favours larger
    projections; it is invariant to linear maps only up to that."""

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


class LinearCCA:
    r"""Linear canonical correlation analysis: maps of two views onto their canonical axes.

    From `"Relations Between Two Sets of Variates"
    <https://doi.org/10.2307/2333955>`_ (Hotelling, Biometrika 1936). With the regularised
    covariances of :func:`canonical_correlations`,
    :math:`\Sigma_{aa} + r\mathbf{I} = \mathbf{L}_a \mathbf{L}_a^{\top}` (Cholesky),
    likewise :math:`\mathbf{L}_b`, and the singular value decomposition
    :math:`\mathbf{L}_a^{-1} \Sigma_{ab} \mathbf{L}_b^{-\top} = \mathbf{U} \operatorname{diag}
    (\boldsymbol{\rho}) \mathbf{V}^{\top}`, the maps are

    .. math::
        f_a(\mathbf{x}) = (\mathbf{x} - \boldsymbol{\mu}_a)\, \mathbf{L}_a^{-\top}
        \mathbf{U}_{:, :K}, \qquad
        f_b(\mathbf{y}) = (\mathbf{y} - \boldsymbol{\mu}_b)\, \mathbf{L}_b^{-\top}
        \mathbf{V}_{:, :K}

    On the fitted nodes (with ``reg=0``) each mapped view has unit variance and uncorrelated
    axes, and axis :math:`j` of :math:`f_a` correlates with axis :math:`j` of :math:`f_b` by
    :math:`\rho_j` (largest first) and with no other axis of :math:`f_b`: both views land in
    one space where matching rows are near. Each axis's sign is arbitrary but shared by the
    two maps. With a ridge the mapped variances fall below 1 where a view's own variances
    are not large against ``reg`` (a view of variance 0.0025, ``reg=1e-3``: about 0.7).
    Fitted and applied in float64; the means are taken in the input's dtype.

    This is the evaluation map of deep CCA (:class:`CCALoss` is invariant to invertible
    linear maps of either view, so its projections are aligned only after this), and the
    map :class:`~mmgraph.retrieval.Retriever` fits between two modalities a model did not
    coordinate.

    Args:
        out_channels (int, optional): Number :math:`K` of canonical axes kept.
            (default: :obj:`None`: :math:`\min(D_a, D_b)`)
        reg (float, optional): Ridge :math:`r` added to each view's covariance.
            (default: :obj:`1e-3`)

    Shapes:
        - **fit:** ``a`` :math:`(N, D_a)`, ``b`` :math:`(N, D_b)`, ``mask`` bool :math:`(N)`
        - **transform_a:** :math:`(M, D_a) \to (M, K)`; **transform_b:** :math:`(M, D_b)
          \to (M, K)`, float64
    """

    def __init__(self, out_channels: int | None = None, reg: float = 1e-3) -> None:
        if out_channels is not None:
            check_positive_int(out_channels, "out_channels")
        _check_reg(reg)
        self.out_channels = out_channels
        self.reg = float(reg)
        self.mean_a_: Tensor | None = None
        self.mean_b_: Tensor | None = None
        self.weight_a_: Tensor | None = None
        self.weight_b_: Tensor | None = None
        self.correlations_: Tensor | None = None

    def fit(self, a: Tensor, b: Tensor, mask: Tensor | None = None) -> LinearCCA:
        """Fit the maps on the rows of ``a`` and ``b`` where ``mask`` is :obj:`True`.

        Args:
            a (Tensor): The first view ``[N, D_a]``.
            b (Tensor): The second view of the same nodes ``[N, D_b]``.
            mask (Tensor, optional): Bool ``[N]``, :obj:`True` where both views are present.
                (default: :obj:`None`: all rows)

        Returns:
            ``self``, fitted.

        Raises:
            InputError: Fewer than two rows to fit on, NaN or infinite values in them, or
                ``out_channels`` larger than ``min(D_a, D_b)``.
        """
        valid = check_pair(a, b, mask, same_dim=False)
        a, b = a[valid], b[valid]  # (check_pair refused NaN or infinite values in them)
        n = a.size(0)
        if n < 2:
            raise InputError(
                f"LinearCCA needs at least 2 nodes with both views to fit on (got {n}): give "
                "more nodes, or a mask that selects more"
            )
        k_max = min(a.size(1), b.size(1))
        k = k_max if self.out_channels is None else self.out_channels
        if k > k_max:
            raise InputError(
                f"Expected 'out_channels' <= min(D_a, D_b) = {k_max} (got {k}): CCA has at "
                "most as many canonical axes as the smaller view has dimensions"
            )
        mean_a, mean_b = a.mean(0), b.mean(0)
        a, b = (a - mean_a).double(), (b - mean_b).double()
        eye_a = torch.eye(a.size(1), dtype=torch.float64, device=a.device)
        eye_b = torch.eye(b.size(1), dtype=torch.float64, device=b.device)
        l_a = _cholesky(a.T @ a / (n - 1) + self.reg * eye_a, "a", self.reg)
        l_b = _cholesky(b.T @ b / (n - 1) + self.reg * eye_b, "b", self.reg)
        left = torch.linalg.solve_triangular(l_a, a.T @ b / (n - 1), upper=False)
        t = torch.linalg.solve_triangular(l_b, left.T, upper=False).T  # L_a^-1 S_ab L_b^-T
        u, s, vh = torch.linalg.svd(t)
        # Whitened coordinates x L^-T, then the singular vectors.
        self.weight_a_ = torch.linalg.solve_triangular(l_a.T, u[:, :k], upper=True)
        self.weight_b_ = torch.linalg.solve_triangular(l_b.T, vh[:k].T, upper=True)
        self.mean_a_, self.mean_b_ = mean_a, mean_b
        self.correlations_ = s[:k]
        return self

    def _map(self, x: Tensor, view: str) -> Tensor:
        mean, weight = (
            (self.mean_a_, self.weight_a_) if view == "a" else (self.mean_b_, self.weight_b_)
        )
        if mean is None or weight is None:
            raise InputError("This LinearCCA is not fitted yet: call fit(a, b) before transforming")
        if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() != 2:
            got = f"shape {list(x.shape)}" if isinstance(x, Tensor) else type(x).__name__
            raise InputError(f"Expected a float tensor [M, D] for view {view!r} (got {got})")
        if x.size(1) != weight.size(0):
            raise InputError(
                f"Expected {weight.size(0)} columns for view {view!r}, as in fit (got "
                f"{x.size(1)}): transform the same kind of inputs the maps were fitted on"
            )
        return (x - mean.to(x.device)).double() @ weight.to(x.device)

    def transform_a(self, x: Tensor) -> Tensor:
        """Map rows of the first view onto the canonical axes: ``[M, D_a] -> [M, K]``."""
        return self._map(x, "a")

    def transform_b(self, x: Tensor) -> Tensor:
        """Map rows of the second view onto the canonical axes: ``[M, D_b] -> [M, K]``."""
        return self._map(x, "b")

    def transform(self, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
        """Both maps: ``(transform_a(a), transform_b(b))``."""
        return self.transform_a(a), self.transform_b(b)

    def fit_transform(
        self, a: Tensor, b: Tensor, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """:meth:`fit` on the masked rows, then :meth:`transform` of all rows."""
        return self.fit(a, b, mask).transform(a, b)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(out_channels={self.out_channels}, reg={self.reg})"
