"""Retriever on planted toy graphs whose answers are known by hand."""

from __future__ import annotations

import logging

import pytest
import torch

from mmgraph.data import MultimodalGraph
from mmgraph.errors import InputError
from mmgraph.models import MultimodalGNN
from mmgraph.retrieval import Retriever
from mmgraph.seed import seed_everything

N, D = 24, 3
HALF = N // 2
TRAIN = torch.arange(N) < HALF
PARTNER = torch.cat([torch.arange(HALF), HALF + (torch.arange(HALF) + 5) % HALF])
"""Node ``i``'s image is node ``PARTNER[i]``'s text: its own on the training nodes (the
first half, where a linear CCA learns how the modalities match), another node's on the
others (never its own)."""
QUERIES = list(range(HALF, N))


def planted(mix: torch.Tensor | None = None, seed: int = 0) -> MultimodalGraph:
    """Text and precomputed image features: ``x_image[PARTNER[i]] = x_text[i] @ mix``."""
    gen = torch.Generator().manual_seed(seed)
    x_text = torch.randn(N, D, generator=gen)
    x_image = torch.empty(N, D)
    x_image[PARTNER] = x_text if mix is None else x_text @ mix
    src = torch.arange(N)
    graph = MultimodalGraph(
        torch.stack([src, (src + 1) % N]),
        y=torch.arange(N) % 2,
        class_names=["a", "b"],
        node_id=[f"n{i}" for i in range(N)],
        train_mask=TRAIN,
    )
    graph.x_text, graph.text_present = x_text, torch.ones(N, dtype=torch.bool)
    graph.x_image, graph.image_present = x_image, torch.ones(N, dtype=torch.bool)
    return graph


def model_for(graph: MultimodalGraph, coordination: str | None) -> MultimodalGNN:
    """No modality projection (the encoders pass the features through); with a loss, the
    projections into the shared space are the identity."""
    seed_everything(0)
    options = {"coordination": coordination, "coordination_dim": D} if coordination else {}
    model = MultimodalGNN.from_graph(
        graph, modality_dim=None, hidden=4, num_layers=1, aggregator="mean", **options
    )
    if model.projection is not None:
        with torch.no_grad():
            for layers in model.projection.projections.values():
                layers[0].weight.copy_(torch.eye(D))
                layers[0].bias.zero_()
    return model.eval()


@pytest.fixture(scope="module")
def cosine_retriever() -> Retriever:
    graph = planted()
    return Retriever(model_for(graph, "cosine"), graph)


def test_a_node_finds_its_planted_partner(cosine_retriever: Retriever) -> None:
    found = cosine_retriever.search(15, k=4, source="text", target="image")
    partner = int(PARTNER[15])
    assert found.index.shape == found.score.shape == (1, 4)
    assert int(found.index[0, 0]) == partner
    assert float(found.score[0, 0]) == pytest.approx(1.0)
    assert found.names is not None and found.names[0][0] == f"n{partner}"
    assert found.query_names == ["n15"] and found.gallery_size == N
    assert found.space == "cosine coordination projections"
    assert found.rows()[0] == {
        "query": 15,
        "rank": 1,
        "node": partner,
        "name": f"n{partner}",
        "score": pytest.approx(1.0),
    }


def test_results_are_sorted_leave_the_query_out_and_respect_k(
    cosine_retriever: Retriever,
) -> None:
    nodes = [0, 7, 19]
    found = cosine_retriever.search(nodes, k=5, source="text", target="text")
    assert found.index.shape == (3, 5) and found.space == "cosine coordination projections"
    for row, node in enumerate(nodes):
        assert node not in found.index[row].tolist()  # text -> text: itself would rank first
        assert bool((found.score[row, :-1] >= found.score[row, 1:]).all())
    # A larger k than the gallery holds: every other node, once.
    everything = cosine_retriever.search(torch.tensor([2]), k=100, source="text", target="image")
    assert sorted(everything.index[0].tolist()) == [i for i in range(N) if i != 2]
    assert cosine_retriever.node_index(["n4", "n0"]) == [4, 0]


def test_the_cca_loss_is_aligned_by_a_linear_cca_on_top() -> None:
    mix = torch.tensor([[2.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, -1.0, 3.0]])
    graph = planted(mix)  # the views agree only up to a linear map
    found = Retriever(model_for(graph, "cca"), graph).search(
        QUERIES, k=1, source="text", target="image"
    )
    assert found.space == "linear CCA on the cca coordination projections"
    assert torch.equal(found.index[:, 0], PARTNER[HALF:])


def test_without_coordination_a_linear_cca_is_fitted_and_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mix = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.0, -1.0]])
    graph = planted(mix, seed=1)
    retriever = Retriever(model_for(graph, None), graph)
    with caplog.at_level(logging.INFO, logger="mmgraph.retrieval"):
        found = retriever.search(QUERIES, k=1, source="text", target="image")
    assert found.space == "linear CCA of the encoder outputs"
    assert "without a coordination loss" in caplog.text and "12 training nodes" in caplog.text
    assert torch.equal(found.index[:, 0], PARTNER[HALF:])
    # Image -> text: the way back.
    back = retriever.search(PARTNER[HALF:].tolist(), k=1, source="image", target="text")
    assert back.index[:, 0].tolist() == QUERIES


def test_errors_are_clear(cosine_retriever: Retriever) -> None:
    r = cosine_retriever
    cases = [
        (lambda: r.search(1, k=0, source="text"), "'k' to be an int >= 1"),
        (lambda: r.search([], source="text"), "holds no node"),
        (lambda: r.search(N, source="text"), f"Unknown node index {N}"),
        (lambda: r.search(1), "Node queries need their modality"),
        (lambda: r.search(1, source="text", target="attributes"), "no 'attributes' modality"),
        (lambda: r.search("a cat"), "needs the encoder"),
        (lambda: r.search("  "), "query is empty"),
        (lambda: r.search({}), "attribute query is empty"),
        (lambda: r.search("a cat", source="attributes"), "a text query but source="),
        (lambda: r.node_index("nope"), "Unknown node id 'nope'"),
        (lambda: Retriever(r.model, r.graph, metric="l1"), "Unknown retrieval metric"),
    ]
    for call, message in cases:
        with pytest.raises(InputError, match=message):
            call()


def test_a_node_without_the_source_modality_is_refused() -> None:
    graph = planted()
    graph.text_present = graph.text_present.clone()
    graph.text_present[6] = False
    retriever = Retriever(model_for(graph, "cosine"), graph)
    with pytest.raises(InputError, match=r"Node 6 \(n6\) has no text.*\['image'\]"):
        retriever.search(6, source="text", target="image")
    found = retriever.search(1, k=N, source="image", target="text")
    assert 6 not in found.index[0].tolist()  # nodes without the target are not in the gallery
