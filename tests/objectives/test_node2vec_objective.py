from __future__ import annotations

import pytest
import torch
from torch import nn

from mmgraph import seed_everything
from mmgraph.data import MultimodalGraph
from mmgraph.eval import linear_probe
from mmgraph.models import MultimodalGNN
from mmgraph.objectives import Node2VecObjective, walk_skipgram_loss
from mmgraph.sampling import NeighborLoader
from mmgraph.train import TrainConfig, Trainer

from .conftest import community_graph, induced


def encoder(graph: MultimodalGraph, **kw) -> MultimodalGNN:
    seed_everything(0)
    options = {"num_classes": 0, "hidden": 16, "modality_dim": 16, "dropout": 0.0, **kw}
    return MultimodalGNN.from_graph(graph, **options)


def test_loss_is_the_walk_loss_of_the_encoder_output() -> None:
    graph = community_graph()
    model = encoder(graph).eval()
    settings = {"walk_length": 6, "context_size": 3, "num_negatives": 2, "normalize": False}
    loss = Node2VecObjective(**settings, seed=0)(model, graph)
    twin = Node2VecObjective(**settings, seed=0)
    batch = twin.sampler(graph).sample(twin.start_nodes(graph))
    expected = walk_skipgram_loss(batch.walks, batch.negatives, model.encode(graph), None, 3)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert batch.walks.size(0) == graph.num_nodes  # one walk from every node


def test_cosine_scores_with_a_temperature() -> None:
    graph = community_graph()
    model = encoder(graph).eval()
    settings = {"walk_length": 6, "context_size": 3, "normalize": True, "temperature": 0.5}
    loss = Node2VecObjective(**settings, seed=1)(model, graph)
    twin = Node2VecObjective(**settings, seed=1)
    batch = twin.sampler(graph).sample(twin.start_nodes(graph))
    h = nn.functional.normalize(model.encode(graph), dim=-1)
    expected = walk_skipgram_loss(batch.walks, batch.negatives, h / 0.5, h, 3)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_start_nodes_and_the_cached_walk_graph() -> None:
    graph = community_graph()
    objective = Node2VecObjective(walk_length=4, context_size=2, num_start_nodes=10, seed=0)
    start = objective.start_nodes(graph)
    assert start.numel() == 10 and start.unique().numel() == 10
    first = objective.sampler(graph)
    assert objective.sampler(graph) is first
    half = induced(graph, torch.arange(80))
    assert objective.sampler(half) is not first
    assert objective.sampler(half).csr.num_nodes == 80
    assert objective.input_nodes(graph) is None


def test_trained_encoder_embeds_unseen_nodes() -> None:
    graph = community_graph()
    perm = torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(0))
    seen, unseen = perm[:120].sort().values, perm[120:].sort().values
    train_graph = induced(graph, seen)
    model = encoder(train_graph)
    untrained = encoder(train_graph).eval()
    objective = Node2VecObjective(walk_length=8, context_size=4, num_negatives=3, seed=0)
    config = TrainConfig(epochs=40, lr=0.01, patience=None, progress=False)
    trainer = Trainer(model, config).fit(train_graph, objective=objective)
    assert trainer.history[-1]["train_loss"] < trainer.history[0]["train_loss"]

    h = trainer.embed(graph)  # the full graph: 40 nodes never seen in training
    assert h.shape == (graph.num_nodes, 16)
    new = torch.zeros(graph.num_nodes, dtype=torch.bool)
    new[unseen] = True
    src, dst = graph.edge_index
    touching = new[src] | new[dst]
    gen = torch.Generator().manual_seed(1)
    a = unseen[torch.randint(0, 40, (500,), generator=gen)]
    b = torch.randint(0, 160, (500,), generator=gen)

    def margin(emb: torch.Tensor) -> float:
        """Mean cosine of edges at unseen nodes minus that of random pairs."""
        z = nn.functional.normalize(emb, dim=-1)
        linked = (z[src[touching]] * z[dst[touching]]).sum(-1).mean()
        return float(linked - (z[a] * z[b]).sum(-1).mean())

    with torch.no_grad():
        before = margin(untrained.encode(graph))
    assert margin(h) > 0.4 and margin(h) > before + 0.2
    probe = linear_probe(h, graph.y, seen, unseen, seed=0)
    assert probe["accuracy"] > 0.6  # chance: 0.25


