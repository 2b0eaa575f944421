r"""The Sub2Vec estimator: unsupervised subgraph vectors from walks inside each subgraph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.embedding.estimator import Estimator
from mmgraph.resolver import check_positive_int
from mmgraph.sampling.checks import check_choice


class Sub2Vec(Estimator):
    r"""Sub2Vec: one vector per subgraph, learnt by paragraph vectors over walks inside it.

    `"Sub2Vec: Feature Learning for Subgraphs" <https://arxiv.org/abs/1702.06921>`_ treats a
    subgraph as a document and random walks inside it as its sentences: walks start
    ``walks_per_node`` times at every node of every subgraph and only follow edges between
    its nodes (:class:`~mmgraph.subgraph.sub2vec.SubgraphCorpus`); their tokens are node ids
    (``tokens="node"``, what part of the graph the subgraph covers) or degrees inside the
    subgraph (``"degree"``, how it is wired). The subgraph vector :math:`\mathbf{d}_S`
    predicts every token of its walks (PV-DBOW, ``mode="dbow"``) or, averaged with the
    context tokens' vectors, each window's first token (PV-DM, ``"dm"``), with negative
    sampling (:class:`~mmgraph.subgraph.sub2vec.Sub2VecObjective`):

    .. math::
        \ell(S, t) = -\log \sigma(\mathbf{d}_S^\top \mathbf{v}_t)
        - \sum_{k=1}^{K} \log \sigma(-\mathbf{d}_S^\top \mathbf{v}_{n_k})

    Training runs in :class:`~mmgraph.train.Trainer` with sparse tables
    (:class:`~mmgraph.subgraph.sub2vec.Sub2VecEmbedding`) and ``torch.optim.SparseAdam``;
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
        epochs (int, optional): Passes over all start rows. (default: :obj:`10`)
        batch_size (int, optional): Start rows per step. (default: :obj:`256`)
        lr (float, optional): SparseAdam learning rate. (default: :obj:`0.01`)
        progress (bool, optional): Show a progress bar. (default: :obj:`False`)
        seed (int, optional): Seed of the initialisation, walks and negatives.
            (default: :obj:`0`)
        trainer_options (Mapping, optional): Other :class:`~mmgraph.train.TrainConfig`
            settings (``patience``, ``device``...). (default: :obj:`None`)

    Shapes:
        S subgraphs; :meth:`get_embedding` returns :math:`(S, \text{embedding\_dim})`.

    Example:
        >>> emb = Sub2Vec(embedding_dim=32, tokens="degree", seed=0).fit(dataset).get_embedding()
    """

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
        from mmgraph.subgraph.sub2vec import SUB2VEC_MODES, SUB2VEC_TOKENS

        super().__init__()
        self.embedding_dim = embedding_dim
        self.tokens = tokens
        self.mode = mode
        self.walk_length = walk_length
        self.walks_per_node = walks_per_node
        self.context_size = context_size
        self.num_negatives = num_negatives
        self.max_degree = max_degree
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.progress = progress
        self.seed = seed
        self.trainer_options = trainer_options
        check_choice(tokens, SUB2VEC_TOKENS, "token kind")
        check_choice(mode, SUB2VEC_MODES, "Sub2Vec mode")
        check_positive_int(embedding_dim, "embedding_dim")
        self._check_training()

    def fit(self, dataset: SubgraphDataset) -> Sub2Vec:
        """Learn one vector per subgraph of ``dataset``; returns ``self``.

        Args:
            dataset (SubgraphDataset): The subgraphs and their base graph (labels unused).
        """
        from mmgraph.subgraph import make_subgraph_batch
        from mmgraph.subgraph.sub2vec import (
            Sub2VecEmbedding,
            Sub2VecLoader,
            Sub2VecObjective,
            SubgraphCorpus,
        )

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
