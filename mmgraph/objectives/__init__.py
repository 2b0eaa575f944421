"""Training objectives: supervised, node2vec-style and contrastive losses."""

from __future__ import annotations

from mmgraph.objectives.mixed import MixedObjective
from mmgraph.objectives.node2vec import Node2VecObjective
from mmgraph.objectives.skipgram import (
    NEGATIVE_DISTRIBUTIONS,
    NegativeSampler,
    SkipGramObjective,
    WalkBatch,
    WalkLoader,
    WalkSampler,
    skipgram_loss,
    walk_skipgram_loss,
    window_pairs,
)
from mmgraph.objectives.supervised import (
    SupervisedObjective,
    balanced_class_weights,
    seed_count,
)

__all__ = [
    "MixedObjective",
    "NEGATIVE_DISTRIBUTIONS",
    "NegativeSampler",
    "Node2VecObjective",
    "SkipGramObjective",
    "SupervisedObjective",
    "WalkBatch",
    "WalkLoader",
    "WalkSampler",
    "balanced_class_weights",
    "seed_count",
    "skipgram_loss",
    "walk_skipgram_loss",
    "window_pairs",
]
