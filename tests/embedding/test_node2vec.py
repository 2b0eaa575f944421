from __future__ import annotations

import warnings

import pytest
import torch
from torch_geometric.data import Data

from mmgraph.data import make_undirected
from mmgraph.embedding import Node2Vec
from mmgraph.eval import cluster_embeddings, clustering_metrics
from mmgraph.sampling import SHALLOW_WALKS, CSRGraph, WalkOptions

SMALL = {
    "embedding_dim": 16,
    "walk_length": 10,
    "context_size": 5,
    "walks_per_node": 4,
    "batch_size": 32,
    "epochs": 4,
    "lr": 0.05,
}


def planted_partition(blocks: int = 3, size: int = 30, seed: int = 0) -> tuple[Data, torch.Tensor]:
    """Communities joined densely inside (p = 0.3) and sparsely across (p = 0.01)."""
    gen = torch.Generator().manual_seed(seed)
    n = blocks * size
    y = torch.arange(n) // size
    same = y[:, None] == y[None, :]
    prob = torch.where(same, 0.3, 0.01)
    upper = torch.rand(n, n, generator=gen).lt(prob).triu(1)
    edge_index, _, _ = make_undirected(upper.nonzero().t(), n)
    return Data(edge_index=edge_index, num_nodes=n), y


def test_embeddings_recover_planted_communities() -> None:
    graph, y = planted_partition()
    model = Node2Vec(**SMALL, seed=0).fit(graph)
    assert model.fit(graph) is model
    emb = model.get_embedding()
    assert emb.shape == (90, 16) and torch.isfinite(emb).all()
    pred = cluster_embeddings(emb, 3, seed=0)
    assert clustering_metrics(y, pred)["nmi"] > 0.8
    # Trained by the Trainer: one record per epoch, the loss going down.
    assert [r["epoch"] for r in model.history_] == [1, 2, 3, 4]
    assert model.history_[-1]["train_loss"] < model.history_[0]["train_loss"]


def test_biased_walks_unigram_negatives_and_a_csr_graph() -> None:
    graph, y = planted_partition(seed=1)
    csr = CSRGraph.from_edge_index(graph.edge_index, graph.num_nodes)
    # More negatives per pair learn more slowly: 10 epochs (NMI 1.0 over 4 graphs x 3 seeds).
    settings = {**SMALL, "epochs": 10, "num_negatives": 3, "negative_distribution": "unigram"}
    model = Node2Vec(**settings, p=0.5, q=2.0, seed=0).fit(csr)
    pred = cluster_embeddings(model.get_embedding(), 3, seed=0)
    assert clustering_metrics(y, pred)["nmi"] > 0.8


def test_seeded_and_reproducible() -> None:
    graph, _ = planted_partition()
    settings = {**SMALL, "epochs": 1}
    a = Node2Vec(**settings, seed=5).fit(graph).get_embedding()
    b = Node2Vec(**settings, seed=5).fit(graph).get_embedding()
    c = Node2Vec(**settings, seed=6).fit(graph).get_embedding()
    assert torch.equal(a, b) and not torch.equal(a, c)


