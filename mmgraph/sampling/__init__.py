"""Random walks (DeepWalk, node2vec) and neighbour sampling on CSR graphs, in plain PyTorch."""

from __future__ import annotations

from mmgraph.sampling.csr import CSRGraph
from mmgraph.sampling.loader import NeighborLoader, select_subgraph
from mmgraph.sampling.neighbor import NeighborSampler, SampledSubgraph
from mmgraph.sampling.walks import RandomWalker, random_walk

__all__ = [
    "CSRGraph",
    "NeighborLoader",
    "NeighborSampler",
    "RandomWalker",
    "SampledSubgraph",
    "random_walk",
    "select_subgraph",
]
