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
from typing import Any

import torch
from torch import Tensor

from mmgraph.sampling import _pyglib
from mmgraph.sampling.csr import CSRGraph, expand_rows
from mmgraph.seed import make_generator

_TAIL = 4096
"""Below this many pending walkers, each round proposes several candidates per walker."""

_MAX_REPEAT = 32
"""At most this many candidates per pending walker and round."""

_MAX_ROUNDS = 12
"""Walkers still rejecting after this many rounds of a step are drawn directly: all their
neighbours are scored exactly (only where acceptance rates are tiny, e.g. extreme p, q)."""


def resolve_generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator:
    """The generator to draw from: ``generator`` if given, else one seeded with ``seed``."""
    if generator is not None:
        if seed is not None:
            raise ValueError("Pass either 'seed' or 'generator', not both")
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                f"Expected 'generator' to be a torch.Generator (got {type(generator).__name__!r})"
            )
        return generator
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise TypeError(f"Expected 'seed' to be an int or None (got {type(seed).__name__!r})")
    return make_generator(seed)


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
        # int32 copies of (start, count) and col for the uniform walk: half the memory
        # traffic. None when weighted, or when ids do not fit in int32.
        self.compact: tuple[Tensor, Tensor] | None = None
        if not weighted and e < 2**31 - 1 and n < 2**31 - 1:
            self.compact = (self.node.int(), self.col.int())
        # Sorted keys `row * (N + 1) + col` for neighbour tests, padded with the largest key.
        self.n_key = n + 1
        self.key_steps = _steps(int(deg.max()) if n else 0)
        big = torch.iinfo(torch.long).max
        pad_keys = torch.full((2 * self.key_steps[0],), big, dtype=torch.long)
        self.keys = torch.cat([csr.row * self.n_key + csr.col, pad_keys])
        self._reverse: Tensor | None = None

    def reverse(self) -> Tensor:
        """The reverse of each entry ``[E + 1, 2]`` (int64, sentinel last), built on first use.

        Row ``e`` for the entry ``v -> x``: the position of ``x -> v`` (``E`` if none) and the
        bits of its float64 weight, the total over parallel ``x -> v`` entries (0 if none).
        """
        if self._reverse is None:
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
            pos = torch.cat([pos, torch.tensor([e])])
            w = torch.cat([w, torch.zeros(1, dtype=torch.float64)])
            self._reverse = torch.stack([pos, w.view(torch.long)], dim=1)
        return self._reverse

    def first_order(self, cur: Tensor, gen: torch.Generator, out: Tensor) -> Tensor:
        """One uniform (or weight-proportional) step from ``cur``, nodes written to ``out``.

        ``cur`` and ``out`` are int32 for the uniform walk over the ``compact`` tables.
        Returns the CSR positions of the chosen entries (``E`` for a stopped walk).
        """
        node_table, col = self.node, self.col
        if out.dtype == torch.int32:
            assert self.compact is not None
            node_table, col = self.compact
        node = node_table.index_select(0, cur)
        start, count = node[:, 0], node[:, 1]
        if self.weighted:
            r = torch.rand(cur.numel(), dtype=torch.float64, generator=gen)
            target = r.mul_(node[:, 2].view(torch.float64)).add_(node[:, 3].view(torch.float64))
            pos = torch.minimum(self.search_weight(start, target), start + count - 1)
        else:
            # Offset floor(r * count / 2^31) for a 31-bit random integer r: uniform up to a
            # relative bias below count / 2^31.
            r = torch.randint(0, 1 << 31, (cur.numel(),), generator=gen)
            pos = r.mul_(count).bitwise_right_shift_(31).add_(start)
        torch.index_select(col, 0, pos, out=out)
        return pos

    def search_weight(self, start: Tensor, target: Tensor) -> Tensor:
        """First position ``>= start`` whose cumulative weight exceeds ``target``."""
        pos = start - 1
        cand = torch.empty_like(pos)
        for step in self.steps:
            torch.add(pos, step, out=cand)
            pos = torch.where(self.cumw.index_select(0, cand) <= target, cand, pos)
        return pos.add_(1)

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
    if not isinstance(walk_length, int) or isinstance(walk_length, bool):
        raise TypeError(f"Expected 'walk_length' to be an int (got {type(walk_length).__name__!r})")
    if walk_length < 0:
        raise ValueError(f"Expected 'walk_length' to be at least 0 (got {walk_length})")
    for name, value in (("p", p), ("q", q)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"Expected '{name}' to be a float (got {type(value).__name__!r})")
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"Expected '{name}' to be a positive, finite float (got {value})")


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


