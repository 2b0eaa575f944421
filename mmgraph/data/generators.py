"""Fast, seeded random graph generators: Erdős–Rényi :math:`G(n, m)` and Chung–Lu power law.

Both are vectorised (no Python loop over nodes or edges) and build a graph of 1M nodes and
about 10M directed edges in seconds. They return simple graphs: no self loops, no duplicate
edges, and both directions of every edge when undirected, sorted by (source, target).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from mmgraph.data._checks import check_int
from mmgraph.seed import make_generator

_P_SPLIT = 0.5
"""Chung–Lu pairs with edge probability above this are enumerated, the rest drawn in bulk."""


class GeneratedGraph(NamedTuple):
    """A generated graph: ``edge_index`` ``[2, E]`` (int64) and its number of nodes."""

    edge_index: Tensor
    num_nodes: int


def _keys_to_edge_index(keys: Tensor, n: int, directed: bool) -> Tensor:
    """Turn sorted pair keys ``u * n + v`` into an ``edge_index`` sorted by (source, target)."""
    if not directed:
        # Keys hold u < v; add the reverse direction and restore the (source, target) order.
        keys = torch.cat([keys, (keys % n) * n + keys // n]).sort().values
    return torch.stack([keys // n, keys % n])


def _distinct_pair_keys(n: int, m: int, directed: bool, gen: torch.Generator) -> Tensor:
    """``m`` distinct pairs ``u != v`` (``u < v`` when undirected), uniform, as sorted keys."""
    total = n * (n - 1) if directed else n * (n - 1) // 2
    if m == 0:
        return torch.empty(0, dtype=torch.long)
    if 2 * m > total:
        # Dense: list every pair and keep a random m of them (total < 2m, so this is cheap).
        if directed:
            keys = torch.arange(n * n)
            keys = keys[keys // n != keys % n]
        else:
            row, col = torch.triu_indices(n, n, offset=1)
            keys = row * n + col
        return keys[torch.randperm(total, generator=gen)[:m]].sort().values
    # Sparse: draw pairs with replacement until m distinct ones are found. Given how many are
    # distinct, the distinct set is a uniform subset of that size (the draws are exchangeable),
    # so a uniform m-subset of it is a uniform m-subset of all pairs.
    keys = torch.empty(0, dtype=torch.long)
    while keys.numel() < m:
        have = keys.numel()
        # Draws needed for m distinct of `total` in expectation, plus a margin.
        expected = -total * math.log1p(-m / total) - total * -math.log1p(-have / total)
        draw = int(1.02 * expected) + 64
        u = torch.randint(0, n, (draw,), generator=gen)
        v = torch.randint(0, n - 1, (draw,), generator=gen)
        v += v >= u  # uniform over the n - 1 nodes other than u
        if not directed:
            u, v = torch.minimum(u, v), torch.maximum(u, v)
        keys = torch.unique(torch.cat([keys, u * n + v]))
    if keys.numel() > m:
        keys = keys[torch.randperm(keys.numel(), generator=gen)[:m]].sort().values
    return keys


def erdos_renyi_gnm(
    num_nodes: int,
    num_edges: int,
    directed: bool = False,
    seed: int | None = None,
) -> GeneratedGraph:
    r"""The Erdős–Rényi graph :math:`G(n, m)`: ``num_edges`` edges, uniform among all pairs.

    Every simple graph on ``num_nodes`` nodes with exactly ``num_edges`` edges is equally
    likely. Sparse graphs are drawn by sampling pairs with replacement and keeping a uniform
    subset of the distinct ones; graphs denser than half of all pairs by listing the pairs.

    Args:
        num_nodes (int): Number of nodes :math:`n`.
        num_edges (int): Number of edges :math:`m`. For an undirected graph, each edge is
            stored in both directions, so ``edge_index`` has ``2 * num_edges`` columns.
        directed (bool, optional): Draw ordered pairs (a directed graph) instead of
            unordered ones. (default: :obj:`False`)
        seed (int, optional): Seed of the draw. (default: :obj:`None`)

    Returns:
        GeneratedGraph: ``(edge_index, num_nodes)``, ``edge_index`` sorted by
        (source, target), no self loops, no duplicates.

    Example:
        >>> edge_index, n = erdos_renyi_gnm(100_000, 500_000, seed=0)  # ER-100k
        >>> edge_index.shape
        torch.Size([2, 1000000])
    """
    n = check_int(num_nodes, "num_nodes", 1)
    m = check_int(num_edges, "num_edges", 0)
    total = n * (n - 1) if directed else n * (n - 1) // 2
    if m > total:
        kind = "directed" if directed else "undirected"
        raise ValueError(
            f"A simple {kind} graph on {n} nodes has at most {total} edges (got "
            f"num_edges={m}); lower 'num_edges' or raise 'num_nodes'"
        )
    keys = _distinct_pair_keys(n, m, directed, make_generator(seed))
    return GeneratedGraph(_keys_to_edge_index(keys, n, directed), n)


def power_law_weights(num_nodes: int, gamma: float = 2.5, avg_degree: float = 10.0) -> Tensor:
    r"""Expected degrees :math:`w_i = c\,(i + 1)^{-1/(\gamma - 1)}` with mean ``avg_degree``.

    The degree sequence of Chung & Lu ("Connected components in random graphs with given
    expected degree sequences", 2002), whose tail follows a power law with exponent
    :math:`\gamma`, in decreasing order (node ``0`` is the largest hub).

    Args:
        num_nodes (int): Number of nodes.
        gamma (float, optional): Power-law exponent, larger than 1. (default: :obj:`2.5`)
        avg_degree (float, optional): Mean of the weights. (default: :obj:`10.0`)

    Returns:
        torch.Tensor: ``float64`` weights ``[num_nodes]``, decreasing.
    """
    n = check_int(num_nodes, "num_nodes", 1)
    if not isinstance(gamma, (int, float)) or not gamma > 1.0 or math.isinf(gamma):
        raise ValueError(f"Expected a finite power-law exponent 'gamma' > 1 (got {gamma})")
    if not isinstance(avg_degree, (int, float)) or not 0.0 < avg_degree <= n - 1:
        raise ValueError(
            f"Expected 'avg_degree' in (0, num_nodes - 1] = (0, {n - 1}] (got {avg_degree})"
        )
    w = torch.arange(1, n + 1, dtype=torch.float64).pow_(-1.0 / (gamma - 1.0))
    return w.mul_(avg_degree * n / w.sum())


def _chung_lu_pairs(w: Tensor, gen: torch.Generator) -> Tensor:
    """Keys ``i * n + j`` (``i < j``) of a Chung–Lu graph on decreasing weights ``w``."""
    n = w.numel()
    total = float(w.sum())
    threshold = _P_SPLIT * total  # a pair is "heavy" when w_i * w_j > threshold

    # Heavy pairs: node i (weights decreasing) pairs heavily with the first `reach[i]` nodes.
    reach = n - torch.searchsorted(w.flip(0), threshold / w, right=True)
    heavy_i = torch.arange(n)[reach > torch.arange(n) + 1]
    counts = reach[heavy_i] - heavy_i - 1
    rows = heavy_i.repeat_interleave(counts)
    starts = torch.cumsum(counts, 0) - counts
    cols = torch.arange(rows.numel()) - starts.repeat_interleave(counts) + rows + 1
    p_heavy = (w[rows] * w[cols] / total).clamp_(max=1.0)
    keep = torch.rand(rows.numel(), dtype=torch.float64, generator=gen) < p_heavy
    heavy_keys = rows[keep] * n + cols[keep]

    # Light pairs: Poisson(c * p_ij) draws per pair, thinned to probability p_ij.
    c = 2.0 * math.log(2.0)  # 1 - exp(-c p) >= p for every p <= 1/2
    mean_draws = torch.tensor([c * total / 2.0], dtype=torch.float64)
    num_draws = int(torch.poisson(mean_draws, generator=gen))
    cdf = torch.cumsum(w, 0)
    cdf /= cdf[-1].clone()
    ends = torch.searchsorted(cdf, torch.rand(2 * num_draws, dtype=torch.float64, generator=gen))
    ends.clamp_(max=n - 1)
    u, v = ends[:num_draws], ends[num_draws:]
    u, v = torch.minimum(u, v), torch.maximum(u, v)
    light = (u != v) & (v >= reach[u])  # u is the heavier end; heavy pairs were listed above
    keys = torch.unique(u[light] * n + v[light])
    u, v = keys // n, keys % n
    p = w[u] * w[v] / total
    accept = torch.rand(keys.numel(), dtype=torch.float64, generator=gen) < p / -torch.expm1(-c * p)
    return torch.cat([heavy_keys, keys[accept]])


def chung_lu_power_law(
    num_nodes: int,
    gamma: float = 2.5,
    avg_degree: float = 10.0,
    seed: int | None = None,
) -> GeneratedGraph:
    r"""An undirected Chung–Lu graph with a power-law expected degree sequence.

    Each pair of distinct nodes is joined independently with probability

    .. math::
        p_{ij} = \min\left(1, \frac{w_i w_j}{S}\right), \qquad S = \sum_k w_k,

    where :math:`w` = :func:`power_law_weights` (expected degree of node :math:`i` about
    :math:`w_i`, lower for the largest hubs, whose probabilities are capped at 1). Node ids
    are shuffled, so hubs are spread over the id range.

    Exact and vectorised: pairs with :math:`p_{ij} > 1/2` (among the few largest hubs) are
    listed and kept with probability :math:`p_{ij}`; the others are covered by drawing both
    endpoints of :math:`\mathrm{Poisson}(cS/2)` edges proportionally to :math:`w`, which puts
    a :math:`\mathrm{Poisson}(c\,p_{ij})` number of draws on each pair, and keeping a drawn
    pair with probability :math:`p_{ij} / (1 - e^{-c p_{ij}})`, where :math:`c = 2 \ln 2`
    makes that at most 1.

    Args:
        num_nodes (int): Number of nodes.
        gamma (float, optional): Power-law exponent of the degree distribution, larger
            than 1. (default: :obj:`2.5`)
        avg_degree (float, optional): Mean expected degree (the realised mean is slightly
            lower, as hub pairs saturate). (default: :obj:`10.0`)
        seed (int, optional): Seed of the draw. (default: :obj:`None`)

    Returns:
        GeneratedGraph: ``(edge_index, num_nodes)``, symmetric, sorted by (source, target),
        no self loops, no duplicates.

    Example:
        >>> edge_index, n = chung_lu_power_law(100_000, gamma=2.5, avg_degree=10, seed=0)
    """
    w = power_law_weights(num_nodes, gamma, avg_degree)
    n = w.numel()
    gen = make_generator(seed)
    keys = _chung_lu_pairs(w, gen)
    # Shuffle the node ids so hubs do not sit at ids 0, 1, 2, ...
    perm = torch.randperm(n, generator=gen)
    u, v = perm[keys // n], perm[keys % n]
    keys = torch.minimum(u, v) * n + torch.maximum(u, v)
    return GeneratedGraph(_keys_to_edge_index(keys, n, directed=False), n)
