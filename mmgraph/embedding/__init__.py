"""Shallow node embeddings: skip-gram tables and the node2vec estimator."""

from __future__ import annotations

from mmgraph.embedding.node2vec import Node2Vec
from mmgraph.embedding.skipgram import SkipGramEmbedding

__all__ = ["Node2Vec", "SkipGramEmbedding"]
