"""Unsupervised embedding estimators and their shallow tables.

Every estimator follows :class:`Estimator`: hyperparameters and ``seed`` in ``__init__``,
``fit(data) -> self``, ``get_embedding() -> Tensor``. :class:`Node2Vec` is here; Sub2Vec's
estimator, :class:`mmgraph.subgraph.sub2vec.Sub2Vec`, lives in the subgraph layer above.
"""

from __future__ import annotations

from mmgraph.embedding.estimator import Estimator, NotFittedError
from mmgraph.embedding.node2vec import Node2Vec
from mmgraph.embedding.skipgram import SkipGramEmbedding

__all__ = ["Estimator", "Node2Vec", "NotFittedError", "SkipGramEmbedding"]
