r"""Unsupervised subgraph embeddings in the spirit of Sub2Vec (Adhikari et al., PAKDD 2018).

`"Sub2Vec: Feature Learning for Subgraphs" <https://arxiv.org/abs/1702.06921>`_ treats a
subgraph as a document and random walks inside it as its sentences, and learns one vector
per subgraph with paragraph vectors (Le & Mikolov 2014):

* **walks** start at every node of a subgraph and only follow edges between its nodes
  (:class:`SubgraphCorpus`, reusing :class:`~mmgraph.sampling.RandomWalker` on the
  disjoint union of the induced subgraphs); a walk that reaches a node without such an
  edge stops (``-1`` after it);
* **tokens** are the walk's node ids (Sub2Vec's "neighbourhood" variant: which part of the
  graph the subgraph covers) or the nodes' degrees inside the subgraph, clipped (its
  "structural" variant: how the subgraph is wired);
* **PV-DBOW** (``mode="dbow"``): the subgraph vector :math:`\mathbf{d}_S` predicts every
  token :math:`t` of its walks, with negative sampling (the skip-gram loss of
  :func:`mmgraph.objectives.skipgram.skipgram_loss`, negatives from
  :class:`~mmgraph.sampling.NegativeSampler`, unigram^0.75 over the corpus);
* **PV-DM** (``mode="dm"``): the mean of :math:`\mathbf{d}_S` and the word vectors of a
  window's context tokens predicts the window's first token
  (:func:`~mmgraph.sampling.window_pairs` windows).

The estimator :class:`Sub2Vec` (an :class:`~mmgraph.embedding.Estimator`, as
:class:`~mmgraph.embedding.Node2Vec`) puts the pieces together: the corpus
(:class:`SubgraphCorpus`) and its loader, the tables (:class:`Sub2VecEmbedding`) and the
loss (:class:`Sub2VecObjective`). It trains in :class:`~mmgraph.train.Trainer` with a
:class:`Sub2VecLoader` (fresh walks every epoch), and its ``get_embedding()`` returns the
subgraph vectors :math:`(S, D)`, to be read by a linear probe or clustered.

All of it lives here, in the subgraph layer, rather than in :mod:`mmgraph.embedding` and
:mod:`mmgraph.sampling`: the corpus walks the disjoint union of the induced subgraphs, built
by :func:`~mmgraph.subgraph.khop_neighborhoods` of this package, which those lower layers
may not import.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.embedding.estimator import Estimator
from mmgraph.embedding.skipgram import embedding_table
from mmgraph.objectives.skipgram import skipgram_loss
from mmgraph.sampling.checks import check_choice, check_num_negatives
from mmgraph.sampling.csr import CSRGraph
from mmgraph.sampling.negatives import NegativeSampler
from mmgraph.sampling.walks import RandomWalker
from mmgraph.seed import as_generator
from mmgraph.subgraph._checks import check_positive
from mmgraph.subgraph.batch import make_subgraph_batch
from mmgraph.subgraph.neighborhood import khop_neighborhoods

SUB2VEC_TOKENS: tuple[str, ...] = ("node", "degree")
"""Token kinds of :class:`SubgraphCorpus`: node ids, or degrees inside the subgraph."""

SUB2VEC_MODES: tuple[str, ...] = ("dbow", "dm")
"""Paragraph-vector variants of :class:`Sub2VecEmbedding`."""


class Sub2VecBatch(Data):
    """Walks inside subgraphs, as tokens, with their subgraphs and negatives.

    Attributes:
        walks (torch.Tensor): Token ids ``[B, L]``, ``-1`` after a dead end.
        walk_subgraph (torch.Tensor): The subgraph of each walk ``[B]``.
        negatives (torch.Tensor): Negative tokens ``[B, L, K]`` (one set per position).
    """

    def __init__(
        self,
        walks: Tensor | None = None,
        walk_subgraph: Tensor | None = None,
        negatives: Tensor | None = None,
    ) -> None:
        super().__init__(walks=walks, walk_subgraph=walk_subgraph, negatives=negatives)


class SubgraphCorpus:
    """Random walks restricted to each subgraph of a data set, read as token sequences.

    Args:
        dataset (SubgraphDataset): The subgraphs.
        tokens (str, optional): ``"node"`` (base node ids) or ``"degree"`` (degree inside
            the subgraph, clipped at ``max_degree``). (default: ``"node"``)
        walk_length (int, optional): Steps per walk. (default: :obj:`20`)
        walks_per_node (int, optional): Walks from each node of each subgraph.
            (default: :obj:`1`)
        num_negatives (int, optional): Negative tokens per position. (default: :obj:`5`)
        max_degree (int, optional): Largest degree token (``"degree"``). (default: :obj:`32`)
        seed (int, optional): Seed of walks and negatives. (default: :obj:`None`)

    Shapes:
        S subgraphs with R nodes in all (a node of two subgraphs counts twice), V tokens.
    """

    def __init__(
        self,
        dataset: SubgraphDataset,
        tokens: str = "node",
        walk_length: int = 20,
        walks_per_node: int = 1,
        num_negatives: int = 5,
        max_degree: int = 32,
        seed: int | None = None,
    ) -> None:
        if not isinstance(dataset, SubgraphDataset):
            raise TypeError(f"Expected a SubgraphDataset (got {type(dataset).__name__!r})")
        self.dataset = dataset
        self.tokens = check_choice(tokens, SUB2VEC_TOKENS, "token kind")
        self.walk_length = check_positive(walk_length, "walk_length")
        self.walks_per_node = check_positive(walks_per_node, "walks_per_node")
        self.num_negatives = check_num_negatives(num_negatives)
        self.max_degree = check_positive(max_degree, "max_degree")
        self.generator = as_generator(seed)
        graph = dataset.graph
        n = int(graph.num_nodes)
        base = CSRGraph.from_edge_index(graph.edge_index, n, by="target")
        nodes, group = dataset.subgraph_index()
        hood = khop_neighborhoods(base, nodes, group, 0, edges="induced")
        rows = hood.num_rows
        # The disjoint union of the induced subgraphs: walks cannot leave a subgraph.
        self.csr = CSRGraph.from_edge_index(hood.edge_index, rows, by="source")
        self.row_subgraph = hood.group
        degree = self.csr.degree
        if tokens == "node":
            self.row_token = hood.n_id
            self.num_tokens = n
        else:
            self.row_token = degree.clamp(max=max_degree)
            self.num_tokens = max_degree + 1
        self.walker = RandomWalker(self.csr, self.walk_length, self.walks_per_node, seed=0)
        self.walker.generator = self.generator  # one stream for walks and negatives
        # Unigram^0.75 negatives over how often tokens occur in the corpus (a walk visits a
        # node about in proportion to its degree, plus once as a start).
        counts = torch.zeros(self.num_tokens, dtype=torch.float64)
        counts.index_add_(0, self.row_token, (degree + 1).double())
        self.negatives = NegativeSampler(
            self.num_tokens, "unigram", counts, generator=self.generator
        )

    @property
    def num_rows(self) -> int:
        """Number of (subgraph, node) rows walks start from."""
        return int(self.row_subgraph.numel())

    def sample(self, start: Tensor) -> Sub2VecBatch:
        """Walks from the rows ``start`` ``[B]`` (``walks_per_node`` each), as tokens."""
        walks = self.walker.walk(start)
        valid = walks >= 0
        tokens = torch.where(
            valid, self.row_token.index_select(0, walks.clamp(min=0).view(-1)).view(walks.shape), -1
        )
        subgraph = self.row_subgraph.index_select(0, walks[:, 0])
        negatives = self.negatives.sample(walks.size(0), walks.size(1), self.num_negatives)
        return Sub2VecBatch(tokens, subgraph, negatives)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_subgraphs={len(self.dataset)}, tokens={self.tokens!r}, "
            f"num_tokens={self.num_tokens}, walk_length={self.walk_length}, "
            f"walks_per_node={self.walks_per_node}, num_negatives={self.num_negatives})"
        )


class Sub2VecLoader:
    """One epoch of :class:`Sub2VecBatch`: walks from every row, shuffled, fresh each epoch.

    Args:
        corpus (SubgraphCorpus): The corpus to draw walks from.
        batch_size (int, optional): Start rows per batch. (default: :obj:`256`)
    """

    def __init__(self, corpus: SubgraphCorpus, batch_size: int = 256) -> None:
        self.corpus = corpus
        self.batch_size = check_positive(batch_size, "batch_size")

    def __len__(self) -> int:
        return math.ceil(self.corpus.num_rows / self.batch_size)

    def __iter__(self) -> Iterator[Sub2VecBatch]:
        order = torch.randperm(self.corpus.num_rows, generator=self.corpus.generator)
        for start in order.split(self.batch_size):
            yield self.corpus.sample(start)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.corpus!r}, batch_size={self.batch_size})"


class Sub2VecEmbedding(nn.Module):
    r"""Paragraph vectors of subgraphs (`Sub2Vec <https://arxiv.org/abs/1702.06921>`_).

    Subgraph :math:`S` has a vector :math:`\mathbf{d}_S` (:meth:`encode`), token :math:`t`
    an output vector :math:`\mathbf{v}_t` and, for PV-DM, a word vector :math:`\mathbf{w}_t`.
    PV-DBOW scores :math:`\mathbf{d}_S^\top \mathbf{v}_t` for the tokens of :math:`S`'s
    walks; PV-DM scores :math:`\mathbf{h}^\top \mathbf{v}_t` with
    :math:`\mathbf{h} = \operatorname{mean}(\mathbf{d}_S, \mathbf{w}_{c_1}, \dots,
    \mathbf{w}_{c_{C-1}})` over a window's context tokens. Subgraph and word vectors start
    uniform in :math:`\pm 0.5 / D`, output vectors at 0 (word2vec's initialisation).

    Args:
        num_subgraphs (int): Number of subgraphs :math:`S`.
        num_tokens (int): Number of tokens :math:`V`.
        embedding_dim (int, optional): Size :math:`D`. (default: :obj:`128`)
        mode (str, optional): ``"dbow"`` or ``"dm"``. (default: ``"dbow"``)
        sparse (bool, optional): Sparse gradients (for ``SparseAdam``). (default: :obj:`True`)
        seed (int, optional): Seed of the initialisation. (default: :obj:`0`)

    Shapes:
        - **input:** a :class:`Sub2VecBatch` (through :class:`Sub2VecObjective`)
        - **output:** :meth:`encode`: :math:`(S, D)`
    """

    def __init__(
        self,
        num_subgraphs: int,
        num_tokens: int,
        embedding_dim: int = 128,
        mode: str = "dbow",
        sparse: bool = True,
        seed: int | None = 0,
    ) -> None:
        super().__init__()
        self.num_subgraphs = check_positive(num_subgraphs, "num_subgraphs")
        self.num_tokens = check_positive(num_tokens, "num_tokens")
        self.embedding_dim = check_positive(embedding_dim, "embedding_dim")
        self.mode = check_choice(mode, SUB2VEC_MODES, "Sub2Vec mode")
        self.sparse = sparse
        self.seed = seed
        self.subgraph = embedding_table(num_subgraphs, embedding_dim, sparse)
        self.output = embedding_table(num_tokens, embedding_dim, sparse)
        self.word = embedding_table(num_tokens, embedding_dim, sparse) if mode == "dm" else None
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Re-draw the tables (from ``generator``, else from the ``seed`` given at init)."""
        gen = generator if generator is not None else as_generator(self.seed)
        bound = 0.5 / self.embedding_dim
        with torch.no_grad():
            self.subgraph.weight.uniform_(-bound, bound, generator=gen)
            self.output.weight.zero_()
            if self.word is not None:
                self.word.weight.uniform_(-bound, bound, generator=gen)

    def encode(self, batch: Data | None = None) -> Tensor:
        """The subgraph vectors ``[S, D]`` (``batch`` is ignored)."""
        return self.subgraph.weight

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.num_subgraphs}, {self.num_tokens}, "
            f"embedding_dim={self.embedding_dim}, mode={self.mode!r})"
        )


