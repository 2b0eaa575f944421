"""Random walks (DeepWalk, node2vec), walk corpora, negatives and neighbour sampling."""

from __future__ import annotations

from mmgraph.sampling.corpus import WalkBatch, WalkLoader, WalkSampler, window_pairs
from mmgraph.sampling.csr import CSRGraph
from mmgraph.sampling.loader import NeighborLoader, select_subgraph
from mmgraph.sampling.negatives import NEGATIVE_DISTRIBUTIONS, NegativeSampler
from mmgraph.sampling.neighbor import NeighborSampler, SampledSubgraph
from mmgraph.sampling.options import GNN_WALKS, SHALLOW_WALKS, WalkOptions
from mmgraph.sampling.walks import RandomWalker, random_walk

__all__ = [
    "CSRGraph",
    "GNN_WALKS",
    "NEGATIVE_DISTRIBUTIONS",
    "NegativeSampler",
    "NeighborLoader",
    "NeighborSampler",
    "RandomWalker",
    "SHALLOW_WALKS",
    "SampledSubgraph",
    "WalkBatch",
    "WalkLoader",
    "WalkOptions",
    "WalkSampler",
    "random_walk",
    "select_subgraph",
    "window_pairs",
]