def fitted_and_initial(graph: Data, warning: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The embeddings of a short fit (which warns ``warning``) and the seeded start."""
    model = Node2Vec(embedding_dim=4, walk_length=3, context_size=2, epochs=2, seed=0)
    with pytest.warns(UserWarning, match=warning):
        emb = model.fit(graph).get_embedding()
    assert model.model_ is not None
    model.model_.reset_parameters()
    return emb, model.model_.center.weight.detach()


def test_an_isolated_node_keeps_its_initial_vector() -> None:
    graph = Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=4)
    emb, start = fitted_and_initial(graph, r"^1 of 4 nodes have no edge: .* --encoder gnn")
    torch.testing.assert_close(emb[3], start[3])
    assert not torch.allclose(emb[0], start[0])


def test_a_sink_of_a_directed_graph_stays_untrained_and_warns() -> None:
    graph = Data(edge_index=torch.tensor([[0, 1, 1], [1, 0, 2]]), num_nodes=3)  # 2: a sink
    emb, start = fitted_and_initial(
        graph, r"^1 of 3 nodes have no outgoing edge a walk can take: .*both ways"
    )
    torch.testing.assert_close(emb[2], start[2])
    model = Node2Vec(embedding_dim=4, walk_length=3, context_size=2, epochs=2, seed=0)
    both_ways = Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(both_ways)


def test_a_node_whose_out_edges_weigh_0_is_named_as_stuck() -> None:
    weights = torch.tensor([1.0, 1.0, 0.0, 0.0])  # 2 -> 1 weighs 0: walks end at 2
    graph = Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)
    graph.edge_weight = weights
    emb, start = fitted_and_initial(graph, r"^1 of 3 nodes .*\(1 with out-edges of weight 0 only\)")
    torch.testing.assert_close(emb[2], start[2])


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (None, "has no edges: .*give it edges"),
        (0.0, "has only edges of weight 0: .*weighted=False"),
    ],
)
def test_a_graph_no_walk_can_move_on_is_refused(weights: float | None, message: str) -> None:
    edges = torch.tensor([[0, 1], [1, 0]]) if weights is not None else torch.zeros(2, 0).long()
    graph = Data(edge_index=edges, num_nodes=3)
    if weights is not None:
        graph.edge_weight = torch.full((edges.size(1),), weights)
    with pytest.raises(ValueError, match=r"^The graph \(3 nodes\) " + message):
        Node2Vec(**SMALL).fit(graph)
    if weights is not None:  # unweighted walks move
        assert Node2Vec(**SMALL, weighted=False).fit(graph).history_[0]["train_loss"] > 0
    with pytest.raises(ValueError, match=r"got none\): .* fit\(edge_index, num_nodes=N\)"):
        Node2Vec(**SMALL).fit(torch.zeros(2, 0).long())


@pytest.mark.parametrize("weights", [[-1.0, -1.0], [1.0, -1.0]])
def test_negative_weights_are_named_as_such(weights: list[float]) -> None:
    # not as weight 0, nor after a warning of nodes with out-edges of weight 0
    graph = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=2)
    graph.edge_weight = torch.tensor(weights)
    negative = sum(w < 0 for w in weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=rf"negative edge weights \({negative} of 2 edges\)"):
            Node2Vec(**SMALL).fit(graph)


def test_get_embedding_is_a_copy() -> None:
    graph, _ = planted_partition()
    model = Node2Vec(**{**SMALL, "epochs": 1}, seed=0).fit(graph)
    emb = model.get_embedding()
    emb.zero_()
    assert model.get_embedding().abs().sum() > 0 and not model.get_embedding().requires_grad


def test_params_repr_and_validation() -> None:
    model = Node2Vec(embedding_dim=8, p=0.5, q=2.0)
    params = model.get_params()
    assert params["embedding_dim"] == 8 and params["q"] == 2.0 and "seed" in params
    assert repr(model).startswith("Node2Vec(embedding_dim=8, walk_length=20, context_size=10")
    assert "p=0.5, q=2" in repr(model)
    with pytest.raises(RuntimeError, match=r"Call `fit\(graph\)`"):
        model.get_embedding()
    with pytest.raises(ValueError, match="Unknown negative distribution 'zipf'"):
        Node2Vec(negative_distribution="zipf")
    with pytest.raises(ValueError, match="'epochs' to be an int >= 1"):
        Node2Vec(epochs=0)
    with pytest.raises(ValueError, match="'embedding_dim' to be an int >= 1"):
        Node2Vec(embedding_dim=0)
    with pytest.raises(TypeError, match="'seed' to be an int"):
        Node2Vec(seed=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Expected 'graph' to be a MultimodalGraph"):
        model.fit([[0, 1], [1, 0]])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'edge_index' to be of integer type"):
        model.fit(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="at least 'context_size' = 10 nodes"):
        Node2Vec(walk_length=5).fit(planted_partition()[0])


def test_an_edge_index_fits_like_its_graph() -> None:
    graph, _ = planted_partition()
    settings = {**SMALL, "epochs": 1}
    from_graph = Node2Vec(**settings, seed=1).fit(graph).get_embedding()
    from_edges = Node2Vec(**settings, seed=1).fit(graph.edge_index, num_nodes=90)
    torch.testing.assert_close(from_edges.get_embedding(), from_graph, rtol=0, atol=0)
    # Without num_nodes the largest id + 1 nodes are embedded.
    with pytest.warns(UserWarning, match="no outgoing edge"):  # ids below the largest
        assert Node2Vec(**settings).fit(graph.edge_index[:, :4]).get_embedding().size(0) >= 2
    with pytest.raises(ValueError, match="'num_nodes' is 3"):
        Node2Vec(**settings).fit(torch.tensor([[0, 1], [1, 3]]), num_nodes=3)


def test_walk_options_are_the_shallow_defaults() -> None:
    assert Node2Vec().walk_options == SHALLOW_WALKS
    model = Node2Vec(walk_length=6, context_size=3, p=0.5, weighted=False)
    assert model.walk_options == WalkOptions(6, 3, p=0.5, weighted=False)
