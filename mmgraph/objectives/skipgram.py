r"""Skip-gram with negative sampling (SGNS) over the windows of random walks.

`"Distributed Representations of Words and Phrases and their Compositionality"
<https://arxiv.org/abs/1310.4546>`_ (word2vec), applied to walks by DeepWalk and node2vec.
A node :math:`c` and each node :math:`o` of its context should score high, and :math:`K`
sampled "negative" nodes :math:`n_k` low:

.. math::
    \ell(c, o) = -\log \sigma(\mathbf{u}_c^\top \mathbf{v}_o)
    - \sum_{k=1}^{K} \log \sigma(-\mathbf{u}_c^\top \mathbf{v}_{n_k})

averaged over all (center, context) pairs. :math:`\mathbf{u}` are center embeddings and
:math:`\mathbf{v}` context embeddings (the same table for a GNN encoder, two tables for a
shallow word2vec-style model).

**Windows.** As in PyG's ``Node2Vec``, a walk of :math:`L` nodes holds the
:math:`W = L - C + 1` windows ``walk[j : j + C]`` of ``context_size`` :math:`C` nodes; the
first node of a window is its center and the other :math:`C - 1` its context. Pairs with a
``-1`` (the padding after a walk's dead end) are dropped.

**Negatives** are drawn once per window and shared by its :math:`C - 1` pairs: the expected
loss is that of drawing them per pair, at :math:`1/(C - 1)` of the cost. They come from the
uniform distribution over nodes or from the unigram distribution raised to the power 0.75
(word2vec's choice), the unigram counts being the node degrees (on an undirected connected
graph a uniform walk visits a node in proportion to its degree), counts of the nodes in
sampled walks (:meth:`NegativeSampler.from_walks`), or any counts given.

The pieces are separate so that other token sequences reuse them (e.g. Sub2Vec's walks
over subgraph and node tokens): :func:`window_pairs`, :func:`skipgram_loss`,
:class:`NegativeSampler`, :func:`walk_skipgram_loss` (the vectorised loss over a batch of
walks), :class:`WalkLoader` (batches of walks and negatives for the
:class:`~mmgraph.train.Trainer`) and :class:`SkipGramObjective` (the loss of a model with
center and context embedding tables).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.sampling.csr import CSRGraph
from mmgraph.sampling.walks import RandomWalker, resolve_generator

NEGATIVE_DISTRIBUTIONS: tuple[str, ...] = ("uniform", "unigram")
"""Distributions negatives are drawn from: uniform over nodes, or unigram^0.75."""


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"Expected '{name}' to be an int (got {type(value).__name__!r})")
    if value < minimum:
        raise ValueError(f"Expected '{name}' to be at least {minimum} (got {value})")
    return value


def _check_ids(value: Any, name: str, dim: int) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"Expected '{name}' to be a torch.Tensor (got {type(value).__name__!r})")
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"Expected '{name}' to be of integer type (got '{value.dtype}')")
    if value.dim() != dim:
        raise ValueError(f"Expected '{name}' to have {dim} dimensions (got {list(value.shape)})")
    return value.long()


def num_windows(walk_nodes: int, context_size: int) -> int:
    """Number of windows of ``context_size`` nodes in a walk of ``walk_nodes`` nodes."""
    return walk_nodes - context_size + 1


def _window_index(walk_nodes: int, context_size: int) -> tuple[Tensor, Tensor]:
    """Positions (center, context) ``[W, C - 1]`` of every window's pairs."""
    _check_int(context_size, "context_size", 2)
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
    walks = _check_ids(walks, "walks", 2)
    center, context = _window_index(walks.size(1), context_size)
    pairs = torch.stack([walks[:, center].reshape(-1), walks[:, context].reshape(-1)])
    return pairs[:, (pairs >= 0).all(0)]


