"""Negative samplers: uniform and unigram^0.75 draws, counts from graphs and walks."""

from __future__ import annotations

import pytest
import torch
from scipy.stats import chisquare

from mmgraph.data import make_undirected
from mmgraph.sampling import CSRGraph, NegativeSampler

# A path 0-1-2-3-4 plus a triangle 4-5-6 and an isolated node 7.
EDGES = torch.tensor([[0, 1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 4]])
NUM_NODES = 8


def csr() -> CSRGraph:
    edge_index, _, _ = make_undirected(EDGES, NUM_NODES)
    return CSRGraph.from_edge_index(edge_index, NUM_NODES)


def test_uniform_negatives_are_uniform_and_seeded() -> None:
    sampler = NegativeSampler(10, seed=0)
    draws = sampler.sample(20_000)
    assert draws.dtype == torch.long and draws.shape == (20_000,)
    counts = torch.bincount(draws, minlength=10)
    assert chisquare(counts.numpy()).pvalue > 1e-3
    assert torch.equal(NegativeSampler(10, seed=0).sample(20_000), draws)
    assert torch.allclose(sampler.probs, torch.full((10,), 0.1, dtype=torch.float64))


def test_unigram_negatives_follow_degree_to_the_power_three_quarters() -> None:
    graph = csr()
    sampler = NegativeSampler.from_graph(graph, "unigram", seed=0)
    expected = graph.degree.double().pow(0.75)
    expected /= expected.sum()
    torch.testing.assert_close(sampler.probs, expected)
    assert sampler.probs[7] == 0  # the isolated node is never a negative
    draws = sampler.sample(40, 1000)
    counts = torch.bincount(draws.view(-1), minlength=NUM_NODES)
    assert counts[7] == 0
    observed, probs = counts[:7].numpy(), expected[:7].numpy()
    assert chisquare(observed, probs * observed.sum()).pvalue > 1e-3


def test_weighted_unigram_counts_sum_the_edge_weights() -> None:
    edge_index = torch.tensor([[0, 0, 1, 2], [1, 2, 0, 0]])
    weights = torch.tensor([1.0, 3.0, 1.0, 3.0])
    graph = CSRGraph.from_edge_index(edge_index, 3, edge_weight=weights)
    sampler = NegativeSampler.from_graph(graph, "unigram", power=1.0)
    torch.testing.assert_close(
        sampler.probs, torch.tensor([0.5, 0.125, 0.375], dtype=torch.float64)
    )
    unweighted = NegativeSampler.from_graph(graph, "unigram", power=1.0, weighted=False)
    torch.testing.assert_close(
        unweighted.probs, torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    )


def test_unigram_counts_from_walks() -> None:
    walks = torch.tensor([[0, 1, 1, -1], [3, 1, 0, 0]])
    sampler = NegativeSampler.from_walks(walks, 5, power=1.0)
    torch.testing.assert_close(
        sampler.probs, torch.tensor([3, 3, 0, 1, 0], dtype=torch.float64) / 7
    )
    with pytest.raises(ValueError, match="'num_nodes' is 3"):
        NegativeSampler.from_walks(walks, 3)


def test_negative_sampler_validates_its_input() -> None:
    with pytest.raises(ValueError, match="Unknown negative distribution 'zipf'"):
        NegativeSampler(5, "zipf")
    with pytest.raises(ValueError, match="needs 'counts'"):
        NegativeSampler(5, "unigram")
    with pytest.raises(ValueError, match=r"shape \[5\]"):
        NegativeSampler(5, "unigram", counts=torch.ones(4))
    with pytest.raises(ValueError, match="non-negative"):
        NegativeSampler(3, "unigram", counts=torch.tensor([1.0, -1.0, 2.0]))
    with pytest.raises(ValueError, match="All unigram counts are 0"):
        NegativeSampler(3, "unigram", counts=torch.zeros(3))
    with pytest.raises(ValueError, match="'num_nodes' to be at least 1"):
        NegativeSampler(0)
    with pytest.raises(ValueError, match="either 'seed' or 'generator'"):
        NegativeSampler(3, seed=0, generator=torch.Generator())
    assert repr(NegativeSampler(3)) == "NegativeSampler(num_nodes=3, distribution='uniform')"
