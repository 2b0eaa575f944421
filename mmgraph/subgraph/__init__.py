"""Subgraph embedding: one vector for a set of nodes (or a whole graph).

* :class:`SubgraphBatch`, :func:`make_subgraph_batch`, :class:`SubgraphLoader`: a base
  graph with a batch of its subgraphs, labels and splits per subgraph, for the
  :class:`~mmgraph.train.Trainer`;
* :class:`SubgraphPool`: mean, sum, max, size-normalised or attention pooling;
* node inputs (:mod:`mmgraph.subgraph.inputs`): constant, degree, node-id, attribute,
  feature, multimodal-encoder or precomputed node features;
* :class:`GLASS`: a labelling-trick GNN (GLASS, Wang & Zhang 2022);
* :class:`PoolGNN`: aggregator layers of :mod:`mmgraph.nn`, GIN included (or none)
  and pooling, for subgraphs and whole graphs;
* :func:`refit_head`: a trained classifier's last linear layer refit by a logistic
  regression on the training subgraphs' embeddings (:mod:`mmgraph.subgraph.refit`);
* :class:`Sub2Vec`: an estimator of unsupervised subgraph embeddings (walks inside each
  subgraph and a skip-gram objective; Sub2Vec, Adhikari et al. 2018), on the table
  :class:`Sub2VecEmbedding`.
"""

from __future__ import annotations

from mmgraph.nn import GINConv
from mmgraph.subgraph.batch import SubgraphBatch, SubgraphLoader, make_subgraph_batch, with_split
from mmgraph.subgraph.glass import GLASS, GLASS_AGGREGATORS, SUBGRAPH_NORMS, GLASSConv
from mmgraph.subgraph.inputs import NODE_INPUTS, build_node_input
from mmgraph.subgraph.neighborhood import Neighborhoods, khop_neighborhoods
from mmgraph.subgraph.pool_gnn import POOL_AGGREGATORS, PoolGNN
from mmgraph.subgraph.pooling import POOLINGS, SubgraphPool
from mmgraph.subgraph.refit import HEAD_FITS, refit_head
from mmgraph.subgraph.sub2vec import Sub2Vec, Sub2VecEmbedding

__all__ = [
    "GLASS_AGGREGATORS",
    "SUBGRAPH_NORMS",
    "GINConv",
    "GLASS",
    "GLASSConv",
    "HEAD_FITS",
    "NODE_INPUTS",
    "POOLINGS",
    "POOL_AGGREGATORS",
    "Neighborhoods",
    "PoolGNN",
    "SubgraphBatch",
    "SubgraphLoader",
    "Sub2Vec",
    "Sub2VecEmbedding",
    "SubgraphPool",
    "build_node_input",
    "khop_neighborhoods",
    "make_subgraph_batch",
    "refit_head",
    "with_split",
]
