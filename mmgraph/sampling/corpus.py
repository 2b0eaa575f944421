r"""Walk corpora of skip-gram: windows, pairs, and batches of walks with their negatives.

As in PyG's ``Node2Vec``, a walk of :math:`L` nodes holds the :math:`W = L - C + 1` windows
``walk[j : j + C]`` of ``context_size`` :math:`C` nodes; the first node of a window is its
center and the other :math:`C - 1` its context (:func:`window_pairs`). Pairs with a ``-1``
(the padding after a walk's dead end) are dropped.

:class:`WalkSampler` draws walks from given start nodes (:class:`~mmgraph.sampling.RandomWalker`)
and negatives for each of their windows (:class:`~mmgraph.sampling.NegativeSampler`): the
negatives are drawn once per window and shared by its :math:`C - 1` pairs, whose expected
loss is that of drawing them per pair, at :math:`1/(C - 1)` of the cost.
:class:`WalkLoader` yields one epoch of such :class:`WalkBatch` es for the
:class:`~mmgraph.train.Trainer`. The losses are in :mod:`mmgraph.objectives.skipgram`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch
from torch import Tensor
from torch_geometric.data import Data

from mmgraph.sampling.checks import check_ids, check_int, check_num_negatives
from mmgraph.sampling.csr import CSRGraph
from mmgraph.sampling.negatives import NegativeSampler
from mmgraph.sampling.walks import RandomWalker
from mmgraph.seed import as_generator

if TYPE_CHECKING:
    from mmgraph.sampling.options import WalkOptions


def num_windows(walk_nodes: int, context_size: int) -> int:
    """Number of windows of ``context_size`` nodes in a walk of ``walk_nodes`` nodes."""
    return walk_nodes - context_size + 1


def window_index(walk_nodes: int, context_size: int) -> tuple[Tensor, Tensor]:
    """Positions (center, context) ``[W, C - 1]`` of every window's pairs."""
    check_int(context_size, "context_size", 2)
    w = num_windows(walk_nodes, context_size)
    if w < 1:
        raise ValueError(
            f"Expected walks of at least 'context_size' = {context_size} nodes (got walks of "
            f"{walk_nodes} nodes): raise 'walk_length' or lower 'context_size'"
        )
    center = torch.arange(w).unsqueeze(1).expand(w, context_size - 1)
    return center, center + torch.arange(1, context_size)


def window_pairs(walks: Tensor, context_size: int) -> Tensor:
    """The (center, context) pairs of the windows of ``walks``, without padding.

    Args:
        walks (torch.Tensor): Walks ``[B, L]`` of token ids, ``-1`` after a dead end.
        context_size (int): Nodes per window (the center and ``context_size - 1`` context
            nodes), at least 2 and at most ``L``.

    Returns:
        torch.Tensor: Pairs ``[2, P]`` (center ids, context ids), walk by walk, window by
        window.

    Shapes:
        B walks of L nodes; P pairs, at most ``B * (L - C + 1) * (C - 1)``.
    """
    walks = check_ids(walks, "walks", 2)
    center, context = window_index(walks.size(1), context_size)
    pairs = torch.stack([walks[:, center].reshape(-1), walks[:, context].reshape(-1)])
    return pairs[:, (pairs >= 0).all(0)]


class WalkBatch(Data):
    """A batch of walks and their windows' negatives (a PyG ``Data``, so the trainer takes it).

    Attributes:
        walks (torch.Tensor): Walks ``[B, L]`` of node ids, ``-1`` for padding.
        negatives (torch.Tensor): Negative node ids of each window ``[B, W, K]``.
    """

    walks: Tensor
    negatives: Tensor

    def __init__(self, walks: Tensor | None = None, negatives: Tensor | None = None) -> None:
        super().__init__(walks=walks, negatives=negatives)


