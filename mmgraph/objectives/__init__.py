"""Training objectives: supervised, node2vec-style and contrastive losses.

Losses only: the walks, windows and negatives they read are in :mod:`mmgraph.sampling`.
"""

from __future__ import annotations

from mmgraph.objectives.mixed import MixedObjective
from mmgraph.objectives.node2vec import Node2VecObjective
from mmgraph.objectives.skipgram import SkipGramObjective, skipgram_loss, walk_skipgram_loss
from mmgraph.objectives.supervised import (
    SupervisedObjective,
    balanced_class_weights,
    seed_count,
)

__all__ = [
    "MixedObjective",
    "Node2VecObjective",
    "SkipGramObjective",
    "SupervisedObjective",
    "balanced_class_weights",
    "seed_count",
    "skipgram_loss",
    "walk_skipgram_loss",
]
