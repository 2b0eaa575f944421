"""Graphs shared by the objective tests."""

from __future__ import annotations

import torch
from torch_geometric.utils import subgraph

from mmgraph.data import MultimodalGraph, make_undirected


def community_graph(blocks: int = 4, size: int = 40, seed: int = 0) -> MultimodalGraph:
    """Planted communities (p_in 0.15, p_out 0.005) whose nodes carry noisy attributes.

    Each community has its own mean numeric profile (6 columns, unit noise) and a
    categorical flag that matches the community 60% of the time.
    """
    gen = torch.Generator().manual_seed(seed)
    n = blocks * size
    y = torch.arange(n) // size
    prob = torch.where(y[:, None] == y[None, :], 0.15, 0.005)
    upper = torch.rand(n, n, generator=gen).lt(prob).triu(1)
    edge_index, _, _ = make_undirected(upper.nonzero().t(), n)
    means = torch.randn(blocks, 6, generator=gen)
    numeric = means[y] + torch.randn(n, 6, generator=gen)
    flag = torch.where(
        torch.rand(n, generator=gen) < 0.6, y, torch.randint(0, blocks, (n,), generator=gen)
    )
    return MultimodalGraph(
        edge_index,
        numeric=numeric,
        categorical=(flag + 1).view(-1, 1),
        categorical_vocabs=[[str(b) for b in range(blocks)]],
        y=y,
    )


def induced(graph: MultimodalGraph, keep: torch.Tensor) -> MultimodalGraph:
    edge_index, _ = subgraph(keep, graph.edge_index, relabel_nodes=True, num_nodes=graph.num_nodes)
    return MultimodalGraph(
        edge_index,
        numeric=graph.numeric[keep],
        categorical=graph.categorical[keep],
        categorical_vocabs=graph.categorical_vocabs,
        y=graph.y[keep],
    )