class Sub2VecObjective:
    """The paragraph-vector loss of a :class:`Sub2VecEmbedding` on a :class:`Sub2VecBatch`.

    Args:
        context_size (int, optional): Tokens per PV-DM window (the predicted token and
            ``context_size - 1`` context tokens); unused by PV-DBOW. (default: :obj:`5`)
    """

    name = "sub2vec"

    def __init__(self, context_size: int = 5) -> None:
        self.context_size = check_positive(context_size, "context_size", minimum=2)

    def input_nodes(self, graph: Data) -> None:
        """Walks start from every row of the corpus."""
        return None

    def __call__(self, model: nn.Module, batch: Data) -> Tensor:
        """The mean skip-gram loss of the batch's (subgraph or window, token) pairs."""
        if not isinstance(model, Sub2VecEmbedding):
            raise TypeError(
                f"Expected a Sub2VecEmbedding model (got {type(model).__name__!r}); train "
                "subgraph vectors with the `Sub2Vec` estimator"
            )
        walks, negatives, subgraph = batch.walks, batch.negatives, batch.walk_subgraph
        if model.mode == "dbow":
            valid = walks >= 0
            walk_id = valid.nonzero()[:, 0]
            pos = valid.nonzero()[:, 1]
            center = model.subgraph(subgraph.index_select(0, walk_id))
            context = model.output(walks[valid])
            neg = model.output(negatives[walk_id, pos])
            return skipgram_loss(center, context, neg)
        c = self.context_size
        length = walks.size(1)
        if length < c:
            raise ValueError(
                f"Expected walks of at least 'context_size' = {c} tokens (got {length}): raise "
                "'walk_length' or lower 'context_size'"
            )
        # Window j: predict token j from the subgraph and tokens j+1 .. j+c-1.
        starts = torch.arange(length - c + 1)
        window = walks[:, starts.unsqueeze(1) + torch.arange(c)]  # [B, W, C]
        target = window[..., 0]
        ctx = window[..., 1:]
        ok = target >= 0
        b_id, w_id = ok.nonzero(as_tuple=True)
        ctx = ctx[b_id, w_id]  # [P, C - 1]
        ctx_valid = (ctx >= 0).unsqueeze(-1).to(model.subgraph.weight.dtype)
        assert model.word is not None  # built for mode "dm"
        words = model.word(ctx.clamp(min=0)) * ctx_valid
        total = model.subgraph(subgraph.index_select(0, b_id)) + words.sum(1)
        h = total / (1.0 + ctx_valid.sum(1))
        context = model.output(target[b_id, w_id])
        neg = model.output(negatives[b_id, w_id])
        return skipgram_loss(h, context, neg)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(context_size={self.context_size})"