def _tables(csr: CSRGraph, weighted: bool) -> _WalkTables:
    weighted = weighted and csr.edge_weight is not None
    key = f"walk_tables_{int(weighted)}"
    if key not in csr._cache:
        if weighted and csr.num_edges:
            assert csr.edge_weight is not None
            if bool((csr.edge_weight < 0).any()):
                raise ValueError(
                    "Found negative edge weights: weighted walks need non-negative weights; "
                    "pass weighted=False or fix the weights"
                )
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
    gen = resolve_generator(seed, generator)
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
        if uniform:
            for i in range(walk_length):
                tables.first_order(out[i], gen, out[i + 1])
        else:
            _Node2Vec(tables, p, q).walk(out, gen)
    walks = torch.empty(b, walk_length + 1, dtype=torch.long).copy_(out.t())
    walks.masked_fill_(walks == tables.num_nodes, -1)
    return walks


_U_BITS = 31
"""Low bits of a 63-bit random integer that decide acceptance; the other 32 propose."""


class _Node2Vec:
    """The biased second-order step, by rejection sampling over all walkers at once.

    Pending walkers keep their state in the rows of one int64 matrix (float64 columns stored
    as bits), so that dropping the walkers that accepted is a single gather. Each round draws
    one 63-bit random integer per proposal: its low 31 bits decide acceptance (against
    integer thresholds), its high 32 bits choose the proposal.
    """

    def __init__(self, tables: _WalkTables, p: float, q: float) -> None:
        self.tables = tables
        ret, out = 1.0 / p, 1.0 / q
        self.strip = ret > max(1.0, out)
        c = max(1.0, out) if self.strip else max(ret, 1.0, out)
        # Acceptance probability of a proposed x (returning to t, a neighbour of t, other)
        # as a threshold on a 31-bit uniform integer.
        scale = 1 << _U_BITS
        self.a_ret = math.ceil(min(ret, c) / c * scale)
        a_nbr, a_out = math.ceil(1.0 / c * scale), math.ceil(out / c * scale)
        self.lo, self.hi = min(a_nbr, a_out), max(a_nbr, a_out)
        self.nbr_accepts = a_nbr > a_out
        self.kappa = ret / c - 1.0  # width of the return strip per unit of w(v, t), over c
        self.alpha = (ret, out)
        # Columns of the state matrix.
        names = ["walker", "t", "start", "size"]
        names += ["ext", "back"] if self.strip else []
        names += ["base", "count"] if tables.weighted else []
        self.col = {name: i for i, name in enumerate(names)}

    def walk(self, out: Tensor, gen: torch.Generator) -> None:
        """Fill rows ``1..L`` of ``out`` ``[L + 1, B]`` (row 0 holds the start nodes)."""
        eprev = self.tables.first_order(out[0], gen, out[1])
        for i in range(1, out.size(0) - 1):
            eprev = self._step(out[i - 1], out[i], out[i + 1], eprev, gen)

    def _state(self, prev: Tensor, cur: Tensor, eprev: Tensor) -> Tensor:
        """The state matrix of all walkers, in order (stopped ones included)."""
        tables = self.tables
        node = tables.node.index_select(0, cur)
        walker = torch.arange(cur.numel())
        columns = [walker, prev, node[:, 0], node[:, 2] if tables.weighted else node[:, 1]]
        if self.strip:
            # One gather fetches the reverse entry v -> t and its weight.
            rev = tables.reverse().index_select(0, eprev)
            size = node[:, 2].view(torch.float64) if tables.weighted else node[:, 1]
            ext = rev[:, 1].view(torch.float64).mul(self.kappa).add_(size)
            columns += [ext.view(torch.long), rev[:, 0]]
        if tables.weighted:
            columns += [node[:, 3], node[:, 1]]
        return torch.stack(columns, dim=1)

    def _step(
        self, prev: Tensor, cur: Tensor, nxt: Tensor, eprev: Tensor, gen: torch.Generator
    ) -> Tensor:
        """Write the next node of every walk into ``nxt``; return the entries taken."""
        enext = eprev
        if self.strip:
            enext = torch.full((cur.numel(),), self.tables.sentinel_pos, dtype=torch.long)
        state = self._state(prev, cur, eprev)
        rounds = 0
        if state.size(0) >= _TAIL:
            # First round: every walker proposes once, in order: results are written in place.
            acc, x, pos = self._propose(state, gen)
            torch.where(acc, x, nxt, out=nxt)
            if self.strip:
                torch.where(acc, pos, enext, out=enext)
            state = state.index_select(0, (~acc).nonzero().view(-1))
            rounds = 1
        while state.size(0):
            n = state.size(0)
            rounds += 1
            if rounds > _MAX_ROUNDS:
                x, pos = self._direct(state, gen)
                nxt.index_copy_(0, state[:, 0], x)
                if self.strip:
                    enext.index_copy_(0, state[:, 0], pos)
                break
            # When few walkers are left, give each several proposals in one round and keep
            # its first accepted one (the same law as proposing one at a time).
            k = 1 if n >= _TAIL else min(_MAX_REPEAT, max(2, _TAIL // n))
            # Proposals walker by walker ([n, k]), so that the reductions run along rows.
            props = state.repeat_interleave(k, dim=0) if k > 1 else state
            acc, x, pos = self._propose(props, gen)
            if k > 1:
                acc_k = acc.view(n, k)
                done = acc_k.any(1)
                first = acc_k.to(torch.uint8).argmax(1)
                sel = first.add_(torch.arange(0, n * k, k))[done]
            else:
                done = acc
                sel = acc.nonzero().view(-1)
            who = props[:, 0].index_select(0, sel)
            nxt.index_copy_(0, who, x.index_select(0, sel))
            if self.strip:
                enext.index_copy_(0, who, pos.index_select(0, sel))
            state = state.index_select(0, (~done).nonzero().view(-1))
        return enext

    def _direct(self, state: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        """Draw the next node of the walkers in ``state`` exactly, scoring every neighbour."""
        tables, col = self.tables, self.col
        t, start = state[:, col["t"]], state[:, col["start"]]
        count = state[:, col["count" if tables.weighted else "size"]]
        seg, pos = expand_rows(start, count)
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

    def _propose(self, props: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        """One proposal per row of ``props``: (accepted, node, CSR entry)."""
        tables, col = self.tables, self.col
        t, start = props[:, col["t"]], props[:, col["start"]]
        size = props[:, col["size"]]
        r = torch.empty_like(t).random_(generator=gen)  # 63 random bits
        u = r & ((1 << _U_BITS) - 1)
        r >>= _U_BITS
        in_strip = None
        if self.strip or tables.weighted:
            if tables.weighted:
                size = size.view(torch.float64)
            # y in [0, size) proposes an entry (proportionally to its weight); y beyond,
            # in the strip of width kappa * w(v, t), returns to t outright.
            span = props[:, col["ext"]].view(torch.float64) if self.strip else size
            y = r.double().mul_(span).mul_(2.0 ** -(63 - _U_BITS))
            if self.strip:
                in_strip = y >= size
            if tables.weighted:
                base = props[:, col["base"]].view(torch.float64)
                pos = tables.search_weight(start, y.add_(base))
            else:
                pos = y.long().add_(start)
            if self.strip:
                pos.clamp_(max=tables.sentinel_pos)  # strip rows may point past their row
        else:
            pos = r.mul_(size).bitwise_right_shift_(63 - _U_BITS).add_(start)
        x = tables.col.index_select(0, pos)
        is_ret = x == t
        if self.a_ret >= 1 << _U_BITS:
            acc = is_ret | (u < self.lo)
        else:
            acc = torch.where(is_ret, u < self.a_ret, u < self.lo)
        if self.lo < self.hi:
            # Only where u falls between the two acceptance levels does it matter whether
            # x is a neighbour of t.
            # acc holds u < lo already; in the strip regime it holds every return as well.
            rest = ~acc if self.a_ret >= 1 << _U_BITS else ~(acc | is_ret)
            test = ((u < self.hi) & rest).nonzero().view(-1)
            if test.numel():
                nbr = tables.is_neighbor(t.index_select(0, test), x.index_select(0, test))
                acc.index_copy_(0, test, nbr if self.nbr_accepts else ~nbr)
        if tables.has_dead:
            acc |= x == tables.num_nodes  # stopped walks stay on the sentinel
        if in_strip is not None:
            # The strip returns to t, over the first entry of v -> t.
            x = torch.where(in_strip, t, x)
            pos = torch.where(in_strip, props[:, col["back"]], pos)
            acc |= in_strip
        return acc, x, pos


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
        if not isinstance(walks_per_node, int) or isinstance(walks_per_node, bool):
            raise TypeError(
                f"Expected 'walks_per_node' to be an int (got {type(walks_per_node).__name__!r})"
            )
        if walks_per_node < 1:
            raise ValueError(f"Expected 'walks_per_node' to be at least 1 (got {walks_per_node})")
        self.csr = csr
        self.walk_length = walk_length
        self.walks_per_node = walks_per_node
        self.p = float(p)
        self.q = float(q)
        self.weighted = weighted and csr.edge_weight is not None
        self.seed = seed
        self.generator = resolve_generator(seed, None)
        self.backend = _walk_backend(
            backend, self.__class__.__name__, self.p, self.q, self.weighted, seed is not None
        )

    def walk(self, start: Tensor | None = None) -> Tensor:
        """Walks ``[walks_per_node * B, walk_length + 1]`` from ``start`` (all nodes if None)."""
        if start is None:
            start = torch.arange(self.csr.num_nodes)
        start = _check_start(start, self.csr.num_nodes).repeat(self.walks_per_node)
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
