r"""Vectorised random walks: DeepWalk's uniform walk and node2vec's biased second-order walk.

All walks advance together, one tensor step per walk step, on a :class:`CSRGraph` built
``by="source"``. node2vec's walk is drawn exactly by rejection sampling (KnightKing, Yang et
al., SOSP 2019): from the current node :math:`v` (reached from :math:`t`), propose a
neighbour :math:`x` with probability proportional to the edge weight :math:`w_{vx}`, and
accept it with probability :math:`\alpha(t, x) / c`, where

.. math::
    \alpha(t, x) = \begin{cases} 1/p & x = t \\ 1 & x \in \mathcal{N}(t) \\ 1/q &
    \text{otherwise} \end{cases}

so that :math:`P(x \mid t, v) \propto w_{vx}\,\alpha(t, x)` (Grover & Leskovec, KDD 2016).
When the return weight :math:`1/p` is the largest, the envelope is :math:`c = \max(1, 1/q)`
and the surplus :math:`(1/p - c)\,w_{vt}` of the return move is drawn from a separate strip
(KnightKing's outlier folding), which raises the acceptance rate. Tests of
:math:`x \in \mathcal{N}(t)` are only made when the acceptance draw depends on them.

**Entries without common neighbours.** Where :math:`t` and :math:`v` have no common
out-neighbour besides :math:`t` (most entries of a sparse graph), every move but the return
weighs :math:`1/q`, so the envelope there is :math:`c = 1/q`: no neighbour test is made and
only a return can be rejected (when :math:`1/p < 1/q`). Which entries these are is found
once per graph, on the first biased walk, and cached with the other tables: it scans, for
each entry, the shorter of the two out-lists (about the degree squared over two per node on
a symmetric graph), so that first walk costs a few times more than the next ones.

**Dead ends.** A walk that reaches a node without out-edges (or whose out-edges all weigh 0)
stops there, and the rest of its row is ``-1``; a walk from an isolated node is
``[start, -1, ..., -1]``. Consumers skip ``-1``.

**Directed graphs.** A walk follows out-edges; :math:`x \in \mathcal{N}(t)` means the edge
:math:`t \to x` exists.

**pyg-lib.** `pyg-lib <https://github.com/pyg-team/pyg-lib>`_'s compiled walker samples
uniformly only (it refuses ``p != 1`` or ``q != 1``) and has no edge weights, so
``backend="auto"`` uses it only for unweighted uniform (DeepWalk) walks without a seed; its
dead ends are turned into our ``-1``. Its walker runs on several threads drawing from one
generator, so a seed cannot reproduce its walks: seeded walks always run here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import Tensor

from mmgraph.sampling import _pyglib
from mmgraph.sampling.checks import check_bias, check_int
from mmgraph.sampling.csr import CSRGraph, expand_rows
from mmgraph.seed import as_generator

_ROUND_SIZE = 16384
"""Proposals a round may make beyond one per pending walker (more rounds cost more ops)."""

_PAIRS_PER_CHUNK = 1 << 21
"""Node pairs looked up at once while finding the entries without common neighbours."""

_COMMON_CAP = 64
"""Entries between two nodes of more out-edges than this are assumed to have common
out-neighbours (checking them would cost more than it saves)."""

_MAX_REPEAT = 32
"""At most this many candidates per pending walker and round."""

_MAX_ROUNDS = 12
"""Walkers still rejecting after this many rounds of a step are drawn directly: all their
neighbours are scored exactly (only where acceptance rates are tiny, e.g. extreme p, q)."""


class _WalkTables:
    """Tables derived once from a CSR graph (cached on it) that make a walk step cheap.

    Row ``N`` is a sentinel with one entry, itself, at position ``E``; dead ends point there
    too, so that a stopped walk stays on the sentinel without any masking.
    """

    def __init__(self, csr: CSRGraph, weighted: bool) -> None:
        n, e = csr.num_nodes, csr.num_edges
        rowptr = csr.rowptr
        deg = rowptr[1:] - rowptr[:-1]
        self.num_nodes = n
        self.sentinel_pos = e
        self.weighted = weighted
        self.rowptr = rowptr
        self._weight: Tensor | None = None
        if weighted:
            assert csr.edge_weight is not None
            self._weight = csr.edge_weight.double()
            cum = torch.zeros(e + 1, dtype=torch.float64)
            torch.cumsum(self._weight, 0, out=cum[1:])
            total = cum[rowptr[1:]] - cum[rowptr[:-1]]
            dead = total <= 0
        else:
            dead = deg == 0
        self.dead = dead
        self.has_dead = bool(dead.any())
        self.col = torch.cat([csr.col, torch.tensor([n])])
        # One row per node (sentinel last): entry start, entry count and, when weighted,
        # total weight and cumulative weight before the row (float64 bits), so that one
        # gather fetches everything a step needs about the current node.
        start = torch.cat([torch.where(dead, e, rowptr[:-1]), torch.tensor([e])])
        count = torch.cat([torch.where(dead, 1, deg), torch.tensor([1])])
        columns = [start, count]
        # Steps of a branch-free binary search over at most max-degree entries.
        self.steps = _steps(int(count.max()))
        if weighted:
            # Global inclusive cumulative weights: monotone across rows, so a search that
            # starts in a row needs no bound check; padded with +inf for the search's probes.
            pad = torch.full((2 * self.steps[0],), math.inf, dtype=torch.float64)
            self.cumw = torch.cat([cum[1:], cum[-1:] + 1.0, pad])
            base = torch.cat([torch.where(dead, cum[-1], cum[rowptr[:-1]]), cum[-1:]])
            ones = torch.ones(1, dtype=torch.float64)
            total = torch.cat([torch.where(dead, 1.0, total), ones])
            columns += [total.view(torch.long), base.view(torch.long)]
        self.node = torch.stack(columns, dim=1)
        # The same start and count as contiguous columns: an unweighted step gathers them
        # separately (faster than reading strided columns of gathered rows).
        self.start, self.count = start, count
        # An int32 copy of col for the uniform walk (node ids as int32: half the memory
        # traffic). None when weighted, or when ids do not fit in int32.
        self.compact: Tensor | None = None
        if not weighted and e < 2**31 - 1 and n < 2**31 - 1:
            self.compact = self.col.int()
        # Sorted keys `row * (N + 1) + col` for neighbour tests, padded with the largest key.
        self.n_key = n + 1
        self.key_steps = _steps(int(deg.max()) if n else 0)
        big = torch.iinfo(torch.long).max
        pad_keys = torch.full((2 * self.key_steps[0],), big, dtype=torch.long)
        self.keys = torch.cat([csr.row * self.n_key + csr.col, pad_keys])
        self._entries: Tensor | None = None

    def entries(self) -> Tensor:
        """What a second-order step needs about each entry ``[E + 1, 3]``, built on first use.

        int64, sentinel last. Row ``e`` for the entry ``t -> v``: the position of the reverse
        entry ``v -> t`` (``E`` if none); the bits of its float64 weight, the total over
        parallel ``v -> t`` entries (0 if none); and 1 if ``t`` and ``v`` may have a common
        out-neighbour other than ``t``, 0 if they have none (see :meth:`common_neighbours`).
        """
        if self._entries is None:
            e = self.sentinel_pos
            keys = self.keys[:e]
            row = keys // self.n_key
            col = keys % self.n_key
            rkeys = col * self.n_key + row
            lo = torch.searchsorted(keys, rkeys)
            hi = torch.searchsorted(keys, rkeys, right=True)
            pos = torch.where(hi > lo, lo, e)
            if self._weight is not None:
                cum = torch.zeros(e + 1, dtype=torch.float64)
                torch.cumsum(self._weight, 0, out=cum[1:])
                w = cum[hi] - cum[lo]
            else:
                w = (hi - lo).double()
            common = self.common_neighbours(row, col, pos)
            pos = torch.cat([pos, torch.tensor([e])])
            w = torch.cat([w, torch.zeros(1, dtype=torch.float64)])
            common = torch.cat([common.long(), torch.zeros(1, dtype=torch.long)])
            self._entries = torch.stack([pos, w.view(torch.long), common], dim=1)
        return self._entries

    def common_neighbours(self, row: Tensor, col: Tensor, reverse: Tensor) -> Tensor:
        """Whether each entry ``t -> v`` may have a common out-neighbour ``x != t`` ``[E]``.

        That is, ``t -> x`` and ``v -> x``; where there is none, every move from ``v`` but the
        return weighs ``1/q``. ``reverse`` holds the position of each entry's reverse (``E``
        if none).

        Exact but for entries between two nodes of more than ``_COMMON_CAP`` out-edges,
        which are ``True`` (a ``True`` only costs speed). The shorter of the two out-lists is
        scanned and each of its nodes looked up in the other; on a symmetric graph only
        entries with ``t <= v`` are scanned and their reverses share the answer. Entries into
        a node without out-edges (or without weight) are ``False``.
        """
        e = row.numel()
        deg = self.rowptr[1:] - self.rowptr[:-1]
        d_row, d_col = deg.index_select(0, row), deg.index_select(0, col)
        scan_col = d_col <= d_row
        scan = torch.where(scan_col, col, row)  # the node whose out-list is scanned
        probe = torch.where(scan_col, row, col)  # the node whose out-list is searched
        size = torch.minimum(d_row, d_col)
        common = size > _COMMON_CAP
        todo = (size > 0) & ~common & ~self.dead.index_select(0, col)
        symmetric = bool((reverse < e).all())
        if symmetric:
            # x = v is left out here (it counts where v -> v exists: added below).
            todo &= row <= col
        todo = todo.nonzero().view(-1)
        if todo.numel():
            # Chunks of about _PAIRS_PER_CHUNK (entry, scanned node) pairs bound the memory.
            ends = torch.cumsum(size.index_select(0, todo), 0)
            marks = torch.arange(1, -(-int(ends[-1]) // _PAIRS_PER_CHUNK)) * _PAIRS_PER_CHUNK
            bounds = torch.searchsorted(ends, marks, right=True).tolist() + [todo.numel()]
            lo = 0
            for hi in bounds:
                if hi <= lo:
                    continue
                ids = todo[lo:hi]
                node = scan.index_select(0, ids)
                seg, pos = expand_rows(self.rowptr.index_select(0, node), deg.index_select(0, node))
                x = self.col.index_select(0, pos)
                ids = ids.index_select(0, seg)
                hit = self.is_neighbor(probe.index_select(0, ids), x)
                hit &= x != row.index_select(0, ids)
                if symmetric:
                    hit &= x != col.index_select(0, ids)
                common.index_fill_(0, ids.masked_select(hit), True)
                lo = hi
        if symmetric:
            common |= common.index_select(0, reverse)
            loops = self.is_neighbor(col, col) & (row != col)
            common |= loops
        return common & ~self.dead.index_select(0, col)

    def first_order(self, cur: Tensor, gen: torch.Generator, out: Tensor) -> Tensor:
        """One uniform (or weight-proportional) step from ``cur``, nodes written to ``out``.

        ``cur`` and ``out`` are int32 for the uniform walk over the ``compact`` columns.
        Returns the CSR positions of the chosen entries (``E`` for a stopped walk).
        """
        col = self.col
        if out.dtype == torch.int32:
            assert self.compact is not None
            # int32 node ids and columns, but int64 start and count: the offset
            # arithmetic is int64, and int32 ones would be converted at every step.
            col = self.compact
        if self.weighted:
            node = self.node.index_select(0, cur)
            start, count = node[:, 0], node[:, 1]
            r = torch.rand(cur.numel(), dtype=torch.float64, generator=gen)
            target = r.mul_(node[:, 2].view(torch.float64)).add_(node[:, 3].view(torch.float64))
            pos = torch.minimum(self.search_weight(start, target), start + count - 1)
        else:
            # Offset floor(r * count / 2^31) for a 31-bit random integer r: uniform up to a
            # relative bias below count / 2^31.
            # (int32 random_() draws uniform 31-bit integers, twice as fast as randint.)
            r = torch.empty(cur.numel(), dtype=torch.int32).random_(generator=gen)
            pos = self.count.index_select(0, cur).mul_(r).bitwise_right_shift_(31)
            pos.add_(self.start.index_select(0, cur))
        torch.index_select(col, 0, pos, out=out)
        return pos

    def uniform_walk(self, out: Tensor, gen: torch.Generator) -> None:
        """Unweighted uniform walks: row ``i + 1`` of ``out`` from row ``i``, for every row.

        The steps of :meth:`first_order` with every step's random integers drawn at once
        and the per-step buffers allocated once (on small graphs the per-step overheads
        are a large share of the walk).
        """
        steps, b = out.size(0) - 1, out.size(1)
        col = self.compact if out.dtype == torch.int32 else self.col
        assert col is not None  # the caller picks int32 only with the compact columns
        draws = torch.empty(steps, b, dtype=torch.int32).random_(generator=gen)
        pos = torch.empty(b, dtype=torch.long)
        start = torch.empty(b, dtype=torch.long)
        for i in range(steps):
            cur = out[i]
            torch.index_select(self.count, 0, cur, out=pos)
            pos.mul_(draws[i]).bitwise_right_shift_(31)
            torch.index_select(self.start, 0, cur, out=start)
            torch.index_select(col, 0, pos.add_(start), out=out[i + 1])

    def search_weight(self, start: Tensor, target: Tensor) -> Tensor:
        """First position ``>= start`` whose cumulative weight exceeds ``target``.

        ``start`` broadcasts to the shape of ``target`` (one row start per walker, ``[n, 1]``,
        for ``[n, k]`` targets).
        """
        shape = target.shape
        target = target.reshape(-1)
        pos = (start - 1).expand(shape).reshape(-1)
        cand = torch.empty_like(pos)
        for step in self.steps:
            torch.add(pos, step, out=cand)
            pos = torch.where(self.cumw.index_select(0, cand) <= target, cand, pos)
        return pos.add_(1).view(shape)

    def is_neighbor(self, t: Tensor, x: Tensor) -> Tensor:
        """Whether the edge ``t -> x`` exists, for each pair of real nodes."""
        target = t * self.n_key + x
        pos = self.rowptr.index_select(0, t).sub_(1)
        cand = torch.empty_like(pos)
        for step in self.key_steps:
            torch.add(pos, step, out=cand)
            pos = torch.where(self.keys.index_select(0, cand) < target, cand, pos)
        return self.keys.index_select(0, pos.add_(1)) == target


def _steps(max_count: int) -> list[int]:
    """Powers of two, largest first, that reach any offset below ``max_count``."""
    return [1 << k for k in reversed(range(max(max_count, 1).bit_length()))]


def _check_walk_args(csr: Any, walk_length: Any, p: Any, q: Any) -> None:
    if not isinstance(csr, CSRGraph):
        raise TypeError(
            f"Expected 'csr' to be a CSRGraph (got {type(csr).__name__!r}); build one with "
            "`CSRGraph.from_edge_index(edge_index, num_nodes)` or `CSRGraph.from_graph(graph)`"
        )
    if csr.by != "source":
        raise ValueError(
            "Expected a CSRGraph built with by='source' (rows are sources, walks follow "
            f"out-edges) (got by={csr.by!r}); rebuild it with `by='source'`"
        )
    check_int(walk_length, "walk_length", 0)
    check_bias(p, q)


MAX_WALKS = 2**31 - 1
"""The most walks one :meth:`RandomWalker.walk` call draws (beyond any sensible size)."""


def _check_start(start: Any, num_nodes: int) -> Tensor:
    if not isinstance(start, Tensor):
        raise TypeError(f"Expected 'start' to be a torch.Tensor (got {type(start).__name__!r})")
    if start.is_floating_point() or start.is_complex() or start.dtype == torch.bool:
        raise TypeError(
            f"Expected 'start' to be of integer type (got '{start.dtype}'); pass node ids, "
            "or `mask.nonzero().view(-1)` for a mask"
        )
    if start.dim() != 1:
        raise ValueError(f"Expected 'start' to have shape [B] (got {list(start.shape)})")
    if start.numel():
        lo, hi = int(start.min()), int(start.max())
        if lo < 0 or hi >= num_nodes:
            raise ValueError(
                f"Found start node {lo if lo < 0 else hi} but the graph has {num_nodes} "
                f"nodes: start nodes must be in [0, {num_nodes})"
            )
    return start.long()


def _check_weights(csr: CSRGraph, weighted: bool) -> None:
    """Refuse negative edge weights for a weighted walk (they are no probabilities)."""
    if weighted and csr.edge_weight is not None and csr.num_edges:
        negative = int((csr.edge_weight < 0).sum())
        if negative:
            raise ValueError(
                f"Found negative edge weights ({negative} of {csr.num_edges} edges): weighted "
                "walks need non-negative weights; fix the weights (the card's weight column), "
                "or in Python pass weighted=False to walk uniformly"
            )


def walk_exits(csr: CSRGraph, weighted: bool) -> tuple[Tensor, Tensor]:
    """Which nodes a walk can leave: ``(has_out, zero_weight)``, bool ``[N]`` each.

    ``has_out``: the node has an out-edge; ``zero_weight``: with ``weighted``, all of them
    weigh 0 (a weighted walk stops there). A walk leaves ``has_out & ~zero_weight``.

    Raises:
        ValueError: ``weighted`` with negative edge weights.
    """
    _check_weights(csr, weighted)
    has_out = csr.rowptr[1:] > csr.rowptr[:-1]
    zero_weight = torch.zeros_like(has_out)
    if weighted and csr.edge_weight is not None:
        row = torch.repeat_interleave(torch.arange(csr.num_nodes), csr.rowptr.diff())
        total = torch.zeros(csr.num_nodes, dtype=csr.edge_weight.dtype)
        total.index_add_(0, row, csr.edge_weight)
        zero_weight = has_out & (total <= 0)
    return has_out, zero_weight


def _tables(csr: CSRGraph, weighted: bool) -> _WalkTables:
    weighted = weighted and csr.edge_weight is not None
    key = f"walk_tables_{int(weighted)}"
    if key not in csr._cache:
        _check_weights(csr, weighted)
        csr._cache[key] = _WalkTables(csr, weighted)
    return csr._cache[key]


def random_walk(
    csr: CSRGraph,
    start: Tensor,
    walk_length: int,
    p: float = 1.0,
    q: float = 1.0,
    weighted: bool = True,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    backend: str = "auto",
) -> Tensor:
    r"""Random walks from ``start``: uniform (DeepWalk) when ``p = q = 1``, node2vec otherwise.

    From the current node :math:`v`, reached from :math:`t`, the next node :math:`x` is
    drawn with probability :math:`\propto w_{vx}\,\alpha(t, x)`, with :math:`\alpha = 1/p` for
    :math:`x = t`, 1 for :math:`x` a neighbour of :math:`t` and :math:`1/q` otherwise (see
    :mod:`mmgraph.sampling.walks`); the first step is first-order. Exact for every
    :math:`p, q > 0`, up to the resolution of the random integers drawn (acceptance
    probabilities rounded up to multiples of :math:`2^{-31}`, offsets biased by less than
    degree / :math:`2^{31}`).

    Args:
        csr (CSRGraph): The graph, built ``by="source"`` (walks follow out-edges).
        start (torch.Tensor): Start node of each walk ``[B]`` (repeat a node for several
            walks).
        walk_length (int): Number of steps; each walk has ``walk_length + 1`` nodes.
        p (float, optional): Return parameter. (default: :obj:`1.0`)
        q (float, optional): In-out parameter. (default: :obj:`1.0`)
        weighted (bool, optional): Draw neighbours proportionally to ``csr.edge_weight``
            (when the graph has weights; they must be non-negative). (default: :obj:`True`)
        seed (int, optional): Seed of the walk. (default: :obj:`None`)
        generator (torch.Generator, optional): Generator to draw from instead of ``seed``.
            (default: :obj:`None`)
        backend (str, optional): ``"auto"`` (pyg-lib's walker for unweighted uniform walks
            without ``seed`` or ``generator`` when pyg-lib is importable, else plain
            PyTorch), ``"torch"``, or ``"pyg-lib"`` (an :class:`ImportError` when it is
            missing, a :class:`ValueError` for walks it cannot draw). (default: :obj:`"auto"`)

    Returns:
        torch.Tensor: Walks ``[B, walk_length + 1]`` (int64), starting with ``start``; ``-1``
        after a dead end.

    Shapes:
        B walks, L = ``walk_length``.
    """
    _check_walk_args(csr, walk_length, p, q)
    start = _check_start(start, csr.num_nodes)
    gen = as_generator(seed, generator)
    seeded = seed is not None or generator is not None
    weighted = weighted and csr.edge_weight is not None
    if _walk_backend(backend, "random_walk", p, q, weighted, seeded) == "pyg-lib":
        return _walk_pyg_lib(csr, start, walk_length, gen)
    return _walk(_tables(csr, weighted), start, walk_length, float(p), float(q), gen)


def _walk_backend(
    backend: str, owner: str, p: float, q: float, weighted: bool, seeded: bool
) -> str:
    """``"torch"`` or ``"pyg-lib"`` for walks with these options (see the module docstring)."""
    unsupported = None
    if p != 1 or q != 1:
        unsupported = f"draw node2vec walks with p={p:g}, q={q:g} (it walks uniformly only)"
    elif weighted:
        unsupported = "follow edge weights (pass weighted=False to walk uniformly)"
    elif seeded:
        unsupported = "reproduce a seed (its walker runs on several threads); pass seed=None"
    return _pyglib.resolve_backend(backend, owner, "random_walk", unsupported, seeded=False)


def _walk_pyg_lib(csr: CSRGraph, start: Tensor, walk_length: int, gen: torch.Generator) -> Tensor:
    if walk_length == 0 or start.numel() == 0:  # nothing to draw (pyg-lib divides by L)
        return start.view(-1, 1).expand(-1, walk_length + 1).clone()
    return _pyglib.random_walk(csr, start, walk_length, gen)


def _walk(
    tables: _WalkTables, start: Tensor, walk_length: int, p: float, q: float, gen: torch.Generator
) -> Tensor:
    b = start.numel()
    # Step by step, one row per step; the uniform walk runs on int32 tables when ids fit.
    uniform = p == 1.0 and q == 1.0
    dtype = torch.int32 if uniform and tables.compact is not None else torch.long
    out = torch.empty(walk_length + 1, b, dtype=dtype)
    out[0] = start
    if b and walk_length:
        if uniform and not tables.weighted:
            tables.uniform_walk(out, gen)
        elif uniform:
            for i in range(walk_length):
                tables.first_order(out[i], gen, out[i + 1])
        else:
            _Node2Vec(tables, p, q).walk(out, gen)
    walks = torch.empty(b, walk_length + 1, dtype=torch.long).copy_(out.t())
    if tables.has_dead and walk_length:
        # The sentinel of a stopped walk is absorbing: the walks that stopped are those
        # that end on it, and only their rows need the -1s.
        stopped = (out[-1] == tables.num_nodes).nonzero().view(-1)
        if stopped.numel():
            rows = walks.index_select(0, stopped)
            walks.index_copy_(0, stopped, rows.masked_fill_(rows == tables.num_nodes, -1))
    return walks


_U_BITS = 31
"""Low bits of a 63-bit random integer that decide acceptance; the other 32 propose."""

_FULL = 1 << _U_BITS
"""An acceptance threshold that every draw passes."""


@dataclass(slots=True)
class _Params:
    """What a proposal needs about each pending walker, one row per walker."""

    t: Tensor  # the previous node
    start: Tensor  # the current node's first entry
    count: Tensor  # its number of entries
    lo: Tensor  # acceptance threshold of a move to a node other than t
    a_ret: Tensor | None = None  # of a return to t, when some can be rejected
    span: Tensor | None = None  # what a proposal is drawn from, over 2^32 (float64)
    size: Tensor | None = None  # total weight of the row (float64, weighted)
    base: Tensor | None = None  # cumulative weight before the row (float64, weighted)
    back: Tensor | None = None  # the entry v -> t (strip)

    def select(self, index: Tensor) -> _Params:
        """The rows of the walkers ``index``."""
        columns: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            columns[field.name] = None if value is None else value.index_select(0, index)
        return _Params(**columns)


def _levels(ret: float, nbr: float | None, out: float) -> tuple[float, int, int, int]:
    """Envelope of one regime of the rejection sampler.

    For the weights ``ret`` (x = t), ``nbr`` (x a neighbour of t; None when there is none)
    and ``out`` (any other x), returns the strip width per unit of :math:`w_{vt}` and the
    acceptance thresholds of a return, of a neighbour of t and of another node, on 31-bit
    integers.
    """
    moves = out if nbr is None else max(nbr, out)
    if ret > moves:
        # The return surplus is drawn from a strip past the row (KnightKing's folding).
        c, kappa = moves, ret / moves - 1.0
    else:
        c, kappa = moves, 0.0
    a_nbr = _FULL if nbr is None else math.ceil(nbr / c * _FULL)
    return kappa, math.ceil(min(ret, c) / c * _FULL), a_nbr, math.ceil(out / c * _FULL)


class _Node2Vec:
    r"""The biased second-order step, by rejection sampling over all walkers at once.

    Two regimes, per walker. Where ``t`` and ``v`` have no common out-neighbour (most
    entries of a sparse graph; :meth:`_WalkTables.common_neighbours`), every move but the
    return weighs :math:`1/q`: the envelope is :math:`1/q` and nothing but a return that
    weighs less can be rejected, so no neighbour test is ever made. Elsewhere the envelope is
    :math:`\max(1, 1/q)` and a proposal whose acceptance depends on it asks whether
    :math:`x \in \mathcal{N}(t)`. In both, a return weight above the envelope is drawn from
    a strip past the row.

    Each round gives every pending walker ``k`` proposals (a ``[k, n]`` tensor) and keeps
    its first accepted one, which has the law of proposing one at a time. Each proposal
    draws one 63-bit random integer: its low 31 bits decide acceptance (against integer
    thresholds), its high 32 bits choose the proposal.
    """

    def __init__(self, tables: _WalkTables, p: float, q: float) -> None:
        self.tables = tables
        ret, out = 1.0 / p, 1.0 / q
        self.alpha = (ret, out)
        # Entries with common neighbours, and without.
        self.kappa, self.a_ret, a_nbr, a_out = _levels(ret, 1.0, out)
        self.kappa_0, self.a_ret_0, _, _ = _levels(ret, None, out)
        self.lo, self.hi = min(a_nbr, a_out), max(a_nbr, a_out)
        self.nbr_accepts = a_nbr > a_out
        self.strip = max(self.kappa, self.kappa_0) > 0
        self.ret_sure = min(self.a_ret, self.a_ret_0) >= _FULL
        # Rejection rate per proposal, estimated step by step (a bound to start with).
        self.bound = min(max(1.0 - min(self.lo, self.a_ret, self.a_ret_0) / _FULL, 0.05), 0.999)
        self.reject = 0.5

    def walk(self, out: Tensor, gen: torch.Generator) -> None:
        """Fill rows ``1..L`` of ``out`` ``[L + 1, B]`` (row 0 holds the start nodes)."""
        eprev = self.tables.first_order(out[0], gen, out[1])
        for i in range(1, out.size(0) - 1):
            eprev = self._step(out[i - 1], out[i], out[i + 1], eprev, gen)

    def _params(self, prev: Tensor, cur: Tensor, eprev: Tensor) -> _Params:
        tables = self.tables
        node = tables.node.index_select(0, cur)
        entry = tables.entries().index_select(0, eprev)
        common = entry[:, 2].bool()
        lo = torch.where(common, self.lo, _FULL)
        params = _Params(t=prev, start=node[:, 0], count=node[:, 1], lo=lo)
        if not self.ret_sure:
            params.a_ret = torch.where(common, self.a_ret, self.a_ret_0)
        span = None
        if tables.weighted:
            params.size = node[:, 2].view(torch.float64)
            params.base = node[:, 3].view(torch.float64)
            span = params.size
        if self.strip:
            params.back = entry[:, 0]
            size = params.count if span is None else span
            kappa = torch.where(common, self.kappa, self.kappa_0)
            span = entry[:, 1].view(torch.float64).mul(kappa).add_(size)
        if span is not None:
            params.span = span.mul(2.0 ** -(63 - _U_BITS))
        return params

    def _proposals(self, n: int, reject: float) -> int:
        """Proposals per walker for a round over ``n`` pending walkers."""
        # Enough that about no walker is left after the round...
        need = math.ceil(math.log(0.1 / n) / math.log(reject))
        # ...unless a round that large costs more than another round would.
        return max(1, min(need, _ROUND_SIZE // n, _MAX_REPEAT))

    def _step(
        self, prev: Tensor, cur: Tensor, nxt: Tensor, eprev: Tensor, gen: torch.Generator
    ) -> Tensor:
        """Write the next node of every walk into ``nxt``; return the entries taken."""
        params = self._params(prev, cur, eprev)
        b = cur.numel()
        k = self._proposals(b, self.reject)
        done, x, pos = self._round(params, k, gen)
        nxt.copy_(x)
        enext = pos
        left = (~done).nonzero().view(-1)
        n = left.numel()
        self.reject = min(max(((n + 0.5) / b) ** (1.0 / k), 0.001), 0.999)
        rounds = 1
        while n:
            rounds += 1
            sub = params.select(left)
            if rounds > _MAX_ROUNDS:
                x, pos = self._direct(sub, gen)
                nxt.index_copy_(0, left, x)
                enext.index_copy_(0, left, pos)
                break
            # The walkers left are mostly where rejections happen: assume the worst rate.
            done, x, pos = self._round(sub, self._proposals(n, self.bound), gen)
            acc = done.nonzero().view(-1)
            who = left.index_select(0, acc)
            nxt.index_copy_(0, who, x.index_select(0, acc))
            enext.index_copy_(0, who, pos.index_select(0, acc))
            left = left.index_select(0, (~done).nonzero().view(-1))
            n = left.numel()
        return enext

    def _round(
        self, params: _Params, k: int, gen: torch.Generator
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``k`` proposals per walker; (accepted, first accepted node, its CSR entry).

        Proposals are laid out ``[k, n]``, the j-th proposal of every walker in row j, so
        that per-walker values broadcast along rows and each row is contiguous.
        """
        tables = self.tables
        t, start = params.t, params.start
        n = t.numel()
        r = torch.empty(k, n, dtype=torch.long).random_(generator=gen)  # 63 random bits
        u = r & (_FULL - 1)
        r >>= _U_BITS
        if params.span is not None:
            # y in [0, size) proposes an entry (proportionally to its weight); y beyond,
            # in the strip of width kappa * w(v, t), returns to t over the entry v -> t.
            y = r.double().mul_(params.span)
            if tables.weighted:
                assert params.size is not None and params.base is not None
                if self.strip:
                    in_strip = y >= params.size
                pos = tables.search_weight(start, y.add_(params.base))
            else:
                off = y.long()
                if self.strip:
                    in_strip = off >= params.count
                pos = off.add_(start)
            if self.strip:
                assert params.back is not None
                pos = torch.where(in_strip, params.back, pos)
        else:
            pos = r.mul_(params.count).bitwise_right_shift_(63 - _U_BITS).add_(start)
        x = tables.col.index_select(0, pos.view(-1)).view(k, n)
        is_ret = x == t
        if params.a_ret is None:
            acc = (u < params.lo).logical_or_(is_ret)
        else:
            acc = torch.where(is_ret, u < params.a_ret, u < params.lo)
        if self.lo < self.hi:
            # Only where u falls between the two acceptance levels does it matter whether
            # x is a neighbour of t, and only before the walker's first sure acceptance.
            test = ~acc
            if params.a_ret is not None:
                test &= ~is_ret
            if self.hi < _FULL:
                test &= u < self.hi
            if k > 1:
                seen = acc[0].clone()
                for j in range(1, k):
                    test[j] &= ~seen
                    if j < k - 1:
                        seen |= acc[j]
            test = test.view(-1).nonzero().view(-1)
            if test.numel():
                who = test.remainder(n) if k > 1 else test
                nbr = tables.is_neighbor(t.index_select(0, who), x.view(-1).index_select(0, test))
                acc.view(-1).index_copy_(0, test, nbr if self.nbr_accepts else ~nbr)
        if k == 1:
            return acc[0], x[0], pos[0]
        # The first accepted proposal of each walker: scan the rows from the last.
        done, x_sel, pos_sel = acc[k - 1].clone(), x[k - 1].clone(), pos[k - 1].clone()
        for j in range(k - 2, -1, -1):
            torch.where(acc[j], x[j], x_sel, out=x_sel)
            torch.where(acc[j], pos[j], pos_sel, out=pos_sel)
            done |= acc[j]
        return done, x_sel, pos_sel

    def _direct(self, params: _Params, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """Draw the next node of the walkers in ``params`` exactly, scoring every neighbour."""
        tables = self.tables
        t, count = params.t, params.count
        seg, pos = expand_rows(params.start, count)
        x = tables.col.index_select(0, pos)
        t = t.index_select(0, seg)
        ret, out = self.alpha
        score = torch.where(tables.is_neighbor(t, x), 1.0, out).to(torch.float64)
        score.masked_fill_(x == t, ret)
        if tables.weighted:
            assert tables._weight is not None
            weight = tables._weight.index_select(0, pos.clamp(max=tables.sentinel_pos - 1))
            score.mul_(weight.masked_fill_(pos == tables.sentinel_pos, 1.0))
        cum = torch.cumsum(score, 0)
        last = torch.cumsum(count, 0) - 1
        first = last - count + 1
        before = torch.where(first > 0, cum.index_select(0, (first - 1).clamp_(min=0)), 0.0)
        total = cum.index_select(0, last) - before
        u = torch.rand(count.numel(), dtype=torch.float64, generator=gen)
        choice = torch.searchsorted(cum, u.mul_(total).add_(before), right=True)
        choice = torch.minimum(torch.maximum(choice, first), last)
        return x.index_select(0, choice), pos.index_select(0, choice)


class RandomWalker:
    r"""Walks of fixed length from every node or from batches of start nodes.

    A thin, seeded wrapper around :func:`random_walk` holding the hyperparameters; the
    derived tables are cached on the graph, so repeated calls are cheap. Walks for a batch of
    start nodes are what mini-batch node2vec trains on.

    Every walk step is a fixed number of tensor operations over all the walks of a call, so
    the cost per step is nearly flat below about 10,000 walks: draw walks for large batches
    of start nodes (thousands, or all nodes at once) and cut them into training batches,
    rather than calling once per small training batch.

    Args:
        csr (CSRGraph): The graph, built ``by="source"``.
        walk_length (int): Number of steps per walk.
        walks_per_node (int, optional): Walks from each start node. (default: :obj:`1`)
        p (float, optional): node2vec return parameter. (default: :obj:`1.0`)
        q (float, optional): node2vec in-out parameter. (default: :obj:`1.0`)
        weighted (bool, optional): Follow edge weights where the graph has them.
            (default: :obj:`True`)
        seed (int, optional): Seed; successive calls continue one random stream.
            (default: :obj:`None`)
        backend (str, optional): ``"auto"``, ``"torch"`` or ``"pyg-lib"``, as in
            :func:`random_walk`; the attribute ``backend`` holds the one chosen.
            (default: :obj:`"auto"`)

    Shapes:
        B start nodes, W = ``walks_per_node``, L = ``walk_length``; :meth:`walk` returns
        ``[W * B, L + 1]``, the first B rows one walk per start node, the next B the second...
    """

    def __init__(
        self,
        csr: CSRGraph,
        walk_length: int,
        walks_per_node: int = 1,
        p: float = 1.0,
        q: float = 1.0,
        weighted: bool = True,
        seed: int | None = None,
        backend: str = "auto",
    ) -> None:
        _check_walk_args(csr, walk_length, p, q)
        check_int(walks_per_node, "walks_per_node", 1)
        self.csr = csr
        self.walk_length = walk_length
        self.walks_per_node = walks_per_node
        self.p = float(p)
        self.q = float(q)
        self.weighted = weighted and csr.edge_weight is not None
        self.seed = seed
        self.generator = as_generator(seed, None)
        self.backend = _walk_backend(
            backend, self.__class__.__name__, self.p, self.q, self.weighted, seed is not None
        )

    def walk(self, start: Tensor | None = None) -> Tensor:
        """Walks ``[walks_per_node * B, walk_length + 1]`` from ``start`` (all nodes if None)."""
        if start is None:
            start = torch.arange(self.csr.num_nodes)
        start = _check_start(start, self.csr.num_nodes)
        if start.numel() * self.walks_per_node > MAX_WALKS:
            raise ValueError(
                f"{start.numel()} start nodes times {self.walks_per_node} walks per node is "
                f"more than {MAX_WALKS} walks at once: lower 'walks_per_node' "
                "(--walks-per-node) or the batch size"
            )
        start = start.repeat(self.walks_per_node)
        if self.backend == "pyg-lib":
            return _walk_pyg_lib(self.csr, start, self.walk_length, self.generator)
        return _walk(
            _tables(self.csr, self.weighted),
            start,
            self.walk_length,
            self.p,
            self.q,
            self.generator,
        )

    def iter_batches(
        self, batch_size: int, start: Tensor | None = None, shuffle: bool = True
    ) -> Iterator[tuple[Tensor, Tensor]]:
        """Yield ``(start_batch, walks)`` over batches of start nodes (all nodes if None).

        Args:
            batch_size (int): Start nodes per batch (each gives ``walks_per_node`` walks).
            start (torch.Tensor, optional): Start nodes. (default: :obj:`None`)
            shuffle (bool, optional): Shuffle the start nodes first. (default: :obj:`True`)
        """
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"Expected 'batch_size' to be a positive int (got {batch_size!r})")
        nodes = (
            torch.arange(self.csr.num_nodes)
            if start is None
            else _check_start(start, self.csr.num_nodes)
        )
        if shuffle:
            nodes = nodes[torch.randperm(nodes.numel(), generator=self.generator)]
        for lo in range(0, nodes.numel(), batch_size):
            batch = nodes[lo : lo + batch_size]
            yield batch, self.walk(batch)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(walk_length={self.walk_length}, "
            f"walks_per_node={self.walks_per_node}, p={self.p:g}, q={self.q:g}, "
            f"weighted={self.weighted}"
            + (", backend='pyg-lib')" if self.backend == "pyg-lib" else ")")
        )
