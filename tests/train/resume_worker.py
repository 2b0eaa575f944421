"""Worker of tests/train/test_resume.py: trains a small MultimodalGNN into a folder.

Each loss evaluation sleeps a little, so the test can kill the process with SIGKILL in the
middle of the run; the sleep changes no number. The test imports the builders below to run
the same training in its own process.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph import seed_everything
from mmgraph.data.synthetic import make_social_graph
from mmgraph.models import FeatureConfig, MultimodalGNN, featurize
from mmgraph.objectives import SupervisedObjective
from mmgraph.train import TrainConfig, Trainer


def make_graph() -> Data:
    graph = make_social_graph(120, seed=3, image_size=8)
    return featurize(
        graph, FeatureConfig(text_encoder="hashing", image_encoder=None), progress=False
    )


def make_model(graph: Data) -> MultimodalGNN:
    seed_everything(0)
    return MultimodalGNN.from_graph(graph, hidden=8, modality_dim=8, dropout=0.3)


def make_config(mode: str, **overrides: Any) -> TrainConfig:
    """Full-batch (``"full"``) or mini-batch (``"mini"``) training with dropout."""
    settings: dict[str, Any] = dict(
        epochs=30, lr=0.02, patience=None, progress=False, seed=5, checkpoint_every=5
    )
    if mode == "mini":
        settings.update(batch_size=24, fanouts=[4, 3])
    settings.update(overrides)
    return TrainConfig(**settings)


class SlowObjective(SupervisedObjective):
    """The supervised loss, after a pause."""

    def __init__(self, delay: float, class_weights: Tensor | None = None) -> None:
        super().__init__(class_weights=class_weights)
        self.delay = delay

    def __call__(self, model: nn.Module, batch: Data) -> Tensor:
        time.sleep(self.delay)
        return super().__call__(model, batch)


def main(out: Path, mode: str, delay: float) -> None:
    torch.set_num_threads(1)  # as tests/conftest.py: the same kernels as the test process
    graph = make_graph()
    trainer = Trainer(make_model(graph), make_config(mode), out_dir=out)
    weights = trainer.default_objective(graph).class_weights
    trainer.fit(graph, objective=SlowObjective(delay, class_weights=weights))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]))
