"""Worker of tests/train/test_distributed.py: trains a small model, saves its weights.

Run alone it trains in one process; under ``torchrun --nproc-per-node 2`` each rank trains on
its half of every global batch and DistributedDataParallel averages the gradients.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from mmgraph import seed_everything
from mmgraph.data.synthetic import make_social_graph
from mmgraph.distributed import rank, world_size
from mmgraph.models import FeatureConfig, MultimodalGNN, featurize
from mmgraph.train import TrainConfig, Trainer
from mmgraph.train.checkpoint import save_weights


def main(out: Path, mode: str) -> None:
    torch.set_num_threads(1)
    graph = make_social_graph(200, seed=4, image_size=8)
    graph = featurize(
        graph, FeatureConfig(text_encoder="hashing", image_encoder=None), progress=False
    )
    seed_everything(0)
    model = MultimodalGNN.from_graph(
        graph, aggregator="mean", dropout=0.0, hidden=8, modality_dim=8
    )
    batch = {"minibatch": 10_000, "fullbatch": None}[mode]
    fanouts = [-1, -1] if batch else None
    config = TrainConfig(
        epochs=6,
        lr=0.02,
        batch_size=batch,
        fanouts=fanouts,
        patience=None,
        class_weights=False,
        progress=False,
        seed=0,
    )
    trainer = Trainer(model, config).fit(graph)
    last = {k: v for k, v in trainer.model.state_dict().items()}
    save_weights(last, out / f"{mode}-world{world_size()}-rank{rank()}.safetensors")


if __name__ == "__main__":
    for mode in sys.argv[2:]:
        main(Path(sys.argv[1]), mode)
