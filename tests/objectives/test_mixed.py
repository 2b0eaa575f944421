from __future__ import annotations

import pytest
import torch
from torch import nn

from mmgraph import seed_everything
from mmgraph.models import MultimodalGNN
from mmgraph.objectives import MixedObjective, Node2VecObjective, SupervisedObjective
from mmgraph.train import TrainConfig, Trainer

from .conftest import community_graph


def labelled_graph():
    graph = community_graph()
    graph.set_split(0.5, 0.25, 0.25, seed=0)
    return graph


def test_mixed_loss_is_the_weighted_sum_of_the_parts() -> None:
    graph = labelled_graph()
    seed_everything(0)
    model = MultimodalGNN.from_graph(graph, hidden=8, modality_dim=8, dropout=0.0).eval()
    settings = {"walk_length": 6, "context_size": 3, "seed": 0}
    mixed = MixedObjective([(Node2VecObjective(**settings), 1.0), (SupervisedObjective(), 0.5)])
    loss = mixed(model, graph)
    walk = Node2VecObjective(**settings)(model, graph)
    supervised = SupervisedObjective()(model, graph)
    assert loss.item() == pytest.approx((walk + 0.5 * supervised).item(), rel=1e-6)
    assert mixed.last_losses == pytest.approx(
        {"node2vec": walk.item(), "supervised": supervised.item()}
    )
    assert mixed.name == "node2vec+supervised" and mixed.supervised and mixed.uses_labels
    assert not MixedObjective([(Node2VecObjective(**settings), 1.0)]).uses_labels
    assert mixed.input_nodes(graph) is None  # node2vec walks from every node


def test_mixed_training_uses_both_losses() -> None:
    graph = labelled_graph()
    seed_everything(0)
    model = MultimodalGNN.from_graph(graph, hidden=8, modality_dim=8, dropout=0.0)
    mixed = MixedObjective(
        [
            (Node2VecObjective(walk_length=6, context_size=3, seed=0), 1.0),
            (SupervisedObjective(), 1.0),
        ]
    )
    trainer = Trainer(model, TrainConfig(epochs=30, patience=None, progress=False))
    trainer.fit(graph, objective=mixed)
    assert trainer.history[-1]["train_loss"] < trainer.history[0]["train_loss"]
    assert trainer.evaluate(graph, "test_mask")["accuracy"] > 0.6  # chance: 0.25


def test_input_nodes_are_the_union_of_the_parts() -> None:
    graph = labelled_graph()
    train = SupervisedObjective("train_mask")
    val = SupervisedObjective(mask_key="val_mask")
    mixed = MixedObjective([(train, 1.0), (val, 0.0)])
    expected = torch.cat([train.input_nodes(graph), val.input_nodes(graph)]).sort().values
    assert torch.equal(mixed.input_nodes(graph), expected)
    assert mixed.name == "supervised_0+supervised_1"


def test_zero_weight_parts_are_not_evaluated() -> None:
    class Exploding:
        name = "boom"

        def input_nodes(self, graph):
            return None

        def __call__(self, model, batch):
            raise AssertionError("evaluated")

    graph = labelled_graph()
    seed_everything(0)
    model = MultimodalGNN.from_graph(graph, hidden=8, modality_dim=8)
    mixed = MixedObjective([(SupervisedObjective(), 1.0), (Exploding(), 0.0)])
    assert torch.isfinite(mixed(model, graph))
    assert "boom" not in mixed.last_losses


def test_validation() -> None:
    n2v = Node2VecObjective()
    with pytest.raises(ValueError, match="non-empty list of \\(objective, weight\\) pairs"):
        MixedObjective([])
    with pytest.raises(ValueError, match="part 0 to be an \\(objective, weight\\) pair"):
        MixedObjective([n2v])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="part 0 to hold an objective"):
        MixedObjective([(nn.Linear(2, 2), 1.0)])
    with pytest.raises(TypeError, match="weight 0 to be a float"):
        MixedObjective([(n2v, "1")])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="weight 0 to be finite and >= 0"):
        MixedObjective([(n2v, -1.0)])
    with pytest.raises(ValueError, match="at least one positive weight"):
        MixedObjective([(n2v, 0.0)])
    assert repr(MixedObjective([(SupervisedObjective(), 2)])).startswith(
        "MixedObjective([(<mmgraph.objectives.supervised.SupervisedObjective"
    )