class WalkSampler:
    """Walks from given start nodes and negatives for each of their windows.

    Args:
        csr (CSRGraph): The graph, built ``by="source"``.
        walk_length (int): Steps per walk (walks hold ``walk_length + 1`` nodes).
        context_size (int): Nodes per window, at most ``walk_length + 1``.
        walks_per_node (int, optional): Walks from each start node. (default: :obj:`1`)
        num_negatives (int, optional): Negatives per window (and so per pair).
            (default: :obj:`1`)
        p (float, optional): node2vec return parameter. (default: :obj:`1.0`)
        q (float, optional): node2vec in-out parameter. (default: :obj:`1.0`)
        negative_distribution (str, optional): ``"uniform"`` or ``"unigram"`` (degree^0.75).
            (default: :obj:`"uniform"`)
        weighted (bool, optional): Follow edge weights where the graph has them.
            (default: :obj:`True`)
        seed (int, optional): Seed of walks and negatives. (default: :obj:`None`)
        generator (torch.Generator, optional): Generator to draw from instead of ``seed``.
            (default: :obj:`None`)
    """

    def __init__(
        self,
        csr: CSRGraph,
        walk_length: int,
        context_size: int,
        walks_per_node: int = 1,
        num_negatives: int = 1,
        p: float = 1.0,
        q: float = 1.0,
        negative_distribution: str = "uniform",
        weighted: bool = True,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        gen = as_generator(seed, generator)
        self.walker = RandomWalker(csr, walk_length, walks_per_node, p, q, weighted, seed=0)
        self.walker.generator = gen  # one stream for walks and negatives
        window_index(walk_length + 1, context_size)  # validates context_size
        self.context_size = context_size
        self.num_negatives = check_num_negatives(num_negatives)
        self.negatives = NegativeSampler.from_graph(
            csr, negative_distribution, weighted=weighted, generator=gen
        )

    @classmethod
    def from_options(
        cls,
        csr: CSRGraph,
        options: WalkOptions,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> WalkSampler:
        """The sampler of the walks described by ``options`` (a :class:`WalkOptions`)."""
        # The fields of WalkOptions are the sampler's arguments, by name.
        return cls(csr, **options.to_dict(), seed=seed, generator=generator)

    @property
    def csr(self) -> CSRGraph:
        """The graph walked on."""
        return self.walker.csr

    @property
    def generator(self) -> torch.Generator:
        """The generator of walks and negatives."""
        return self.walker.generator

    def sample(self, start: Tensor) -> WalkBatch:
        """Walks ``[walks_per_node * B, L]`` from ``start`` ``[B]`` and their negatives."""
        walks = self.walker.walk(start)
        w = num_windows(walks.size(1), self.context_size)
        negatives = self.negatives.sample(walks.size(0), w, self.num_negatives)
        return WalkBatch(walks, negatives)

    def __repr__(self) -> str:
        walker = repr(self.walker)[len("RandomWalker(") : -1]
        return (
            f"{type(self).__name__}({walker}, context_size={self.context_size}, "
            f"num_negatives={self.num_negatives}, "
            f"negative_distribution={self.negatives.distribution!r})"
        )


class WalkLoader:
    """Batches of walks over all (or the given) start nodes, reshuffled every epoch.

    Iterating yields one epoch of :class:`WalkBatch`: the start nodes in a random order, in
    batches of ``batch_size``, each walked ``walks_per_node`` times. Epochs continue one
    random stream, so they differ but a run is reproducible.

    Args:
        sampler (WalkSampler): Draws the walks and negatives.
        batch_size (int, optional): Start nodes per batch (as PyG's ``Node2Vec.loader``).
            (default: :obj:`128`)
        start (torch.Tensor, optional): Start nodes; :obj:`None` for all nodes.
            (default: :obj:`None`)
    """

    def __init__(
        self, sampler: WalkSampler, batch_size: int = 128, start: Tensor | None = None
    ) -> None:
        self.sampler = sampler
        self.batch_size = check_int(batch_size, "batch_size", 1)
        n = sampler.csr.num_nodes
        self.start = torch.arange(n) if start is None else check_ids(start, "start", 1)

    def __len__(self) -> int:
        return math.ceil(self.start.numel() / self.batch_size)

    def __iter__(self) -> Iterator[WalkBatch]:
        perm = torch.randperm(self.start.numel(), generator=self.sampler.generator)
        order = self.start.index_select(0, perm)
        for batch in order.split(self.batch_size):
            yield self.sampler.sample(batch)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.sampler!r}, batch_size={self.batch_size})"