def skipgram_loss(
    center: Tensor, context: Tensor, negatives: Tensor, weight: Tensor | None = None
) -> Tensor:
    r"""The skip-gram negative-sampling loss of embedded pairs.

    .. math::
        \mathcal{L} = \frac{1}{\sum_i w_i} \sum_{i=1}^{P} w_i \Big(
        -\log \sigma(\mathbf{u}_i^\top \mathbf{v}_i)
        - \sum_{k=1}^{K} \log \sigma(-\mathbf{u}_i^\top \mathbf{n}_{ik}) \Big)

    Args:
        center (torch.Tensor): Center embeddings :math:`\mathbf{u}` ``[P, D]``.
        context (torch.Tensor): Context embeddings :math:`\mathbf{v}` ``[P, D]``.
        negatives (torch.Tensor): Embeddings of each pair's negatives ``[P, K, D]``
            (``K`` may be 0).
        weight (torch.Tensor, optional): Weight of each pair ``[P]``; :obj:`None` weighs
            all pairs 1. (default: :obj:`None`)

    Returns:
        torch.Tensor: The scalar loss (0 for no pairs).

    Shapes:
        P pairs, K negatives per pair, D embedding dimensions.
    """
    if center.dim() != 2 or context.shape != center.shape:
        raise ValueError(
            "Expected 'center' and 'context' of the same shape [P, D] "
            f"(got {list(center.shape)} and {list(context.shape)})"
        )
    p, d = center.shape
    if negatives.dim() != 3 or negatives.size(0) != p or negatives.size(2) != d:
        raise ValueError(
            f"Expected 'negatives' to have shape [{p}, K, {d}] (got {list(negatives.shape)})"
        )
    if weight is not None and weight.shape != (p,):
        raise ValueError(f"Expected 'weight' to have shape [{p}] (got {list(weight.shape)})")
    pos = F.logsigmoid((center * context).sum(-1))
    neg = F.logsigmoid(-torch.einsum("pd,pkd->pk", center, negatives)).sum(-1)
    loss = -(pos + neg)
    if weight is None:
        return loss.mean() if p else loss.sum()
    total = weight.sum()
    return (loss * weight).sum() / total.clamp(min=torch.finfo(loss.dtype).tiny)


def walk_skipgram_loss(
    walks: Tensor,
    negatives: Tensor,
    center: Tensor,
    context: Tensor | None = None,
    context_size: int = 10,
) -> Tensor:
    r"""The skip-gram loss over all windows of a batch of walks, vectorised.

    Equals :func:`skipgram_loss` over the pairs of :func:`window_pairs`, each pair scored
    against the negatives of its window, but computes the scores of each walk's pairs in one
    batched matrix product instead of gathering them pair by pair.

    Args:
        walks (torch.Tensor): Walks ``[B, L]``: row indices into ``center`` (and
            ``context``), ``-1`` for padding.
        negatives (torch.Tensor): Negatives of each window ``[B, W, K]``, row indices into
            ``context``, with ``W = L - context_size + 1``.
        center (torch.Tensor): Center embeddings ``[N, D]``.
        context (torch.Tensor, optional): Context embeddings ``[N, D]``; :obj:`None` uses
            ``center`` (one table, as for a GNN encoder). (default: :obj:`None`)
        context_size (int, optional): Nodes per window. (default: :obj:`10`)

    Returns:
        torch.Tensor: The mean loss over the valid pairs (0 if there are none).

    Shapes:
        B walks of L nodes, W windows per walk, K negatives per window, N rows of D
        dimensions.
    """
    walks = _check_ids(walks, "walks", 2)
    negatives = _check_ids(negatives, "negatives", 3)
    b, length = walks.shape
    rows, cols = _window_index(length, context_size)
    w = rows.size(0)
    if negatives.shape[:2] != (b, w):
        raise ValueError(
            f"Expected 'negatives' to have shape [{b}, {w}, K] (one row per window) "
            f"(got {list(negatives.shape)})"
        )
    if center.dim() != 2:
        raise ValueError(f"Expected 'center' to have shape [N, D] (got {list(center.shape)})")
    if context is None:
        context = center
    elif context.shape != center.shape:
        raise ValueError(
            f"Expected 'context' to have the shape of 'center' {list(center.shape)} "
            f"(got {list(context.shape)})"
        )
    d = center.size(1)
    valid = walks >= 0
    index = walks.clamp(min=0)
    # Centers only where windows start; contexts everywhere (contiguous gathers).
    u = center.index_select(0, index[:, :w].reshape(-1)).view(b, w, d)
    v = context.index_select(0, index.view(-1)).view(b, length, d)
    # All center-context scores of each walk in one product, then the window pairs.
    scores = torch.bmm(u, v.transpose(1, 2)).view(b, w * length)
    flat = (torch.arange(w).unsqueeze(1) * length + cols).view(-1)
    pos = F.logsigmoid(scores.index_select(1, flat)).view(b, w, -1)
    pair_valid = (valid[:, rows] & valid[:, cols]).to(u.dtype)  # [B, W, C - 1]
    n_pairs = pair_valid.sum()
    k = negatives.size(2)
    neg_emb = context.index_select(0, negatives.view(-1)).view(b, w, k, d)
    neg_scores = (neg_emb * u.unsqueeze(2)).sum(-1)  # [B, W, K]
    neg = F.logsigmoid(-neg_scores).sum(-1)  # [B, W]
    total = (pos * pair_valid).sum() + (neg * pair_valid.sum(-1)).sum()
    return -total / n_pairs.clamp(min=1.0)


