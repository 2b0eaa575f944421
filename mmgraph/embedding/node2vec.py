r"""The shallow node2vec estimator: fit embedding tables by skip-gram over biased walks."""

from __future__ import annotations

import inspect
from typing import Any

from torch import Tensor
from torch_geometric.data import Data

from mmgraph.embedding.skipgram import SkipGramEmbedding
from mmgraph.objectives.skipgram import (
    NEGATIVE_DISTRIBUTIONS,
    SkipGramObjective,
    WalkLoader,
    WalkSampler,
)
from mmgraph.sampling.csr import CSRGraph


class Node2Vec:
    r"""node2vec (DeepWalk for ``p = q = 1``): node embeddings from the graph structure alone.

    `"node2vec: Scalable Feature Learning for Networks" <https://arxiv.org/abs/1607.00653>`_.
    Walks of ``walk_length`` steps start ``walks_per_node`` times from every node
    (:class:`~mmgraph.sampling.RandomWalker`, second-order bias by ``p`` and ``q``); a
    skip-gram model with negative sampling (:mod:`mmgraph.objectives.skipgram`) learns
    embeddings :math:`\mathbf{u}` such that nodes close on walks score high:

    .. math::
        \ell(c, o) = -\log \sigma(\mathbf{u}_c^\top \mathbf{v}_o)
        - \sum_{k=1}^{K} \log \sigma(-\mathbf{u}_c^\top \mathbf{v}_{n_k})

    over every (center, context) pair of every window of ``context_size`` nodes. Training
    runs in :class:`~mmgraph.train.Trainer` with sparse embedding tables and
    ``torch.optim.SparseAdam``; each epoch walks again from every node, in batches of
    ``batch_size`` start nodes (PyG's ``Node2Vec`` example: dim 128, walk length 20,
    context 10, 10 walks per node, batch 128).

    Hyperparameters go to ``__init__`` (scikit-learn / karateclub style); :meth:`fit`
    trains and returns ``self``; :meth:`get_embedding` returns the embeddings.

    Args:
        embedding_dim (int, optional): Embedding size. (default: :obj:`128`)
        walk_length (int, optional): Steps per walk. (default: :obj:`20`)
        context_size (int, optional): Nodes per window (center and context).
            (default: :obj:`10`)
        walks_per_node (int, optional): Walks from each node per epoch. (default: :obj:`10`)
        num_negatives (int, optional): Negatives per pair. (default: :obj:`1`)
        p (float, optional): Return parameter. (default: :obj:`1.0`)
        q (float, optional): In-out parameter. (default: :obj:`1.0`)
        negative_distribution (str, optional): ``"uniform"`` or ``"unigram"`` (degree to
            the power 0.75). (default: :obj:`"uniform"`)
        epochs (int, optional): Passes over all start nodes. (default: :obj:`1`)
        batch_size (int, optional): Start nodes per step. (default: :obj:`128`)
        lr (float, optional): SparseAdam learning rate. (default: :obj:`0.01`)
        shared (bool, optional): One table for centers and contexts (as PyG) instead of
            word2vec's two. (default: :obj:`False`)
        weighted (bool, optional): Walk proportionally to edge weights where the graph has
            them. (default: :obj:`True`)
        progress (bool, optional): Show a progress bar. (default: :obj:`False`)
        seed (int, optional): Seed of the initialisation, walks and negatives.
            (default: :obj:`0`)

    Shapes:
        N nodes; :meth:`get_embedding` returns :math:`(N, \text{embedding\_dim})`.

    Example:
        >>> emb = Node2Vec(embedding_dim=64, epochs=5, seed=0).fit(graph).get_embedding()
    """

    def __init__(
        self,
        embedding_dim: int = 128,
        walk_length: int = 20,
        context_size: int = 10,
        walks_per_node: int = 10,
        num_negatives: int = 1,
        p: float = 1.0,
        q: float = 1.0,
        negative_distribution: str = "uniform",
        epochs: int = 1,
        batch_size: int = 128,
        lr: float = 0.01,
        shared: bool = False,
        weighted: bool = True,
        progress: bool = False,
        seed: int = 0,
    ) -> None:
        if negative_distribution not in NEGATIVE_DISTRIBUTIONS:
            raise ValueError(
                f"Unknown negative distribution {negative_distribution!r}; expected one of "
                f"{list(NEGATIVE_DISTRIBUTIONS)}"
            )
        for name, value in (("epochs", epochs), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Expected '{name}' to be a positive int (got {value!r})")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"Expected 'seed' to be an int (got {type(seed).__name__!r})")
        self.embedding_dim = embedding_dim
        self.walk_length = walk_length
        self.context_size = context_size
        self.walks_per_node = walks_per_node
        self.num_negatives = num_negatives
        self.p = p
        self.q = q
        self.negative_distribution = negative_distribution
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.shared = shared
        self.weighted = weighted
        self.progress = progress
        self.seed = seed
        self.model_: SkipGramEmbedding | None = None
        self.history_: list[dict[str, Any]] = []

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters, by name."""
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        return {name: getattr(self, name) for name in names}

    def fit(self, graph: Data | CSRGraph) -> Node2Vec:
        """Learn the embeddings of ``graph``; returns ``self``.

        Args:
            graph (MultimodalGraph, Data or CSRGraph): A MultimodalGraph, any PyG ``Data``
                with an ``edge_index``, or a :class:`~mmgraph.sampling.CSRGraph` built
                ``by="source"``. Only the edges (and weights) are used.
        """
        from mmgraph.train import TrainConfig, Trainer

        if isinstance(graph, CSRGraph):
            csr, data = graph, Data(num_nodes=graph.num_nodes)
        elif isinstance(graph, Data):
            if graph.num_nodes is None or graph.num_nodes < 1:
                raise ValueError("Expected a graph with at least one node (got none)")
            csr, data = CSRGraph.from_graph(graph), graph
        else:
            raise TypeError(
                "Expected 'graph' to be a MultimodalGraph, a PyG Data or a CSRGraph "
                f"(got {type(graph).__name__!r})"
            )
        sampler = WalkSampler(
            csr,
            self.walk_length,
            self.context_size,
            walks_per_node=self.walks_per_node,
            num_negatives=self.num_negatives,
            p=self.p,
            q=self.q,
            negative_distribution=self.negative_distribution,
            weighted=self.weighted,
            seed=self.seed,
        )
        loader = WalkLoader(sampler, batch_size=self.batch_size)
        model = SkipGramEmbedding(
            csr.num_nodes, self.embedding_dim, shared=self.shared, sparse=True, seed=self.seed
        )
        config = TrainConfig(
            epochs=self.epochs,
            lr=self.lr,
            weight_decay=0.0,
            patience=None,
            class_weights=False,
            seed=self.seed,
            deterministic=False,
            progress=self.progress,
            optimizer="sparse_adam",
        )
        trainer = Trainer(model, config)
        trainer.fit(data, objective=SkipGramObjective(self.context_size), loader=loader)
        self.model_ = model
        self.history_ = trainer.history
        return self

    def get_embedding(self) -> Tensor:
        """The node embeddings ``[N, embedding_dim]`` (the center vectors; a detached copy)."""
        if self.model_ is None:
            raise RuntimeError("Call `fit(graph)` before `get_embedding()`")
        return self.model_.encode().detach().clone()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(embedding_dim={self.embedding_dim}, "
            f"walk_length={self.walk_length}, context_size={self.context_size}, "
            f"walks_per_node={self.walks_per_node}, p={self.p:g}, q={self.q:g}, "
            f"num_negatives={self.num_negatives}, epochs={self.epochs})"
        )
