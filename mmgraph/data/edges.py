"""Edge utilities that keep relation types and weights aligned with the edges."""

from __future__ import annotations

import torch
from torch import Tensor


def coalesce_typed(
    edge_index: Tensor,
    num_nodes: int,
    edge_type: Tensor | None = None,
    edge_weight: Tensor | None = None,
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """Sort edges by (source, target, relation) and merge duplicates (weights are averaged).

    Returns:
        (edge_index, edge_type, edge_weight), the latter two :obj:`None` when not given.
    """
    if edge_index.numel() == 0:
        return edge_index.view(2, 0).long(), edge_type, edge_weight
    num_rel = int(edge_type.max()) + 1 if edge_type is not None and edge_type.numel() else 1
    key = edge_index[0] * num_nodes + edge_index[1]
    if edge_type is not None:
        key = key * num_rel + edge_type
    unique, inverse = torch.unique(key, sorted=True, return_inverse=True)
    if edge_type is not None:
        out_type: Tensor | None = unique % num_rel
        pair = unique // num_rel
    else:
        out_type = None
        pair = unique
    out_index = torch.stack([pair // num_nodes, pair % num_nodes])
    out_weight = None
    if edge_weight is not None:
        total = torch.zeros(unique.numel(), dtype=edge_weight.dtype).index_add_(
            0, inverse, edge_weight
        )
        count = torch.zeros(unique.numel(), dtype=edge_weight.dtype).index_add_(
            0, inverse, torch.ones_like(edge_weight)
        )
        out_weight = total / count
    return out_index, out_type, out_weight


def count_duplicate_edges(
    edge_index: Tensor, num_nodes: int, edge_type: Tensor | None = None
) -> int:
    """How many edges repeat an earlier one: the same source, target (and relation)."""
    distinct, _, _ = coalesce_typed(edge_index, num_nodes, edge_type)
    return int(edge_index.size(1) - distinct.size(1))


def make_undirected(
    edge_index: Tensor,
    num_nodes: int,
    edge_type: Tensor | None = None,
    edge_weight: Tensor | None = None,
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """Add the reverse of every edge (same relation, same weight), then coalesce.

    An edge listed in both directions stays one edge each way; its weights are averaged.
    """
    rev = edge_index.flip(0)
    edge_index = torch.cat([edge_index, rev], dim=1)
    if edge_type is not None:
        edge_type = torch.cat([edge_type, edge_type])
    if edge_weight is not None:
        edge_weight = torch.cat([edge_weight, edge_weight])
    return coalesce_typed(edge_index, num_nodes, edge_type, edge_weight)
