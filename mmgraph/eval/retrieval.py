"""Cross-modal retrieval: find each node's item in another modality among all nodes'."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from mmgraph.eval._checks import as_mask, as_matrix, check_same_length
from mmgraph.names import RETRIEVAL_METRICS as RETRIEVAL_METRICS
from mmgraph.resolver import check_positive_int

_TIE_RTOL = 1e-9


def similarity(q: torch.Tensor, g: torch.Tensor, metric: str = "cosine") -> torch.Tensor:
    """Similarities ``[Q, G]`` of queries ``q`` ``[Q, D]`` to gallery items ``g`` ``[G, D]``.

    Args:
        q (torch.Tensor): Query embeddings ``[Q, D]``.
        g (torch.Tensor): Gallery embeddings ``[G, D]``.
        metric (str, optional): One of :obj:`RETRIEVAL_METRICS`: ``"cosine"``, ``"dot"``
            (inner product) or ``"euclidean"`` (negative distance). (default: :obj:`"cosine"`)

    Returns:
        ``[Q, G]``, larger is more similar.
    """
    if metric not in RETRIEVAL_METRICS:
        raise ValueError(
            f"Unknown retrieval metric {metric!r}; expected one of {', '.join(RETRIEVAL_METRICS)}"
        )
    if metric == "cosine":
        q = torch.nn.functional.normalize(q, dim=1)
        g = torch.nn.functional.normalize(g, dim=1)
    if metric == "euclidean":
        return -torch.cdist(q, g)
    return q @ g.T


def retrieval_ranks(
    queries: Any,
    gallery: Any,
    mask: Any | None = None,
    metric: str = "cosine",
    batch_size: int = 1024,
) -> np.ndarray:
    """Rank of each query's match (gallery item ``i`` for query ``i``) among the gallery.

    The rank is the number of gallery items at least as similar to the query as its match
    (the match included; similarities within ``1e-9`` times the largest one of the query
    count as equal), so ties count against the query: embeddings that all collapse to one
    point score as badly as possible, not perfectly. Similarities are computed in float64.

    Args:
        queries (array-like): Query embeddings ``[N, D]``.
        gallery (array-like): Gallery embeddings ``[N, D]``; row ``i`` matches query ``i``.
        mask (array-like, optional): Nodes that take part, as queries and as gallery items
            (a bool mask ``[N]`` or integer indices). (default: :obj:`None`: all)
        metric (str, optional): Similarity, one of :obj:`RETRIEVAL_METRICS`: ``"cosine"``,
            ``"dot"`` (inner product) or ``"euclidean"`` (negative distance).
            (default: :obj:`"cosine"`)
        batch_size (int, optional): Queries compared at once. (default: :obj:`1024`)

    Returns:
        Ranks ``[M]`` (``int64``, from 1), one per selected node, in node order.

    Shapes:
        N nodes, D dimensions, M selected nodes.
    """
    if metric not in RETRIEVAL_METRICS:
        raise ValueError(
            f"Unknown retrieval metric {metric!r}; expected one of {', '.join(RETRIEVAL_METRICS)}"
        )
    q = as_matrix(queries, "queries")
    g = as_matrix(gallery, "gallery")
    check_same_length(q, g, "queries", "gallery")
    if q.shape[1] != g.shape[1]:
        raise ValueError(
            f"Expected 'queries' and 'gallery' to have the same dimension (got {q.shape[1]} and "
            f"{g.shape[1]}); project them into one space first"
        )
    batch_size = check_positive_int(batch_size, "batch_size")
    if mask is not None:
        keep = as_mask(mask, q.shape[0], "mask")
        q, g = q[keep], g[keep]
    if q.shape[0] == 0:
        raise ValueError("Expected at least one query to take part (got none)")

    qt, gt = torch.from_numpy(q), torch.from_numpy(g)
    ranks = []
    for start in range(0, qt.shape[0], batch_size):
        sim = similarity(qt[start : start + batch_size], gt, metric)
        rows = torch.arange(sim.shape[0])
        own = sim[rows, rows + start].unsqueeze(1)
        # Equal similarities may differ in the last bits (blocked matrix products).
        tol = _TIE_RTOL * sim.abs().amax(dim=1, keepdim=True)
        ranks.append((sim >= own - tol).sum(dim=1))
    return torch.cat(ranks).numpy().astype(np.int64)


def retrieval_metrics(
    queries: Any,
    gallery: Any,
    ks: Sequence[int] = (1, 5, 10),
    mask: Any | None = None,
    metric: str = "cosine",
) -> dict[str, float]:
    """Recall@k and mean reciprocal rank of retrieving gallery item ``i`` for query ``i``.

    For instance, queries are nodes' text embeddings and the gallery their image embeddings,
    both projected into one space, and ``mask`` selects the nodes that have both. Ranks are
    those of :func:`retrieval_ranks` (ties count against the query).

    Args:
        queries (array-like): Query embeddings ``[N, D]``.
        gallery (array-like): Gallery embeddings ``[N, D]``; row ``i`` matches query ``i``.
        ks (Sequence[int], optional): The cut-offs ``k >= 1`` of ``recall@k``.
            (default: :obj:`(1, 5, 10)`)
        mask (array-like, optional): Nodes that take part, as queries and as gallery items.
            (default: :obj:`None`: all)
        metric (str, optional): ``"cosine"``, ``"dot"`` or ``"euclidean"``.
            (default: :obj:`"cosine"`)

    Returns:
        A dict with ``recall@k`` for each ``k`` (the fraction of queries whose match ranks
        within the first ``k``) and ``mrr`` (the mean of ``1 / rank``).

    Shapes:
        N nodes, D dimensions.
    """
    if isinstance(ks, (int, np.integer, str)) or not hasattr(ks, "__iter__"):
        raise TypeError(f"Expected 'ks' to be a sequence of ints (got {ks!r})")
    cutoffs = [check_positive_int(k, "k") for k in ks]
    if not cutoffs:
        raise ValueError("Expected at least one cut-off in 'ks' (got none)")
    ranks = retrieval_ranks(queries, gallery, mask=mask, metric=metric)
    out = {f"recall@{k}": float((ranks <= k).mean()) for k in cutoffs}
    out["mrr"] = float((1.0 / ranks).mean())
    return out
