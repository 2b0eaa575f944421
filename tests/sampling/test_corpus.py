"""Walk corpora: window pairs, walks with their negatives, epochs of walk batches."""

from __future__ import annotations

import pytest
import torch

from mmgraph.data import make_undirected
from mmgraph.sampling import CSRGraph, WalkBatch, WalkLoader, WalkSampler, window_pairs

# A path 0-1-2-3-4 plus a triangle 4-5-6 and an isolated node 7.
EDGES = torch.tensor([[0, 1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 4]])
NUM_NODES = 8


def csr() -> CSRGraph:
    edge_index, _, _ = make_undirected(EDGES, NUM_NODES)
    return CSRGraph.from_edge_index(edge_index, NUM_NODES)


def naive_pairs(walks: torch.Tensor, context_size: int) -> list[tuple[int, int]]:
    pairs = []
    for walk in walks.tolist():
        for j in range(len(walk) - context_size + 1):
            window = walk[j : j + context_size]
            pairs += [(window[0], o) for o in window[1:] if window[0] >= 0 and o >= 0]
    return pairs


def test_window_pairs_match_the_windows_of_a_hand_written_walk() -> None:
    walks = torch.tensor([[0, 1, 2, 3], [4, 5, -1, -1], [6, -1, -1, -1]])
    pairs = window_pairs(walks, context_size=3)
    assert pairs.t().tolist() == [[0, 1], [0, 2], [1, 2], [1, 3], [4, 5]]
    assert pairs.t().tolist() == [list(p) for p in naive_pairs(walks, 3)]


def test_window_pairs_match_the_naive_windows_on_random_walks() -> None:
    walks = torch.randint(-1, 20, (30, 9), generator=torch.Generator().manual_seed(0))
    for c in (2, 4, 9):
        assert window_pairs(walks, c).t().tolist() == [list(p) for p in naive_pairs(walks, c)]


def test_window_pairs_validate_their_input() -> None:
    walks = torch.zeros(2, 4, dtype=torch.long)
    with pytest.raises(ValueError, match="at least 'context_size' = 5 nodes"):
        window_pairs(walks, 5)
    with pytest.raises(ValueError, match="'context_size' to be at least 2"):
        window_pairs(walks, 1)
    with pytest.raises(TypeError, match="integer type"):
        window_pairs(walks.float(), 2)
    with pytest.raises(ValueError, match="2 dimensions"):
        window_pairs(walks.view(-1), 2)


def test_walk_sampler_shapes_and_seed() -> None:
    sampler = WalkSampler(csr(), 6, 3, walks_per_node=2, num_negatives=4, seed=0)
    batch = sampler.sample(torch.tensor([0, 7, 4]))
    assert isinstance(batch, WalkBatch)
    assert batch.walks.shape == (6, 7) and batch.negatives.shape == (6, 5, 4)
    assert batch.walks[:, 0].tolist() == [0, 7, 4, 0, 7, 4]
    assert batch.walks[1, 1:].eq(-1).all()  # the isolated node
    again = WalkSampler(csr(), 6, 3, walks_per_node=2, num_negatives=4, seed=0)
    other = again.sample(torch.tensor([0, 7, 4]))
    assert torch.equal(other.walks, batch.walks) and torch.equal(other.negatives, batch.negatives)
    assert "context_size=3" in repr(sampler) and "walk_length=6" in repr(sampler)
    with pytest.raises(ValueError, match="at least 'context_size' = 8 nodes"):
        WalkSampler(csr(), 6, 8)
    with pytest.raises(ValueError, match="'num_negatives' to be at least 1"):
        WalkSampler(csr(), 6, 3, num_negatives=-1)


def test_walk_loader_walks_from_every_node_each_epoch() -> None:
    sampler = WalkSampler(csr(), 4, 3, walks_per_node=3, seed=1)
    loader = WalkLoader(sampler, batch_size=3)
    assert len(loader) == 3
    first = [b.walks[:, 0] for b in loader]
    second = [b.walks[:, 0] for b in loader]
    for epoch in (first, second):
        starts = torch.cat(epoch)
        assert torch.bincount(starts, minlength=NUM_NODES).tolist() == [3] * NUM_NODES
    assert not all(torch.equal(a, b) for a, b in zip(first, second))  # reshuffled
    only = WalkLoader(sampler, batch_size=8, start=torch.tensor([2, 5]))
    assert [set(b.walks[:, 0].tolist()) for b in only] == [{2, 5}]
    with pytest.raises(ValueError, match="'batch_size' to be at least 1"):
        WalkLoader(sampler, batch_size=0)
