"""Sparse aggregation ``A @ X`` with both directions held in CSR (fast forward and backward)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mmgraph.names import GLASS_AGGREGATORS
from mmgraph.nn.functional import unchecked_csr

AGGREGATIONS: tuple[str, ...] = GLASS_AGGREGATORS
"""How neighbour messages are combined: summed, averaged, or GCN-normalised."""


def is_sorted(values: Tensor) -> bool:
    """Whether ``values`` never decreases."""
    return values.numel() < 2 or not bool((values[1:] < values[:-1]).any())


def _csr(rows: Tensor, cols: Tensor, values: Tensor, shape: tuple[int, int]) -> Tensor:
    if not is_sorted(rows):  # sorted already: no sort
        order = torch.argsort(rows, stable=True)
        rows, cols, values = rows[order], cols[order], values[order]
    crow = torch.zeros(shape[0] + 1, dtype=torch.long, device=rows.device)
    torch.cumsum(torch.bincount(rows, minlength=shape[0]), 0, out=crow[1:])
    return unchecked_csr(crow, cols, values, shape)


class _MatMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, adj: Adjacency) -> Tensor:
        ctx.adj = adj
        return adj.forward_csr @ x

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return ctx.adj.backward_csr @ grad.contiguous(), None


class Adjacency:
    r"""The aggregation matrix :math:`\mathbf{A}` (targets by sources), applied as ``adj @ x``.

    Entry :math:`A_{vu}` for the edge :math:`u \to v` with weight :math:`w_{uv}` (1 when
    absent): ``"sum"``: :math:`w_{uv}`; ``"mean"``: :math:`w_{uv} / \sum_{u'} w_{u'v}`;
    ``"gcn"``: :math:`w_{uv} / \sqrt{d_u d_v}` with :math:`d` the weighted in-degrees (no
    self loops added). Targets without in-edges aggregate zeros.

    Args:
        edge_index (torch.Tensor): Edges ``[2, E]`` (source, target).
        shape (tuple[int, int]): Number of targets and of sources.
        aggr (str, optional): One of :data:`AGGREGATIONS`. (default: ``"sum"``)
        edge_weight (torch.Tensor, optional): Non-negative weights ``[E]``.
            (default: :obj:`None`)
        degree (tuple[torch.Tensor, torch.Tensor], optional): In-degrees of the targets and
            of the sources in the whole graph, for ``"gcn"`` (default: the in-degrees within
            ``edge_index``, which must then hold every in-edge of every node).
    """

    def __init__(
        self,
        edge_index: Tensor,
        shape: tuple[int, int],
        aggr: str = "sum",
        edge_weight: Tensor | None = None,
        degree: tuple[Tensor, Tensor] | None = None,
    ) -> None:
        if aggr not in AGGREGATIONS:
            raise ValueError(f"Unknown aggregation {aggr!r}; expected one of {list(AGGREGATIONS)}")
        src, dst = edge_index[0], edge_index[1]
        w = (
            torch.ones(src.numel(), device=src.device)
            if edge_weight is None
            else edge_weight.float()
        )
        if aggr == "mean":
            deg = torch.zeros(shape[0], device=src.device).index_add_(0, dst, w)
            w = w / deg.clamp(min=1e-12).index_select(0, dst)
        elif aggr == "gcn":
            if degree is None:
                deg = torch.zeros(max(shape), device=src.device).index_add_(0, dst, w)
                degree = (deg[: shape[0]], deg[: shape[1]])
            inv_dst = degree[0].float().clamp(min=1e-12).rsqrt()
            inv_src = degree[1].float().clamp(min=1e-12).rsqrt()
            w = w * inv_src.index_select(0, src) * inv_dst.index_select(0, dst)
        self.shape = (int(shape[0]), int(shape[1]))
        self.forward_csr = _csr(dst, src, w, self.shape)
        self.weight = w
        """Each edge's coefficient in the aggregation (normalised), in ``edge_index`` order."""
        self._edges = (src, dst)
        self._backward_csr: Tensor | None = None

    @property
    def backward_csr(self) -> Tensor:
        r""":math:`\mathbf{A}^\top` in CSR, built on first use (only a backward pass needs it)."""
        if self._backward_csr is None:
            src, dst = self._edges
            self._backward_csr = _csr(src, dst, self.weight, (self.shape[1], self.shape[0]))
        return self._backward_csr

    def __matmul__(self, x: Tensor) -> Tensor:
        r""":math:`\mathbf{A} \mathbf{X}` for ``x`` of shape ``[sources, C]``."""
        if x.size(0) != self.shape[1]:
            raise ValueError(f"Expected {self.shape[1]} source rows (got {x.size(0)})")
        if self.forward_csr.values().numel() == 0:
            return x.new_zeros(self.shape[0], x.size(1))
        if not (torch.is_grad_enabled() and x.requires_grad):
            return self.forward_csr @ x.contiguous()
        return _MatMul.apply(x.contiguous(), self)
