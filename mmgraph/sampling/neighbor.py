r"""Vectorised multi-hop neighbour sampling (GraphSAGE-style), in plain PyTorch.

`"Inductive Representation Learning on Large Graphs" <https://arxiv.org/abs/1706.02216>`_.
From the seed nodes, each hop draws up to ``fanouts[hop]`` in-neighbours of every node
reached in the previous hop (per relation when asked), then expands the new nodes. Without
replacement a node's neighbours are drawn by Floyd's algorithm, vectorised over all nodes
of the hop (``k`` tensor rounds for a fan-out ``k``, whatever the degrees); nodes with at
most ``k`` neighbours keep them all. New nodes are numbered in order of discovery with a
dense global-to-local table, without sorting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from mmgraph.sampling import _pyglib
from mmgraph.sampling.csr import CSRGraph, expand_rows
from mmgraph.seed import as_generator

RelationFanouts = Mapping[str | int, Sequence[int]] | Sequence[Mapping[str | int, int]]
"""Per-relation fan-outs: ``{relation: [k_hop0, k_hop1, ...]}`` or ``[{relation: k}, ...]``."""


@dataclass
class SampledSubgraph:
    """The result of :meth:`NeighborSampler.sample`.

    Attributes:
        n_id (torch.Tensor): Global id of each sampled node ``[n]``; the seeds come first,
            in their order, then the nodes new in each hop.
        edge_index (torch.Tensor): Sampled edges ``[2, m]`` in local ids, in the original
            direction: from the sampled neighbour (source) to the node that sampled it.
        e_id (torch.Tensor): Position of each sampled edge in the original ``edge_index``.
        batch_size (int): Number of seeds.
        num_sampled_nodes (list[int]): Nodes added per hop, the seeds first
            (``len(fanouts) + 1`` entries summing to ``n``).
        num_sampled_edges (list[int]): Edges sampled per hop (``len(fanouts)`` entries).
        edge_type (torch.Tensor, optional): Relation of each sampled edge, when the graph
            has relations.
    """

    n_id: Tensor
    edge_index: Tensor
    e_id: Tensor
    batch_size: int
    num_sampled_nodes: list[int]
    num_sampled_edges: list[int]
    edge_type: Tensor | None = None


def _check_fanout(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"Expected the fan-out {where} to be an int (got {type(value).__name__!r})")
    if value < -1:
        raise ValueError(
            f"Expected the fan-out {where} to be -1 (all neighbours) or at least 0 (got {value})"
        )
    return value


class NeighborSampler:
    r"""Samples multi-hop neighbourhoods of seed nodes, as PyG's ``NeighborLoader`` does.

    `"Inductive Representation Learning on Large Graphs"
    <https://arxiv.org/abs/1706.02216>`_. Every node reached in hop :math:`l - 1` draws

    .. math::
        \mathcal{S}_l(v) \subseteq \mathcal{N}_{\text{in}}(v), \qquad
        |\mathcal{S}_l(v)| = \min(k_l, |\mathcal{N}_{\text{in}}(v)|)

    neighbours uniformly (without replacement: a uniform :math:`k_l`-subset of its entries,
    parallel edges counting separately; with replacement: :math:`k_l` independent draws),
    and the nodes not seen before form hop :math:`l`. Messages flow along the sampled edges
    from :math:`u \in \mathcal{S}_l(v)` to :math:`v`.

    **pyg-lib.** With ``backend="auto"`` (the default), the sampling runs in `pyg-lib
    <https://github.com/pyg-team/pyg-lib>`_'s compiled ``neighbor_sample`` when pyg-lib is
    importable, no ``relation_fanouts`` are given and neither ``seed`` nor ``generator`` is:
    it draws from the same distribution (uniform, Floyd's algorithm without replacement) and
    returns the same :class:`SampledSubgraph`, but not the same draws, so a seeded sampler
    always runs the plain-PyTorch path and reproduces its results whether pyg-lib is
    installed or not. ``backend="pyg-lib"`` insists (an :class:`ImportError` when it is
    missing, a :class:`ValueError` with ``relation_fanouts``) and honours a seed too,
    reproducibly for a given pyg-lib release; ``backend="torch"`` never uses it. pyg-lib
    draws from PyTorch's global generator: it is seeded from this sampler's generator and
    restored afterwards, so the global random state is left untouched either way.

    Not thread-safe: a sampler reuses one scratch table across calls.

    Args:
        csr (CSRGraph): The graph, built ``by="target"`` (rows are targets, ``col`` holds
            in-neighbours), e.g. ``CSRGraph.from_graph(graph, by="target")``.
        fanouts (Sequence[int]): Neighbours per node and hop, ``-1`` for all of them.
        replace (bool, optional): Draw with replacement. (default: :obj:`False`)
        relation_fanouts (Mapping or Sequence, optional): Fan-outs per relation, overriding
            ``fanouts`` for the relations named (by name or id): ``{relation: [k per hop]}``
            or ``[{relation: k} per hop]``; each node then draws that many neighbours over
            each relation. (default: :obj:`None`)
        seed (int, optional): Seed; successive calls continue one random stream.
            (default: :obj:`None`)
        generator (torch.Generator, optional): Generator to draw from instead of ``seed``.
            (default: :obj:`None`)
        backend (str, optional): ``"auto"``, ``"torch"`` or ``"pyg-lib"``, see above; the
            attribute ``backend`` holds the one chosen (``"torch"`` or ``"pyg-lib"``).
            (default: :obj:`"auto"`)

    Shapes:
        B seeds, n sampled nodes, m sampled edges, L = ``len(fanouts)`` hops.
    """

    def __init__(
        self,
        csr: CSRGraph,
        fanouts: Sequence[int],
        replace: bool = False,
        relation_fanouts: RelationFanouts | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        backend: str = "auto",
    ) -> None:
        if not isinstance(csr, CSRGraph):
            raise TypeError(
                f"Expected 'csr' to be a CSRGraph (got {type(csr).__name__!r}); build one with "
                "`CSRGraph.from_graph(graph, by='target')`"
            )
        if csr.by != "target":
            raise ValueError(
                "Expected a CSRGraph built with by='target' (rows are targets, sampling draws "
                f"in-neighbours) (got by={csr.by!r}); rebuild it with `by='target'`"
            )
        if isinstance(fanouts, (str, bytes)) or not isinstance(fanouts, Sequence):
            raise TypeError(
                f"Expected 'fanouts' to be a list of ints (got {type(fanouts).__name__!r})"
            )
        if len(fanouts) == 0:
            raise ValueError("Expected at least one hop in 'fanouts' (got an empty list)")
        self.csr = csr
        self.fanouts = [_check_fanout(k, f"of hop {i}") for i, k in enumerate(fanouts)]
        self.replace = bool(replace)
        self.generator = as_generator(seed, generator)
        self.relation_fanouts = relation_fanouts
        self.backend = _pyglib.resolve_backend(
            backend,
            self.__class__.__name__,
            "neighbor_sample",
            unsupported=None if relation_fanouts is None else "draw per-relation fan-outs",
            seeded=seed is not None or generator is not None,
        )
        self._per_relation: Tensor | None = None  # [hops, R] fan-outs when by relation
        if relation_fanouts is not None:
            self._per_relation = self._relation_table(relation_fanouts)
            rel = csr.edge_type
            assert rel is not None
            r = self._per_relation.size(1)
            # Entries sorted by (row, relation): segment (v, r) is [relptr[v*R+r], ...+1).
            seg = csr.row * r + rel
            self._rel_order = torch.sort(seg, stable=True).indices
            count = torch.bincount(seg, minlength=csr.num_nodes * r)
            self._relptr = torch.zeros(csr.num_nodes * r + 1, dtype=torch.long)
            torch.cumsum(count, 0, out=self._relptr[1:])
        # Global id -> local id of the current sample (-1: not sampled), reset after use.
        self._local = torch.full((csr.num_nodes,), -1, dtype=torch.long)
        self._first = torch.full((csr.num_nodes,), torch.iinfo(torch.long).max, dtype=torch.long)

    def _relation_table(self, relation_fanouts: RelationFanouts) -> Tensor:
        csr = self.csr
        if csr.edge_type is None:
            raise ValueError(
                "Got 'relation_fanouts' but the graph has no 'edge_type'; drop "
                "'relation_fanouts' or build the CSRGraph with edge types"
            )
        hops = len(self.fanouts)
        table = torch.tensor(self.fanouts, dtype=torch.long).view(-1, 1)
        table = table.repeat(1, csr.num_relations)
        if isinstance(relation_fanouts, Mapping):
            for relation, per_hop in relation_fanouts.items():
                rid = csr.relation_id(relation)
                if isinstance(per_hop, (str, bytes)) or not isinstance(per_hop, Sequence):
                    raise TypeError(
                        f"Expected a list of fan-outs per hop for relation {relation!r} "
                        f"(got {type(per_hop).__name__!r})"
                    )
                if len(per_hop) != hops:
                    raise ValueError(
                        f"Expected {hops} fan-outs (one per hop, as in 'fanouts') for relation "
                        f"{relation!r} (got {len(per_hop)})"
                    )
                for hop, k in enumerate(per_hop):
                    table[hop, rid] = _check_fanout(k, f"of relation {relation!r}, hop {hop}")
        elif isinstance(relation_fanouts, Sequence) and not isinstance(relation_fanouts, str):
            if len(relation_fanouts) != hops:
                raise ValueError(
                    f"Expected {hops} per-hop dicts in 'relation_fanouts' (one per hop, as in "
                    f"'fanouts') (got {len(relation_fanouts)})"
                )
            for hop, per_relation in enumerate(relation_fanouts):
                if not isinstance(per_relation, Mapping):
                    raise TypeError(
                        f"Expected a dict {{relation: fan-out}} for hop {hop} "
                        f"(got {type(per_relation).__name__!r})"
                    )
                for relation, k in per_relation.items():
                    rid = csr.relation_id(relation)
                    table[hop, rid] = _check_fanout(k, f"of relation {relation!r}, hop {hop}")
        else:
            raise TypeError(
                "Expected 'relation_fanouts' to be {relation: [fan-out per hop]} or "
                f"[{{relation: fan-out}} per hop] (got {type(relation_fanouts).__name__!r})"
            )
        return table

    # ------------------------------------------------------------------ sampling
    def sample(self, seeds: Tensor) -> SampledSubgraph:
        """Sample the multi-hop neighbourhood of ``seeds`` (distinct node ids ``[B]``)."""
        seeds = self._check_seeds(seeds)
        local = self._local
        b = seeds.numel()
        local.index_copy_(0, seeds, torch.arange(b))
        if not bool((local.index_select(0, seeds) == torch.arange(b)).all()):
            local.index_fill_(0, seeds, -1)
            raise ValueError(
                "Found repeated seed nodes: seeds must be distinct; pass `seeds.unique()`"
            )
        if self.backend == "pyg-lib":
            local.index_fill_(0, seeds, -1)
            return self._sample_pyg_lib(seeds)
        nodes = [seeds]
        rows: list[Tensor] = []
        cols: list[Tensor] = []
        entries: list[Tensor] = []
        num_nodes, num_edges = [b], []
        frontier, frontier_local, offset = seeds, torch.arange(b), b
        try:
            for hop in range(len(self.fanouts)):
                seg, pos = self._sample_hop(hop, frontier)
                nbr = self.csr.col.index_select(0, pos)
                new = self._first_seen(nbr)
                nodes.append(new)
                local.index_copy_(0, new, torch.arange(offset, offset + new.numel()))
                rows.append(local.index_select(0, nbr))
                cols.append(frontier_local.index_select(0, seg))
                entries.append(pos)
                num_nodes.append(new.numel())
                num_edges.append(pos.numel())
                frontier = new
                frontier_local = torch.arange(offset, offset + new.numel())
                offset += new.numel()
            n_id = torch.cat(nodes)
        finally:
            for part in nodes:
                local.index_fill_(0, part, -1)
        pos = torch.cat(entries)
        edge_type = self.csr.edge_type
        return SampledSubgraph(
            n_id=n_id,
            edge_index=torch.stack([torch.cat(rows), torch.cat(cols)]),
            e_id=self.csr.e_id.index_select(0, pos),
            batch_size=b,
            num_sampled_nodes=num_nodes,
            num_sampled_edges=num_edges,
            edge_type=None if edge_type is None else edge_type.index_select(0, pos),
        )

    def _sample_pyg_lib(self, seeds: Tensor) -> SampledSubgraph:
        n_id, edge_index, pos, num_nodes, num_edges = _pyglib.neighbor_sample(
            self.csr, seeds, self.fanouts, self.replace, self.generator
        )
        edge_type = self.csr.edge_type
        return SampledSubgraph(
            n_id=n_id,
            edge_index=edge_index,
            e_id=self.csr.e_id.index_select(0, pos),
            batch_size=seeds.numel(),
            num_sampled_nodes=num_nodes,
            num_sampled_edges=num_edges,
            edge_type=None if edge_type is None else edge_type.index_select(0, pos),
        )

    def _check_seeds(self, seeds: Tensor) -> Tensor:
        if not isinstance(seeds, Tensor):
            raise TypeError(f"Expected 'seeds' to be a torch.Tensor (got {type(seeds).__name__!r})")
        if seeds.is_floating_point() or seeds.is_complex() or seeds.dtype == torch.bool:
            raise TypeError(
                f"Expected 'seeds' to be of integer type (got '{seeds.dtype}'); pass node ids, "
                "or `mask.nonzero().view(-1)` for a mask"
            )
        if seeds.dim() != 1:
            raise ValueError(f"Expected 'seeds' to have shape [B] (got {list(seeds.shape)})")
        n = self.csr.num_nodes
        if seeds.numel():
            lo, hi = int(seeds.min()), int(seeds.max())
            if lo < 0 or hi >= n:
                raise ValueError(
                    f"Found seed node {lo if lo < 0 else hi} but the graph has {n} nodes: "
                    f"seeds must be in [0, {n})"
                )
        return seeds.long()

    def _first_seen(self, nbr: Tensor) -> Tensor:
        """The nodes of ``nbr`` not numbered yet, once each, in order of first appearance."""
        local, first = self._local, self._first
        unseen = nbr.index_select(0, (local.index_select(0, nbr) < 0).nonzero().view(-1))
        if unseen.numel() == 0:
            return unseen
        order = torch.arange(unseen.numel())
        first.scatter_reduce_(0, unseen, order, reduce="amin")
        is_first = first.index_select(0, unseen) == order
        new = unseen.index_select(0, is_first.nonzero().view(-1))
        first.index_fill_(0, unseen, torch.iinfo(torch.long).max)
        return new

    def _sample_hop(self, hop: int, frontier: Tensor) -> tuple[Tensor, Tensor]:
        """Sampled entries of one hop: (index into ``frontier``, CSR position)."""
        csr = self.csr
        if self._per_relation is None:
            start = csr.rowptr.index_select(0, frontier)
            count = csr.rowptr.index_select(0, frontier + 1) - start
            k = torch.full_like(count, self.fanouts[hop])
            seg, pos = _sample_segments(start, count, k, self.replace, self.generator)
            return seg, pos
        fan = self._per_relation[hop]
        r = fan.numel()
        rels = (fan != 0).nonzero().view(-1)
        if rels.numel() == 0:
            empty = torch.empty(0, dtype=torch.long)
            return empty, empty
        segments = (frontier.view(-1, 1) * r + rels.view(1, -1)).view(-1)
        start = self._relptr.index_select(0, segments)
        count = self._relptr.index_select(0, segments + 1) - start
        k = fan.index_select(0, rels).repeat(frontier.numel())
        seg, pos = _sample_segments(start, count, k, self.replace, self.generator)
        return seg.div_(rels.numel(), rounding_mode="floor"), self._rel_order.index_select(0, pos)

    def __repr__(self) -> str:
        extra = ", relation_fanouts=..." if self.relation_fanouts is not None else ""
        extra += ", backend='pyg-lib'" if self.backend == "pyg-lib" else ""
        return f"{self.__class__.__name__}(fanouts={self.fanouts}, replace={self.replace}{extra})"


_FLOYD_MAX = 32
"""Largest fan-out drawn by Floyd's algorithm (``k`` rounds, ``O(k^2)`` per node); larger
fan-outs sort random keys over all of a node's entries instead."""


def _sample_segments(
    start: Tensor, count: Tensor, k: Tensor, replace: bool, gen: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Draw ``k[s]`` entries of each segment ``[start[s], start[s] + count[s])``.

    Without replacement, segments with at most ``k`` entries (or ``k == -1``) keep all of
    them and the others get a uniform ``k``-subset (Floyd's algorithm, or the ``k`` smallest
    of random keys for large ``k``); with replacement, ``k`` independent uniform draws (none
    from an empty segment, all entries when ``k == -1``).

    Returns:
        (segment index, position) of each drawn entry.
    """
    take_all = (k < 0) | (count <= k) if not replace else (k < 0)
    full = take_all.nonzero().view(-1)
    seg_all, pos_all = expand_rows(start.index_select(0, full), count.index_select(0, full))
    seg_all = full.index_select(0, seg_all)
    part = (~take_all & (k > 0) & (count > 0)).nonzero().view(-1)
    if part.numel() == 0:
        return seg_all, pos_all
    c, kk, first = count.index_select(0, part), k.index_select(0, part), start.index_select(0, part)
    if replace:
        rows, offset = _with_replacement(c, kk, gen)
    elif int(kk.max()) <= _FLOYD_MAX:
        rows, offset = _floyd(c, kk, gen)
    else:
        rows, offset = _smallest_keys(c, kk, gen)
    pos = offset.add_(first.index_select(0, rows))
    return torch.cat([seg_all, part.index_select(0, rows)]), torch.cat([pos_all, pos])


def _unpad(chosen: Tensor, kk: Tensor) -> tuple[Tensor, Tensor]:
    """Row and value of the first ``kk[r]`` entries of each row of ``chosen``."""
    k_max = chosen.size(1)
    keep = (torch.arange(k_max).view(1, -1) < kk.view(-1, 1)).view(-1).nonzero().view(-1)
    return keep.div(k_max, rounding_mode="floor"), chosen.view(-1).index_select(0, keep)


def _with_replacement(c: Tensor, kk: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    r = torch.randint(0, 1 << 31, (c.numel(), int(kk.max())), generator=gen)
    return _unpad(r.mul_(c.view(-1, 1)).bitwise_right_shift_(31), kk)


def _floyd(c: Tensor, kk: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """A uniform ``kk``-subset of ``[0, c)`` per row (``c > kk``), by Floyd's algorithm.

    For ``j = c - k, ..., c - 1``: draw ``r`` uniform in ``[0, j]``; take ``r`` unless it
    is taken already, else ``j``.
    """
    k_max = int(kk.max())
    chosen = torch.empty(c.numel(), k_max, dtype=torch.long)
    for i in range(k_max):
        j = c - kk + i
        r = torch.randint(0, 1 << 31, (c.numel(),), generator=gen)
        r = r.mul_(j + 1).bitwise_right_shift_(31)
        if i:
            taken = (chosen[:, :i] == r.view(-1, 1)).any(1)
            r = torch.where(taken, j, r)
        chosen[:, i] = r
    return _unpad(chosen, kk)


def _smallest_keys(c: Tensor, kk: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """A uniform ``kk``-subset of ``[0, c)`` per row: the entries with the smallest keys.

    Keys are 31-bit random integers; ties (probability below ``c^2 / 2^32``) go to the lower
    offset.
    """
    rows, offset = expand_rows(torch.zeros_like(c), c)
    key = torch.randint(0, 1 << 31, (rows.numel(),), generator=gen).add_(rows << 31)
    order = torch.sort(key, stable=True).indices
    rank = torch.arange(order.numel()) - (torch.cumsum(c, 0) - c).index_select(0, rows)
    keep = (rank < kk.index_select(0, rows)).nonzero().view(-1)
    picked = order.index_select(0, keep)
    return rows.index_select(0, picked), offset.index_select(0, picked)