class NegativeSampler:
    r"""Draws negative nodes uniformly or from the unigram distribution to the power 0.75.

    .. math::
        P(n) \propto \text{count}(n)^{\beta}

    with :math:`\beta` = ``power`` for ``"unigram"``; every node is equally likely for
    ``"uniform"``.

    Args:
        num_nodes (int): Number of nodes (tokens) :math:`N`.
        distribution (str, optional): ``"uniform"`` or ``"unigram"``.
            (default: :obj:`"uniform"`)
        counts (torch.Tensor, optional): Unigram count of each node ``[N]``, non-negative,
            needed for ``"unigram"`` (see :meth:`from_graph` and :meth:`from_walks`).
            (default: :obj:`None`)
        power (float, optional): Exponent :math:`\beta` of the counts. (default: :obj:`0.75`)
        seed (int, optional): Seed of the draws. (default: :obj:`None`)
        generator (torch.Generator, optional): Generator to draw from instead of ``seed``.
            (default: :obj:`None`)
    """

    def __init__(
        self,
        num_nodes: int,
        distribution: str = "uniform",
        counts: Tensor | None = None,
        power: float = 0.75,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        self.num_nodes = _check_int(num_nodes, "num_nodes", 1)
        if distribution not in NEGATIVE_DISTRIBUTIONS:
            raise ValueError(
                f"Unknown negative distribution {distribution!r}; expected one of "
                f"{list(NEGATIVE_DISTRIBUTIONS)}"
            )
        self.distribution = distribution
        self.power = float(power)
        self.generator = resolve_generator(seed, generator)
        self.cdf: Tensor | None = None
        if distribution == "unigram":
            if counts is None:
                raise ValueError(
                    "The 'unigram' distribution needs 'counts' (use "
                    "`NegativeSampler.from_graph` or `NegativeSampler.from_walks`)"
                )
            if not isinstance(counts, Tensor) or counts.shape != (num_nodes,):
                shape = list(counts.shape) if isinstance(counts, Tensor) else type(counts).__name__
                raise ValueError(f"Expected 'counts' to have shape [{num_nodes}] (got {shape})")
            if not math.isfinite(self.power) or self.power < 0:
                raise ValueError(f"Expected 'power' to be finite and >= 0 (got {power})")
            counts = counts.double()
            if not bool(torch.isfinite(counts).all()) or bool((counts < 0).any()):
                raise ValueError("Expected 'counts' to be finite and non-negative")
            weights = torch.where(counts > 0, counts.pow(self.power), 0.0)
            if not float(weights.sum()) > 0:
                raise ValueError(
                    "All unigram counts are 0 (a graph without edges?): use the 'uniform' "
                    "distribution"
                )
            cdf = torch.cumsum(weights, 0)
            self.cdf = cdf / cdf[-1]

    @classmethod
    def from_graph(
        cls,
        graph: Data | CSRGraph,
        distribution: str = "unigram",
        power: float = 0.75,
        weighted: bool = True,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> NegativeSampler:
        """A sampler whose unigram counts are the node degrees.

        The degree is the out-degree, or the summed out-edge weights when ``weighted`` and
        the graph has weights.
        """
        csr = graph if isinstance(graph, CSRGraph) else CSRGraph.from_graph(graph)
        counts: Tensor | None = None
        if distribution == "unigram":
            if weighted and csr.edge_weight is not None:
                counts = torch.zeros(csr.num_nodes, dtype=torch.float64)
                counts.index_add_(0, csr.row, csr.edge_weight.double())
            else:
                counts = csr.degree
        return cls(csr.num_nodes, distribution, counts, power, seed, generator)

    @classmethod
    def from_walks(
        cls,
        walks: Tensor,
        num_nodes: int,
        power: float = 0.75,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> NegativeSampler:
        """A unigram sampler whose counts are how often each node occurs in ``walks``."""
        walks = _check_ids(walks, "walks", 2)
        ids = walks[walks >= 0]
        if ids.numel() and int(ids.max()) >= num_nodes:
            raise ValueError(f"Found node id {int(ids.max())} but 'num_nodes' is {num_nodes}")
        counts = torch.bincount(ids, minlength=num_nodes)
        return cls(num_nodes, "unigram", counts, power, seed, generator)

    @property
    def probs(self) -> Tensor:
        """The probability of each node ``[N]`` (float64)."""
        if self.cdf is None:
            return torch.full((self.num_nodes,), 1.0 / self.num_nodes, dtype=torch.float64)
        return torch.diff(self.cdf, prepend=self.cdf.new_zeros(1))

    def sample(self, *shape: int) -> Tensor:
        """Draw node ids of the given shape (int64)."""
        if self.cdf is None:
            return torch.randint(self.num_nodes, shape, generator=self.generator)
        r = torch.rand(shape, dtype=torch.float64, generator=self.generator)
        return torch.searchsorted(self.cdf, r, right=True).clamp_(max=self.num_nodes - 1)

    def __repr__(self) -> str:
        power = f", power={self.power:g}" if self.cdf is not None else ""
        return (
            f"{type(self).__name__}(num_nodes={self.num_nodes}, "
            f"distribution={self.distribution!r}{power})"
        )


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
        gen = resolve_generator(seed, generator)
        self.walker = RandomWalker(csr, walk_length, walks_per_node, p, q, weighted, seed=0)
        self.walker.generator = gen  # one stream for walks and negatives
        _window_index(walk_length + 1, context_size)  # validates context_size
        self.context_size = context_size
        self.num_negatives = _check_int(num_negatives, "num_negatives", 0)
        self.negatives = NegativeSampler.from_graph(
            csr, negative_distribution, weighted=weighted, generator=gen
        )

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
        self.batch_size = _check_int(batch_size, "batch_size", 1)
        n = sampler.csr.num_nodes
        self.start = torch.arange(n) if start is None else _check_ids(start, "start", 1)

    def __len__(self) -> int:
        return math.ceil(self.start.numel() / self.batch_size)

    def __iter__(self) -> Iterator[WalkBatch]:
        perm = torch.randperm(self.start.numel(), generator=self.sampler.generator)
        order = self.start.index_select(0, perm)
        for batch in order.split(self.batch_size):
            yield self.sampler.sample(batch)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.sampler!r}, batch_size={self.batch_size})"


class SkipGramObjective:
    """The skip-gram loss of a model with center and context embedding tables.

    The model has ``center_embedding(ids) -> [n, D]`` and ``context_embedding(ids) ->
    [n, D]`` (e.g. :class:`~mmgraph.embedding.SkipGramEmbedding`); each batch is a
    :class:`WalkBatch`. Only the rows of the nodes in the batch are looked up, so sparse
    embedding tables get sparse gradients over those rows alone.

    Args:
        context_size (int): Nodes per window.
    """

    name = "skipgram"

    def __init__(self, context_size: int) -> None:
        self.context_size = _check_int(context_size, "context_size", 2)

    def input_nodes(self, graph: Data) -> None:
        """Every node starts walks."""
        return None

    def __call__(self, model: nn.Module, batch: Data) -> Tensor:
        """The loss on ``batch`` (a :class:`WalkBatch`)."""
        walks, negatives = batch.walks, batch.negatives
        ids, inverse = torch.unique(
            torch.cat([walks.view(-1), negatives.view(-1)]), return_inverse=True
        )
        padded = bool(ids.numel()) and int(ids[0]) < 0
        if padded:  # -1 sorts first: drop it, padding stays -1
            ids, inverse = ids[1:], inverse - 1
        local_walks = inverse[: walks.numel()].view(walks.shape)
        local_neg = inverse[walks.numel() :].view(negatives.shape)
        center = model.center_embedding(ids)  # type: ignore[operator]
        context = model.context_embedding(ids)  # type: ignore[operator]
        return walk_skipgram_loss(local_walks, local_neg, center, context, self.context_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(context_size={self.context_size})"
