"""Unsupervised embedding estimators (node2vec, Sub2Vec) and their shallow tables.

Every estimator follows :class:`Estimator`: hyperparameters and ``seed`` in ``__init__``,
``fit(data) -> self``, ``get_embedding() -> Tensor``.
"""

from __future__ import annotations

from mmgraph.embedding.estimator import Estimator, NotFittedError
from mmgraph.embedding.node2vec import Node2Vec
from mmgraph.embedding.skipgram import SkipGramEmbedding
from mmgraph.embedding.sub2vec import Sub2Vec

__all__ = ["Estimator", "Node2Vec", "NotFittedError", "SkipGramEmbedding", "Sub2Vec"]
