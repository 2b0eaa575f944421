"""WalkOptions: one set of walk settings for both node2vec routes, checked on creation."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from mmgraph.data import make_undirected
from mmgraph.embedding import Node2Vec
from mmgraph.objectives import Node2VecObjective
from mmgraph.resolver import UnknownNameError
from mmgraph.sampling import GNN_WALKS, SHALLOW_WALKS, CSRGraph, WalkOptions, WalkSampler


def test_the_two_routes_defaults() -> None:
    # The values documented by the CLI and the README.
    assert (SHALLOW_WALKS.walk_length, SHALLOW_WALKS.context_size) == (20, 10)
    assert (SHALLOW_WALKS.walks_per_node, SHALLOW_WALKS.num_negatives) == (10, 1)
    assert (GNN_WALKS.walk_length, GNN_WALKS.context_size) == (10, 5)
    assert (GNN_WALKS.walks_per_node, GNN_WALKS.num_negatives) == (1, 1)
    assert WalkOptions() == SHALLOW_WALKS
    assert Node2Vec().walk_options == SHALLOW_WALKS
    assert Node2VecObjective().walks == GNN_WALKS
    assert SHALLOW_WALKS.to_dict() == {
        "walk_length": 20,
        "context_size": 10,
        "walks_per_node": 10,
        "num_negatives": 1,
        "p": 1.0,
        "q": 1.0,
        "negative_distribution": "uniform",
        "weighted": True,
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        SHALLOW_WALKS.walk_length = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"walk_length": -1}, ValueError, "'walk_length' to be at least 0"),
        ({"walk_length": 2.5}, TypeError, "'walk_length' to be an int"),
        ({"walk_length": 4, "context_size": 8}, ValueError, "at least 'context_size' = 8 nodes"),
        ({"context_size": 1}, ValueError, "'context_size' to be at least 2"),
        ({"walks_per_node": 0}, ValueError, "'walks_per_node' to be at least 1"),
        ({"walks_per_node": True}, TypeError, "'walks_per_node' to be an int"),
        ({"num_negatives": -1}, ValueError, "'num_negatives' to be at least 1"),
        ({"num_negatives": 0}, ValueError, "only pulls the nodes of a walk together"),
        ({"p": 0.0}, ValueError, "'p' to be a positive, finite float"),
        ({"q": float("inf")}, ValueError, "'q' to be a positive, finite float"),
        ({"q": "1"}, TypeError, "'q' to be a float"),
        ({"negative_distribution": "zipf"}, ValueError, "Unknown negative distribution 'zipf'"),
    ],
)
def test_bad_values_raise_clear_errors(settings: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        WalkOptions(**settings)
    # Both routes check their walk settings the same way, on creation.
    with pytest.raises(error, match=message):
        Node2Vec(**settings)
    with pytest.raises(error, match=message):
        Node2VecObjective(**settings)


def test_an_unknown_distribution_is_an_unknown_name() -> None:
    with pytest.raises(UnknownNameError, match=r"expected one of \['uniform', 'unigram'\]"):
        WalkOptions(negative_distribution="zipf")


def test_a_sampler_from_options_equals_one_from_arguments() -> None:
    edge_index, _, _ = make_undirected(torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]]), 5)
    csr = CSRGraph.from_edge_index(edge_index, 5)
    options = WalkOptions(6, 3, walks_per_node=2, num_negatives=4, p=0.5, q=2.0)
    a = WalkSampler.from_options(csr, options, seed=0).sample(torch.arange(5))
    b = WalkSampler(csr, 6, 3, 2, 4, p=0.5, q=2.0, seed=0).sample(torch.arange(5))
    assert torch.equal(a.walks, b.walks) and torch.equal(a.negatives, b.negatives)
