"""Compressed sparse row (CSR) adjacency, the input of the random walkers and samplers."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from mmgraph.resolver import check_edge_index

if TYPE_CHECKING:
    from mmgraph.data.graph import MultimodalGraph

_BY = ("source", "target")


def _check_edge_field(value: Any, name: str, num_edges: int, floating: bool) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"Expected '{name}' to be a torch.Tensor (got {type(value).__name__!r})")
    if floating and not value.is_floating_point():
        raise TypeError(
            f"Expected '{name}' to be a float tensor (got '{value.dtype}'); use `.float()`"
        )
    if not floating and (value.is_floating_point() or value.dtype == torch.bool):
        raise TypeError(
            f"Expected '{name}' to be of integer type (got '{value.dtype}'); use `.long()`"
        )
    if value.shape != (num_edges,):
        raise ValueError(
            f"Expected '{name}' to have shape [{num_edges}] (one per edge) "
            f"(got {list(value.shape)})"
        )
    if floating and num_edges and not bool(torch.isfinite(value).all()):
        raise ValueError(f"Found NaN or infinite values in '{name}': fill or drop them first")
    if not floating and num_edges and int(value.min()) < 0:
        raise ValueError(f"Found negative relation id {int(value.min())} in '{name}'")
    return value


def expand_rows(start: Tensor, count: Tensor) -> tuple[Tensor, Tensor]:
    """List every entry of the segments ``[start[s], start[s] + count[s])``.

    Returns:
        (segment index, position) of each entry, segment by segment.
    """
    total = int(count.sum()) if count.numel() else 0
    seg = torch.repeat_interleave(torch.arange(count.numel()), count, output_size=total)
    shift = start - (torch.cumsum(count, 0) - count)  # position minus running index
    return seg, torch.arange(total).add_(shift.index_select(0, seg))


@dataclasses.dataclass(eq=False)
class CSRGraph:
    r"""A graph in compressed sparse row (CSR) form.

    The neighbours of node :math:`i` are ``col[rowptr[i]:rowptr[i + 1]]``, sorted by id.
    With ``by="source"`` the rows are sources and ``col`` holds out-neighbours (what a walk
    follows); with ``by="target"`` the rows are targets and ``col`` holds in-neighbours, the
    nodes that send messages to the row's node (what a neighbour sampler draws). Parallel
    edges are kept, in their input order.

    Build it with :meth:`from_edge_index` or :meth:`from_graph`; the tensors are read-only by
    convention (derived tables are cached on the object).

    Args:
        rowptr (torch.Tensor): Row pointers ``[N + 1]`` (int64), non-decreasing, from 0 to E.
        col (torch.Tensor): Column ids ``[E]`` (int64), sorted within each row.
        e_id (torch.Tensor): Index of each entry in the original ``edge_index`` ``[E]``.
        by (str): ``"source"`` or ``"target"``, what the rows are.
        edge_weight (torch.Tensor, optional): Weight of each entry ``[E]``.
            (default: :obj:`None`)
        edge_type (torch.Tensor, optional): Relation id of each entry ``[E]``.
            (default: :obj:`None`)
        relation_names (Sequence[str], optional): Name of each relation.
            (default: :obj:`None`)

    Shapes:
        N nodes, E edges.
    """

    rowptr: Tensor
    col: Tensor
    e_id: Tensor
    by: str
    edge_weight: Tensor | None = None
    edge_type: Tensor | None = None
    relation_names: Sequence[str] | None = None
    _cache: dict[str, Any] = dataclasses.field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.by not in _BY:
            raise ValueError(f"Expected 'by' to be one of {_BY} (got {self.by!r})")
        if self.relation_names is not None:
            self.relation_names = [str(r) for r in self.relation_names]

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_edge_index(
        cls,
        edge_index: Tensor,
        num_nodes: int | None = None,
        edge_weight: Tensor | None = None,
        edge_type: Tensor | None = None,
        by: str = "source",
        relation_names: Sequence[str] | None = None,
    ) -> CSRGraph:
        """Build from an ``edge_index`` ``[2, E]`` (sorting is stable, ``O(E log E)``).

        Args:
            edge_index (torch.Tensor): Edges ``[2, E]``, source then target.
            num_nodes (int, optional): Number of nodes; the largest id + 1 when not given.
                (default: :obj:`None`)
            edge_weight (torch.Tensor, optional): Weight of each edge ``[E]``, finite.
                (default: :obj:`None`)
            edge_type (torch.Tensor, optional): Relation id of each edge ``[E]``.
                (default: :obj:`None`)
            by (str, optional): ``"source"`` (rows are sources, ``col`` out-neighbours) or
                ``"target"`` (rows are targets, ``col`` in-neighbours).
                (default: :obj:`"source"`)
            relation_names (Sequence[str], optional): Name of each relation.
                (default: :obj:`None`)
        """
        if by not in _BY:
            raise ValueError(f"Expected 'by' to be one of {_BY} (got {by!r})")
        n = check_edge_index(edge_index, num_nodes)
        num_edges = edge_index.size(1)
        if edge_weight is not None:
            edge_weight = _check_edge_field(edge_weight, "edge_weight", num_edges, floating=True)
        if edge_type is not None:
            edge_type = _check_edge_field(edge_type, "edge_type", num_edges, floating=False)
            if (
                relation_names is not None
                and num_edges
                and int(edge_type.max()) >= len(relation_names)
            ):
                raise ValueError(
                    f"Found relation id {int(edge_type.max())} in 'edge_type' but only "
                    f"{len(relation_names)} 'relation_names'"
                )
        edge_index = edge_index.long()
        row, col = (edge_index[0], edge_index[1]) if by == "source" else edge_index.flip(0)
        perm = torch.sort(row * max(n, 1) + col, stable=True).indices
        count = torch.bincount(row, minlength=n)
        rowptr = torch.zeros(n + 1, dtype=torch.long)
        torch.cumsum(count, 0, out=rowptr[1:])
        return cls(
            rowptr,
            col[perm],
            perm,
            by,
            edge_weight=None if edge_weight is None else edge_weight[perm],
            edge_type=None if edge_type is None else edge_type.long()[perm],
            relation_names=relation_names,
        )

    @classmethod
    def from_graph(cls, graph: MultimodalGraph, by: str = "source") -> CSRGraph:
        """Build from a :class:`~mmgraph.data.MultimodalGraph` (or any PyG ``Data``).

        Keeps ``edge_weight``, ``edge_type`` and ``relation_names`` where the graph has them.
        """
        edge_index = getattr(graph, "edge_index", None)
        if edge_index is None:
            edge_index = torch.empty(2, 0, dtype=torch.long)
        return cls.from_edge_index(
            edge_index,
            graph.num_nodes,
            edge_weight=getattr(graph, "edge_weight", None),
            edge_type=getattr(graph, "edge_type", None),
            by=by,
            relation_names=getattr(graph, "relation_names", None),
        )

    # ------------------------------------------------------------------ views
    @property
    def num_nodes(self) -> int:
        """Number of nodes."""
        return self.rowptr.numel() - 1

    @property
    def num_edges(self) -> int:
        """Number of edges (entries)."""
        return self.col.numel()

    @property
    def num_relations(self) -> int:
        """Number of relations (from ``relation_names``, else the largest id + 1; 1 if untyped)."""
        if self.relation_names is not None:
            return len(self.relation_names)
        if self.edge_type is None or self.edge_type.numel() == 0:
            return 1
        return int(self.edge_type.max()) + 1

    @property
    def degree(self) -> Tensor:
        """Number of entries in each row ``[N]``: out-degree by source, in-degree by target."""
        return self.rowptr[1:] - self.rowptr[:-1]

    @property
    def row(self) -> Tensor:
        """The row of each entry ``[E]`` (cached)."""
        if "row" not in self._cache:
            self._cache["row"] = torch.repeat_interleave(
                torch.arange(self.num_nodes), self.degree, output_size=self.num_edges
            )
        return self._cache["row"]

    def edge_index(self) -> Tensor:
        """The edges ``[2, E]`` in CSR order, source then target (whatever ``by`` is)."""
        ei = torch.stack([self.row, self.col])
        return ei if self.by == "source" else ei.flip(0)

    def relation_id(self, relation: str | int) -> int:
        """The id of a relation given by name or id; unknown names list the valid ones."""
        if isinstance(relation, bool) or not isinstance(relation, (str, int)):
            raise TypeError(f"Expected a relation name or id (got {type(relation).__name__!r})")
        if isinstance(relation, str):
            if self.relation_names is None or relation not in self.relation_names:
                raise KeyError(
                    f"Unknown relation {relation!r}; valid relations: {self.relation_names}"
                    if self.relation_names is not None
                    else f"Unknown relation {relation!r}: the graph has no 'relation_names', "
                    "use relation ids"
                )
            return self.relation_names.index(relation)
        if not 0 <= relation < self.num_relations:
            raise KeyError(
                f"Unknown relation id {relation}; valid ids are 0..{self.num_relations - 1}"
            )
        return relation

    def __repr__(self) -> str:
        parts = [f"num_nodes={self.num_nodes}", f"num_edges={self.num_edges}", f"by={self.by!r}"]
        if self.edge_weight is not None:
            parts.append("weighted=True")
        if self.edge_type is not None:
            parts.append(f"num_relations={self.num_relations}")
        return f"{self.__class__.__name__}({', '.join(parts)})"
