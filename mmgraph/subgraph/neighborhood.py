"""The computation graph of a batch of subgraphs: their k-hop neighbourhoods, vectorised."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.sampling.csr import CSRGraph, expand_rows

EDGE_SETS: tuple[str, ...] = ("receptive", "induced", "seeds")
"""The ``edges`` a neighbourhood keeps (:func:`khop_neighborhoods`)."""


class Neighborhoods(NamedTuple):
    """Rows and edges of one or several k-hop neighbourhoods, as one disjoint-union graph.

    Attributes:
        n_id (torch.Tensor): The base-graph node of each row ``[R]``, rows sorted by
            (group, node).
        group (torch.Tensor): The group (neighbourhood) of each row ``[R]``.
        inside (torch.Tensor): Whether the row's node is one of its group's seed nodes
            (bool ``[R]``).
        hop (torch.Tensor): Distance of the row's node to its group's seeds ``[R]``.
        edge_index (torch.Tensor): Edges between rows ``[2, E']`` (source row, target row),
            both in the same group.
        e_id (torch.Tensor): Position of each edge in the base graph's ``edge_index``
            ``[E']``, to gather edge types and weights.
    """

    n_id: Tensor
    group: Tensor
    inside: Tensor
    hop: Tensor
    edge_index: Tensor
    e_id: Tensor

    @property
    def num_rows(self) -> int:
        """Number of rows :math:`R`."""
        return int(self.n_id.numel())


def khop_neighborhoods(
    csr: CSRGraph,
    nodes: Tensor,
    group: Tensor,
    hops: int,
    edges: str = "receptive",
    out_csr: CSRGraph | None = None,
) -> Neighborhoods:
    r"""The ``hops``-hop in-neighbourhood of each group of seed nodes, with its edges.

    Row set of group :math:`g` with seeds :math:`S_g`: every node from which a path of at
    most ``hops`` edges leads into :math:`S_g`. Its edges, with ``edges="receptive"``: every
    base-graph edge into a row less than ``hops`` away from the seeds (all its in-edges come
    from rows), the receptive field of the seeds: after :math:`L =` ``hops`` rounds of
    message passing whose coefficients depend only on the target's in-edges (sum, mean,
    GLASS), every row :math:`k` hops away holds exactly what it holds after :math:`L - k`
    rounds on the whole base graph, so the seeds hold their exact embeddings while the work
    is proportional to their receptive field. With ``edges="induced"``: every base-graph
    edge between two rows (for ``hops=0``, the induced subgraph of the seeds; for whole
    graphs of a disjoint union, the graphs themselves). With ``edges="seeds"``: those of
    them with a seed at one end at least, all that two rounds read from one hop
    (:class:`~mmgraph.subgraph.GLASS`): on dense graphs a fraction of the induced edges.

    Groups are kept apart (a node in two neighbourhoods gets two rows), which lets each
    subgraph carry its own labels (the labelling trick); one group for all seeds gives
    their union.

    Args:
        csr (CSRGraph): The base graph built ``by="target"`` (rows hold in-neighbours).
        nodes (torch.Tensor): Seed nodes ``[M]``.
        group (torch.Tensor): Group of each seed ``[M]`` (non-negative).
        hops (int): Number of hops :math:`L \ge 0`.
        edges (str, optional): ``"receptive"``, ``"induced"`` or ``"seeds"``.
            (default: ``"receptive"``)
        out_csr (CSRGraph, optional): The base graph built ``by="source"``: with
            ``edges="seeds"``, the edges are then read from the seeds' in- and out-edges
            alone, not from every row's in-edges (on a graph of millions of edges, a
            hop holds hundreds of thousands of in-edges). (default: :obj:`None`)

    Returns:
        Neighborhoods: The rows, their groups, seed flags, hops, edges and edge ids.

    Shapes:
        M seeds, R rows, E' edges.
    """
    if csr.by != "target":
        raise ValueError(
            f"Expected a CSRGraph built by='target' (rows hold in-neighbours) (got by={csr.by!r})"
        )
    if isinstance(hops, bool) or not isinstance(hops, int) or hops < 0:
        raise ValueError(f"Expected 'hops' to be a non-negative int (got {hops!r})")
    if edges not in EDGE_SETS:
        raise ValueError(f"Expected 'edges' to be one of {list(EDGE_SETS)} (got {edges!r})")
    if nodes.shape != group.shape or nodes.dim() != 1:
        raise ValueError(
            f"Expected 'nodes' and 'group' of the same shape [M] (got {list(nodes.shape)} and "
            f"{list(group.shape)})"
        )
    n = max(csr.num_nodes, 1)
    deg = csr.degree
    seeds = torch.unique(group.long() * n + nodes.long())
    layers = [seeds]
    reached = seeds
    for _ in range(hops):
        frontier = layers[-1]
        if frontier.numel() == 0:
            break
        g, v = frontier // n, frontier % n
        seg, pos = expand_rows(csr.rowptr.index_select(0, v), deg.index_select(0, v))
        found = torch.unique(g.index_select(0, seg) * n + csr.col.index_select(0, pos))
        new = found[~_isin_sorted(found, reached)]
        reached = torch.cat([reached, new]).sort().values
        layers.append(new)
    hop = torch.cat(
        [torch.full((keys.numel(),), k, dtype=torch.long) for k, keys in enumerate(layers)]
    )
    order = torch.cat(layers).argsort()
    hop = hop[order]
    g, v = reached // n, reached % n
    inside = hop == 0
    if edges == "seeds" and out_csr is not None and reached.numel():
        edge_index, e_id = _seed_edges(csr, out_csr, reached, g, v, inside, n)
        return Neighborhoods(v, g, inside, hop, edge_index, e_id)
    # In-edges (u -> v) of the rows v that receive messages, from rows u of the same group.
    targets = torch.arange(reached.numel())
    if edges == "receptive":
        targets = (hop < hops).nonzero().view(-1)
    src, dst, e_id = _row_edges(csr, targets, reached, g, v, n)
    if edges == "seeds":
        keep = inside.index_select(0, src) | inside.index_select(0, dst)
        src, dst, e_id = src[keep], dst[keep], e_id[keep]
    return Neighborhoods(v, g, inside, hop, torch.stack([src, dst]), e_id)


def _row_edges(
    csr: CSRGraph, rows: Tensor, reached: Tensor, g: Tensor, v: Tensor, n: int
) -> tuple[Tensor, Tensor, Tensor]:
    """The base edges of ``rows`` (``csr``'s direction) whose other end is a same-group row.

    Returns (that other row, the row of ``rows``, the edge id), row by row.
    """
    rv = v.index_select(0, rows)
    seg, pos = expand_rows(csr.rowptr.index_select(0, rv), csr.degree.index_select(0, rv))
    keys = g.index_select(0, rows).index_select(0, seg) * n + csr.col.index_select(0, pos)
    other = torch.searchsorted(reached, keys).clamp_(max=max(reached.numel() - 1, 0))
    keep = reached.index_select(0, other) == keys if reached.numel() else keys < 0
    return other[keep], rows.index_select(0, seg[keep]), csr.e_id.index_select(0, pos[keep])


def _seed_edges(
    csr: CSRGraph,
    out_csr: CSRGraph,
    reached: Tensor,
    g: Tensor,
    v: Tensor,
    inside: Tensor,
    n: int,
) -> tuple[Tensor, Tensor]:
    """The edges between rows with a seed at one end, from the seeds' own edges.

    In-edges of the seed rows from rows, and out-edges of the seed rows into the other
    rows; sorted by (target row, source row), the order of :func:`khop_neighborhoods`'s
    induced edges.
    """
    if out_csr.by != "source":
        raise ValueError(f"Expected 'out_csr' built by='source' (got by={out_csr.by!r})")
    seeds = inside.nonzero().view(-1)
    src, into, into_e = _row_edges(csr, seeds, reached, g, v, n)  # u -> seed
    dst, out, out_e = _row_edges(out_csr, seeds, reached, g, v, n)  # seed -> w
    other = ~inside.index_select(0, dst)  # w a seed: read as an in-edge already
    source = torch.cat([src, out[other]])
    target = torch.cat([into, dst[other]])
    e_id = torch.cat([into_e, out_e[other]])
    order = torch.argsort(target * reached.numel() + source, stable=True)
    return torch.stack([source[order], target[order]]), e_id[order]


def _isin_sorted(values: Tensor, sorted_set: Tensor) -> Tensor:
    """Whether each value is in the sorted tensor ``sorted_set``."""
    if sorted_set.numel() == 0:
        return torch.zeros(values.shape, dtype=torch.bool)
    pos = torch.searchsorted(sorted_set, values).clamp_(max=sorted_set.numel() - 1)
    return sorted_set.index_select(0, pos) == values


class NeighborhoodCache:
    """The neighbourhoods of a data set's subgraphs, extracted once and reused by batches.

    Each subgraph's ``hops``-hop neighbourhood (:func:`khop_neighborhoods`) is computed on
    first request and kept; :meth:`get` assembles the disjoint union of any list of them
    (groups numbered by position in the list) by concatenation. Attach one to batches
    (``make_subgraph_batch(..., neighborhoods=cache)``) to spare models the extraction in
    every epoch.

    Args:
        dataset (SubgraphDataset): The data set.
        hops (int): Number of hops (a model's number of layers).
        edges (str, optional): ``"receptive"``, ``"induced"`` or ``"seeds"`` (see
            :func:`khop_neighborhoods`). (default: ``"receptive"``)
    """

    def __init__(self, dataset: SubgraphDataset, hops: int, edges: str = "receptive") -> None:
        if isinstance(hops, bool) or not isinstance(hops, int) or hops < 0:
            raise ValueError(f"Expected 'hops' to be a non-negative int (got {hops!r})")
        if edges not in EDGE_SETS:
            raise ValueError(f"Expected 'edges' to be one of {list(EDGE_SETS)} (got {edges!r})")
        self.dataset = dataset
        self.hops = hops
        self.edges = edges
        graph = dataset.graph
        self.csr = CSRGraph.from_edge_index(graph.edge_index, int(graph.num_nodes), by="target")
        self.out_csr = (
            CSRGraph.from_edge_index(graph.edge_index, int(graph.num_nodes), by="source")
            if edges == "seeds"
            else None
        )
        self._pieces: dict[int, tuple[Tensor, Tensor, Tensor, Tensor]] = {}

    def _fill(self, missing: list[int], chunk: int = 256) -> None:
        for lo in range(0, len(missing), chunk):
            ids = missing[lo : lo + chunk]
            nodes, group = self.dataset.subgraph_index(ids)
            hood = khop_neighborhoods(
                self.csr, nodes, group, self.hops, self.edges, out_csr=self.out_csr
            )
            row_counts = torch.bincount(hood.group, minlength=len(ids)).tolist()
            edge_counts = torch.bincount(
                hood.group.index_select(0, hood.edge_index[1]), minlength=len(ids)
            ).tolist()
            row_start = 0
            edge_start = 0
            for i, sid in enumerate(ids):
                r, e = row_counts[i], edge_counts[i]
                self._pieces[sid] = (
                    hood.n_id[row_start : row_start + r].clone(),
                    hood.hop[row_start : row_start + r].clone(),
                    hood.edge_index[:, edge_start : edge_start + e] - row_start,
                    hood.e_id[edge_start : edge_start + e].clone(),
                )
                row_start += r
                edge_start += e

    def get(self, ids: Tensor | list[int]) -> Neighborhoods:
        """The neighbourhoods of the subgraphs ``ids`` as one graph, group ``i`` for ``ids[i]``."""
        id_list = [int(i) for i in (ids.tolist() if isinstance(ids, Tensor) else ids)]
        for i in id_list:
            if not 0 <= i < len(self.dataset):
                raise IndexError(
                    f"Subgraph index {i} out of range for {len(self.dataset)} subgraphs"
                )
        missing = sorted({i for i in id_list if i not in self._pieces})
        if missing:
            self._fill(missing)
        pieces = [self._pieces[i] for i in id_list]
        sizes = torch.tensor([p[0].numel() for p in pieces], dtype=torch.long)
        offsets = torch.cumsum(sizes, 0) - sizes
        edge_sizes = torch.tensor([p[3].numel() for p in pieces], dtype=torch.long)
        n_id = torch.cat([p[0] for p in pieces]) if pieces else torch.empty(0, dtype=torch.long)
        hop = torch.cat([p[1] for p in pieces]) if pieces else torch.empty(0, dtype=torch.long)
        group = torch.repeat_interleave(torch.arange(len(pieces)), sizes)
        if pieces:
            edge_index = torch.cat([p[2] for p in pieces], dim=1)
            edge_index = edge_index + torch.repeat_interleave(offsets, edge_sizes)
            e_id = torch.cat([p[3] for p in pieces])
        else:
            edge_index = torch.empty(2, 0, dtype=torch.long)
            e_id = torch.empty(0, dtype=torch.long)
        return Neighborhoods(n_id, group, hop == 0, hop, edge_index, e_id)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_subgraphs={len(self.dataset)}, hops={self.hops}, "
            f"edges={self.edges!r}, cached={len(self._pieces)})"
        )
