"""Training objectives: supervised, node2vec-style and contrastive losses."""

from __future__ import annotations

from mmgraph.objectives.supervised import (
    SupervisedObjective,
    balanced_class_weights,
    seed_count,
)

__all__ = ["SupervisedObjective", "balanced_class_weights", "seed_count"]