def test_validation() -> None:
    with pytest.raises(ValueError, match="Unknown negative distribution 'zipf'"):
        Node2VecObjective(negative_distribution="zipf")
    with pytest.raises(ValueError, match="'temperature' > 0"):
        Node2VecObjective(temperature=0.0)
    with pytest.raises(ValueError, match="'num_start_nodes' to be at least 1"):
        Node2VecObjective(num_start_nodes=0)
    with pytest.raises(ValueError, match="at least 'context_size' = 8 nodes"):
        Node2VecObjective(walk_length=4, context_size=8)
    with pytest.raises(ValueError, match="Expected 'p' to be a positive"):
        Node2VecObjective(p=0.0)
    with pytest.raises(TypeError, match="has no 'encode"):
        Node2VecObjective()(nn.Linear(2, 2), community_graph())
    assert repr(Node2VecObjective(p=0.5)).startswith(
        "Node2VecObjective(walk_length=10, context_size=5, walks_per_node=1, num_negatives=1, "
        "p=0.5, q=1"
    )


def test_sampled_subgraphs_are_walked_both_ways() -> None:
    graph = community_graph()
    loader = NeighborLoader(graph, [5, 5], batch_size=16, shuffle=True, seed=0)
    batch = next(iter(loader))
    objective = Node2VecObjective(walk_length=4, context_size=2, seed=0)
    walks = objective.sampler(batch).sample(objective.start_nodes(batch)).walks
    assert walks.size(0) == 16 and torch.equal(walks[:, 0].sort().values, torch.arange(16))
    assert (walks[:, 1:] >= 0).all()  # seeds have out-edges once edges go both ways
    seed_everything(0)
    model = encoder(graph)
    config = TrainConfig(epochs=2, batch_size=32, fanouts=[5, 5], patience=None, progress=False)
    trainer = Trainer(model, config).fit(graph, objective=objective)
    assert len(trainer.history) == 2 and trainer.history[-1]["train_loss"] > 0


def test_a_models_auxiliary_loss_is_added_to_the_walk_loss() -> None:
    graph = community_graph()
    graph.x_text = torch.randn(graph.num_nodes, 5, generator=torch.Generator().manual_seed(0))
    graph.text_present = torch.rand(graph.num_nodes) < 0.8
    model = encoder(graph, coordination="cosine", coordination_weight=2.0).eval()
    assert model.has_auxiliary_loss
    settings = {"walk_length": 6, "context_size": 3, "num_negatives": 2, "normalize": False}
    loss = Node2VecObjective(**settings, seed=0)(model, graph)
    twin = Node2VecObjective(**settings, seed=0)
    batch = twin.sampler(graph).sample(twin.start_nodes(graph))
    walk = walk_skipgram_loss(batch.walks, batch.negatives, model.encode(graph), None, 3)
    aux = model.auxiliary_loss(graph)
    assert aux.item() > 0
    assert loss.item() == pytest.approx(walk.item() + aux.item(), rel=1e-6)
    h, same = model.encode_with_aux(graph)
    torch.testing.assert_close(h, model.encode(graph))
    torch.testing.assert_close(same, aux)
    # the projections into the coordinated space get a gradient (they did not before)
    loss.backward()
    assert model.projection is not None
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.projection.parameters())


def test_a_graph_no_walk_can_leave_is_refused() -> None:
    n = 12
    numeric = torch.randn(n, 3)
    cases = (
        (torch.empty(2, 0, dtype=torch.long), None, "no edges"),
        (torch.tensor([[0, 1], [1, 2]]), torch.zeros(2), "only edges of weight 0"),
    )
    for edge_index, weight, what in cases:
        graph = MultimodalGraph(edge_index, numeric=numeric, num_nodes=n, edge_weight=weight)
        trainer = Trainer(encoder(graph), TrainConfig(epochs=2, progress=False))
        with pytest.raises(ValueError, match=rf"has {what}: node2vec's walks cannot take a step"):
            trainer.fit(graph, objective=Node2VecObjective(seed=0))
