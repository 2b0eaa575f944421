from __future__ import annotations

import pytest
import torch

from mmgraph import seed_everything
from mmgraph.data.synthetic import make_social_graph
from mmgraph.models import FeatureConfig, MultimodalGNN, featurize
from mmgraph.objectives import SupervisedObjective
from mmgraph.train import TrainConfig, Trainer
from mmgraph.train.loaders import make_neighbor_loader


@pytest.fixture(scope="module")
def graph():
    g = make_social_graph(300, seed=2, image_size=8)
    return featurize(g, FeatureConfig(text_encoder="hashing", image_encoder=None), progress=False)


def model(graph, **kw) -> MultimodalGNN:
    seed_everything(0)
    return MultimodalGNN.from_graph(graph, hidden=16, modality_dim=16, **kw)


def test_full_neighbourhood_minibatch_gradient_equals_full_batch(graph) -> None:
    """With every neighbour sampled and every training node in one batch, the mini-batch
    loss and gradients are those of full-batch training (mean aggregation, no dropout)."""
    objective = SupervisedObjective()
    full = model(graph, aggregator="mean", dropout=0.0)
    objective(full, graph).backward()
    cfg = TrainConfig(batch_size=10_000, fanouts=[-1, -1], seed=0)
    (batch,) = list(make_neighbor_loader(graph, objective, cfg))
    assert batch.batch_size == int(graph.train_mask.sum())
    # the raw texts stay out of the batches (a Python copy per sampled node), not the graph's
    assert isinstance(graph.text, list) and "text" not in batch and "x_text" in batch
    mini = model(graph, aggregator="mean", dropout=0.0)
    loss = objective(mini, batch)
    loss.backward()
    torch.testing.assert_close(loss, objective(full, graph))
    for (name, a), b in zip(full.named_parameters(), mini.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_minibatch_training_learns_and_infers_layerwise(graph) -> None:
    cfg = TrainConfig(
        epochs=30, lr=0.01, batch_size=64, fanouts=[10, 5], patience=None, progress=False, seed=0
    )
    trainer = Trainer(model(graph), cfg).fit(graph)
    losses = [record["train_loss"] for record in trainer.history]
    # Dropout makes single epochs noisy: compare the first and last few.
    assert sum(losses[:3]) > sum(losses[-3:])
    test = trainer.evaluate(graph, "test_mask")
    assert test["roc_auc"] > 0.75
    trainer.model.eval()
    torch.testing.assert_close(trainer.predict_logits(graph), trainer.model(graph))
    torch.testing.assert_close(trainer.embed(graph), trainer.model.encode(graph))


def test_minibatch_needs_fanouts(graph) -> None:
    cfg = TrainConfig(epochs=1, batch_size=64, progress=False)
    with pytest.raises(ValueError, match="Mini-batch training needs 'fanouts'"):
        Trainer(model(graph), cfg).fit(graph)