class Sub2Vec(Estimator):
    r"""Sub2Vec: one vector per subgraph, learnt by paragraph vectors over walks inside it.

    `"Sub2Vec: Feature Learning for Subgraphs" <https://arxiv.org/abs/1702.06921>`_ treats a
    subgraph as a document and random walks inside it as its sentences: walks start
    ``walks_per_node`` times at every node of every subgraph and only follow edges between
    its nodes (:class:`SubgraphCorpus`); their tokens are node ids
    (``tokens="node"``, what part of the graph the subgraph covers) or degrees inside the
    subgraph (``"degree"``, how it is wired). The subgraph vector :math:`\mathbf{d}_S`
    predicts every token of its walks (PV-DBOW, ``mode="dbow"``) or, averaged with the
    context tokens' vectors, each window's first token (PV-DM, ``"dm"``), with negative
    sampling (:class:`Sub2VecObjective`):

    .. math::
        \ell(S, t) = -\log \sigma(\mathbf{d}_S^\top \mathbf{v}_t)
        - \sum_{k=1}^{K} \log \sigma(-\mathbf{d}_S^\top \mathbf{v}_{n_k})

    Training runs in :class:`~mmgraph.train.Trainer` with sparse tables
    (:class:`Sub2VecEmbedding`) and SparseAdam's updates
    (:class:`~mmgraph.train.sparse_adam.RowSparseAdam`);
    each epoch walks again from every (subgraph, node) row, in batches of ``batch_size``.

    Hyperparameters go to ``__init__`` (see :class:`~mmgraph.embedding.Estimator`);
    :meth:`fit` trains and returns ``self``; :meth:`get_embedding` returns the subgraph
    vectors.

    Args:
        embedding_dim (int, optional): Size of the subgraph vectors. (default: :obj:`128`)
        tokens (str, optional): ``"node"`` or ``"degree"``. (default: ``"node"``)
        mode (str, optional): ``"dbow"`` or ``"dm"``. (default: ``"dbow"``)
        walk_length (int, optional): Steps per walk. (default: :obj:`20`)
        walks_per_node (int, optional): Walks from each node of each subgraph per epoch.
            (default: :obj:`1`)
        context_size (int, optional): Tokens per PV-DM window. (default: :obj:`5`)
        num_negatives (int, optional): Negative tokens per token. (default: :obj:`5`)
        max_degree (int, optional): Largest degree token (``"degree"``). (default: :obj:`32`)
        epochs, batch_size, lr, progress, seed, trainer_options: Training, as for every
            :class:`~mmgraph.embedding.Estimator`; a batch holds the walks from
            ``batch_size`` (subgraph, node) rows. (defaults: :obj:`10`, :obj:`256`,
            :obj:`0.01`, :obj:`False`, :obj:`0`, :obj:`None`)

    Shapes:
        S subgraphs; :meth:`get_embedding` returns :math:`(S, \text{embedding\_dim})`.

    Example:
        >>> emb = Sub2Vec(embedding_dim=32, tokens="degree", seed=0).fit(dataset).get_embedding()
    """

    tokens: str
    mode: str
    walk_length: int
    walks_per_node: int
    context_size: int
    num_negatives: int
    max_degree: int

    fit_argument = "dataset"
    repr_params = ("embedding_dim", "tokens", "mode", "walk_length", "walks_per_node", "epochs")

    def __init__(
        self,
        embedding_dim: int = 128,
        tokens: str = "node",
        mode: str = "dbow",
        walk_length: int = 20,
        walks_per_node: int = 1,
        context_size: int = 5,
        num_negatives: int = 5,
        max_degree: int = 32,
        epochs: int = 10,
        batch_size: int = 256,
        lr: float = 0.01,
        progress: bool = False,
        seed: int = 0,
        trainer_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(locals())
        check_choice(tokens, SUB2VEC_TOKENS, "token kind")
        check_choice(mode, SUB2VEC_MODES, "Sub2Vec mode")

    def fit(self, dataset: SubgraphDataset) -> Sub2Vec:
        """Learn one vector per subgraph of ``dataset``; returns ``self``.

        Args:
            dataset (SubgraphDataset): The subgraphs and their base graph (labels unused).
        """
        corpus = SubgraphCorpus(
            dataset,
            tokens=self.tokens,
            walk_length=self.walk_length,
            walks_per_node=self.walks_per_node,
            num_negatives=self.num_negatives,
            max_degree=self.max_degree,
            seed=self.seed,
        )
        model = Sub2VecEmbedding(
            len(dataset), corpus.num_tokens, self.embedding_dim, mode=self.mode, seed=self.seed
        )
        self._train(
            model,
            make_subgraph_batch(dataset),
            Sub2VecObjective(self.context_size),
            Sub2VecLoader(corpus, self.batch_size),
        )
        return self
