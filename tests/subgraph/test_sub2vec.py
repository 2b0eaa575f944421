"""Sub2Vec: its pieces (walks inside subgraphs, the losses in closed form) and its estimator."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mmgraph.data import MultimodalGraph, SubgraphDataset
from mmgraph.data.edges import make_undirected
from mmgraph.eval import linear_probe
from mmgraph.objectives.skipgram import skipgram_loss
from mmgraph.subgraph import make_subgraph_batch
from mmgraph.subgraph.sub2vec import (
    Sub2Vec,
    Sub2VecBatch,
    Sub2VecEmbedding,
    Sub2VecLoader,
    Sub2VecObjective,
    SubgraphCorpus,
)
from mmgraph.train import TrainConfig, Trainer


def cliques_and_paths(count: int = 12, size: int = 5) -> SubgraphDataset:
    """Alternating cliques and paths of ``size`` nodes, chained by single edges."""
    src, dst, sets, labels = [], [], [], []
    for g in range(count):
        nodes = list(range(g * size, (g + 1) * size))
        if g % 2 == 0:
            pairs = [(u, v) for i, u in enumerate(nodes) for v in nodes[i + 1 :]]
        else:
            pairs = list(zip(nodes[:-1], nodes[1:]))
        if g:
            pairs.append((nodes[0] - 1, nodes[0]))
        src += [u for u, _ in pairs]
        dst += [v for _, v in pairs]
        sets.append(nodes)
        labels.append("clique" if g % 2 == 0 else "path")
    n = count * size
    edge_index, _, _ = make_undirected(torch.tensor([src, dst]), n)
    split = ["train" if g < count - 4 else "test" for g in range(count)]
    return SubgraphDataset.from_lists(
        MultimodalGraph(edge_index, num_nodes=n), sets, labels, split=split
    )


def test_walks_stay_inside_their_subgraph(overlapping: SubgraphDataset) -> None:
    corpus = SubgraphCorpus(overlapping, tokens="node", walk_length=6, walks_per_node=2, seed=0)
    assert corpus.num_rows == sum(len(set(s.tolist())) for s in overlapping.subgraphs)
    batch = corpus.sample(torch.arange(corpus.num_rows))
    assert batch.walks.shape == (2 * corpus.num_rows, 7)
    edges = set(map(tuple, overlapping.graph.edge_index.t().tolist()))
    for walk, s in zip(batch.walks.tolist(), batch.walk_subgraph.tolist()):
        nodes = set(overlapping.subgraphs[s].tolist())
        steps = [v for v in walk if v >= 0]
        assert set(steps) <= nodes
        assert all((u, v) in edges for u, v in zip(steps[:-1], steps[1:]))
        assert all(v == -1 for v in walk[len(steps) :])  # padding only after a dead end
    # Subgraph 4 is a single node: its walks stop at once.
    lone = batch.walks[batch.walk_subgraph == 4]
    assert bool((lone[:, 1:] == -1).all()) and bool((lone[:, 0] == 30).all())
    assert batch.negatives.shape == (2 * corpus.num_rows, 7, 5)
    again = SubgraphCorpus(overlapping, tokens="node", walk_length=6, walks_per_node=2, seed=0)
    assert torch.equal(again.sample(torch.arange(corpus.num_rows)).walks, batch.walks)


def test_degree_tokens() -> None:
    dataset = cliques_and_paths(4, 4)
    corpus = SubgraphCorpus(dataset, tokens="degree", max_degree=2, seed=0)
    # Cliques of 4: internal degree 3, clipped to 2; paths: 1 at the ends, 2 inside.
    assert corpus.num_tokens == 3
    assert corpus.row_token.tolist() == [2] * 4 + [1, 2, 2, 1] + [2] * 4 + [1, 2, 2, 1]


def test_dbow_and_dm_losses_in_closed_form() -> None:
    torch.manual_seed(0)
    walks = torch.tensor([[1, 2, 0, -1], [3, 3, 1, 2]])
    subgraph = torch.tensor([1, 0])
    negatives = torch.randint(0, 4, (2, 4, 3))
    batch = Sub2VecBatch(walks, subgraph, negatives)
    dbow = Sub2VecEmbedding(2, 4, 6, mode="dbow", sparse=False)
    with torch.no_grad():
        dbow.output.weight.normal_()
    pairs = [(b, j) for b in range(2) for j in range(4) if walks[b, j] >= 0]
    center = torch.stack([dbow.subgraph.weight[subgraph[b]] for b, _ in pairs])
    context = torch.stack([dbow.output.weight[walks[b, j]] for b, j in pairs])
    neg = torch.stack([dbow.output.weight[negatives[b, j]] for b, j in pairs])
    loss = Sub2VecObjective()(dbow, batch)
    assert torch.allclose(loss, skipgram_loss(center, context, neg))
    manual = -(
        F.logsigmoid((center * context).sum(-1))
        + F.logsigmoid(-(neg @ center.unsqueeze(-1)).squeeze(-1)).sum(-1)
    )
    assert torch.allclose(loss, manual.mean())
    dm = Sub2VecEmbedding(2, 4, 6, mode="dm", sparse=False)
    with torch.no_grad():
        dm.output.weight.normal_()
    # Windows of 3: predict token j from the subgraph and tokens j+1, j+2 (padding skipped).
    hs, targets, negs = [], [], []
    for b in range(2):
        for j in range(2):
            if walks[b, j] < 0:
                continue
            ctx = [t for t in walks[b, j + 1 : j + 3].tolist() if t >= 0]
            vectors = [dm.subgraph.weight[subgraph[b]]] + [dm.word.weight[t] for t in ctx]
            hs.append(torch.stack(vectors).mean(0))
            targets.append(dm.output.weight[walks[b, j]])
            negs.append(dm.output.weight[negatives[b, j]])
    expected = skipgram_loss(torch.stack(hs), torch.stack(targets), torch.stack(negs))
    assert torch.allclose(Sub2VecObjective(context_size=3)(dm, batch), expected, atol=1e-6)


def test_module_contract() -> None:
    model = Sub2VecEmbedding(5, 7, 4, mode="dm")
    assert sum(p.numel() for p in model.parameters()) == 5 * 4 + 7 * 4 + 7 * 4
    assert Sub2VecEmbedding(5, 7, 4).encode().shape == (5, 4)
    assert repr(model) == "Sub2VecEmbedding(5, 7, embedding_dim=4, mode='dm')"
    copy = Sub2VecEmbedding(5, 7, 4, mode="dm", seed=3)
    copy.load_state_dict(model.state_dict())
    assert torch.equal(copy.encode(), model.encode())
    assert torch.equal(
        Sub2VecEmbedding(5, 7, 4, seed=1).encode(), Sub2VecEmbedding(5, 7, 4, seed=1).encode()
    )
    assert model.to(torch.float64).encode().dtype == torch.float64


def test_learns_structure_without_labels() -> None:
    dataset = cliques_and_paths(12, 5)
    corpus = SubgraphCorpus(dataset, tokens="degree", walk_length=8, walks_per_node=2, seed=0)
    model = Sub2VecEmbedding(len(dataset), corpus.num_tokens, 16, seed=0)
    loader = Sub2VecLoader(corpus, batch_size=32)
    assert len(loader) == 2
    config = TrainConfig(epochs=30, lr=0.05, optimizer="sparse_adam", patience=None, progress=False)
    Trainer(model, config).fit(
        make_subgraph_batch(dataset), objective=Sub2VecObjective(), loader=loader
    )
    probe = linear_probe(model.encode().detach(), dataset.y, dataset.train_mask, dataset.test_mask)
    assert probe["accuracy"] == 1.0


def test_errors(overlapping: SubgraphDataset) -> None:
    with pytest.raises(ValueError, match="Unknown token kind 'label'"):
        SubgraphCorpus(overlapping, tokens="label")
    with pytest.raises(TypeError, match="Expected a SubgraphDataset"):
        SubgraphCorpus(overlapping.graph)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unknown Sub2Vec mode 'cbow'"):
        Sub2VecEmbedding(2, 2, mode="cbow")
    with pytest.raises(ValueError, match="'context_size' to be an int >= 2"):
        Sub2VecObjective(1)
    zeros = torch.zeros(1, 2, dtype=torch.long)
    batch = Sub2VecBatch(zeros, zeros[:, 0], zeros.unsqueeze(-1))
    with pytest.raises(ValueError, match="at least 'context_size' = 5 tokens"):
        Sub2VecObjective(5)(Sub2VecEmbedding(1, 1, 2, mode="dm"), batch)
    with pytest.raises(TypeError, match="Expected a Sub2VecEmbedding model"):
        Sub2VecObjective()(torch.nn.Linear(1, 1), batch)


# ----------------------------------------------------------------- the estimator
SMALL = {
    "embedding_dim": 16,
    "tokens": "degree",
    "walk_length": 8,
    "walks_per_node": 2,
    "batch_size": 32,
    "lr": 0.05,
}


def test_fit_equals_the_pieces_trained_by_hand() -> None:
    dataset = cliques_and_paths(12, 5)
    estimator = Sub2Vec(**SMALL, mode="dm", context_size=3, epochs=3, seed=4).fit(dataset)
    corpus = SubgraphCorpus(dataset, tokens="degree", walk_length=8, walks_per_node=2, seed=4)
    model = Sub2VecEmbedding(len(dataset), corpus.num_tokens, 16, mode="dm", seed=4)
    config = TrainConfig(
        epochs=3,
        lr=0.05,
        weight_decay=0.0,
        patience=None,
        class_weights=False,
        seed=4,
        deterministic=False,
        progress=False,
        optimizer="sparse_adam",
    )
    trainer = Trainer(model, config)
    trainer.fit(
        make_subgraph_batch(dataset),
        objective=Sub2VecObjective(3),
        loader=Sub2VecLoader(corpus, batch_size=32),
    )
    torch.testing.assert_close(estimator.get_embedding(), model.encode().detach(), rtol=0, atol=0)
    assert [r["train_loss"] for r in estimator.history_] == [
        r["train_loss"] for r in trainer.history
    ]
    assert isinstance(estimator.model_, Sub2VecEmbedding) and estimator.model_.mode == "dm"


def test_the_estimator_learns_structure_without_labels() -> None:
    dataset = cliques_and_paths(12, 5)
    emb = Sub2Vec(**SMALL, epochs=30, seed=0).fit(dataset).get_embedding()
    assert emb.shape == (12, 16)
    probe = linear_probe(emb, dataset.y, dataset.train_mask, dataset.test_mask)
    assert probe["accuracy"] == 1.0


def test_estimator_params_repr_and_validation() -> None:
    model = Sub2Vec(embedding_dim=8, tokens="degree", mode="dm")
    params = model.get_params()
    assert params["tokens"] == "degree" and params["mode"] == "dm" and params["seed"] == 0
    assert repr(model) == (
        "Sub2Vec(embedding_dim=8, tokens='degree', mode='dm', walk_length=20, "
        "walks_per_node=1, epochs=10)"
    )
    with pytest.raises(RuntimeError, match=r"Call `fit\(dataset\)`"):
        model.get_embedding()
    with pytest.raises(ValueError, match="Unknown token kind 'label'"):
        Sub2Vec(tokens="label")
    with pytest.raises(ValueError, match="Unknown Sub2Vec mode 'cbow'"):
        Sub2Vec(mode="cbow")
    with pytest.raises(ValueError, match="'embedding_dim' to be an int >= 1"):
        Sub2Vec(embedding_dim=0)
    with pytest.raises(TypeError, match="Expected a SubgraphDataset"):
        model.fit(cliques_and_paths(2, 3).graph)  # type: ignore[arg-type]
