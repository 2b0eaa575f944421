"""One trainer, its configs and checkpoints."""

from __future__ import annotations

from mmgraph.config import ConfigBase
from mmgraph.train.config import TrainConfig
from mmgraph.train.trainer import Objective, Trainer

__all__ = ["ConfigBase", "Objective", "TrainConfig", "Trainer"]
