from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import chisquare

from mmgraph.data import make_undirected
from mmgraph.embedding import SkipGramEmbedding
from mmgraph.objectives import (
    NegativeSampler,
    SkipGramObjective,
    WalkBatch,
    WalkLoader,
    WalkSampler,
    skipgram_loss,
    walk_skipgram_loss,
    window_pairs,
)
from mmgraph.sampling import CSRGraph

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


def naive_loss(center, context, negatives) -> float:
    # -log sigmoid(x) = log(1 + exp(-x)), written out.
    total = 0.0
    for u, v, ns in zip(center.tolist(), context.tolist(), negatives.tolist()):
        dot = sum(a * b for a, b in zip(u, v))
        total += math.log1p(math.exp(-dot))
        for n in ns:
            total += math.log1p(math.exp(sum(a * b for a, b in zip(u, n))))
    return total / len(center)


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


def test_skipgram_loss_is_the_closed_form() -> None:
    gen = torch.Generator().manual_seed(1)
    center, context = torch.randn(6, 4, generator=gen), torch.randn(6, 4, generator=gen)
    negatives = torch.randn(6, 3, 4, generator=gen)
    loss = skipgram_loss(center, context, negatives)
    assert loss.item() == pytest.approx(naive_loss(center, context, negatives), rel=1e-5)
    # Integer weights repeat pairs.
    weight = torch.tensor([1.0, 2.0, 0.0, 1.0, 3.0, 1.0])
    repeat = weight.long()
    expected = naive_loss(
        center.repeat_interleave(repeat, 0),
        context.repeat_interleave(repeat, 0),
        negatives.repeat_interleave(repeat, 0),
    )
    assert skipgram_loss(center, context, negatives, weight).item() == pytest.approx(
        expected, rel=1e-5
    )


def test_skipgram_loss_validates_shapes() -> None:
    x = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="same shape"):
        skipgram_loss(x, torch.zeros(2, 4), torch.zeros(3, 1, 4))
    with pytest.raises(ValueError, match=r"shape \[3, K, 4\]"):
        skipgram_loss(x, x, torch.zeros(3, 4))
    with pytest.raises(ValueError, match="'weight'"):
        skipgram_loss(x, x, torch.zeros(3, 1, 4), torch.ones(2))


@pytest.mark.parametrize("two_tables", [False, True])
def test_walk_loss_equals_the_pair_loss_and_its_gradient(two_tables: bool) -> None:
    gen = torch.Generator().manual_seed(2)
    n, d, c, k = 12, 5, 4, 3
    walks = torch.randint(0, n, (7, 8), generator=gen)
    walks[2, 5:] = -1  # dead ends
    walks[4, 1:] = -1
    negatives = torch.randint(0, n, (7, 8 - c + 1, k), generator=gen)
    center = torch.randn(n, d, generator=gen, requires_grad=True)
    context = torch.randn(n, d, generator=gen, requires_grad=True) if two_tables else None
    loss = walk_skipgram_loss(walks, negatives, center, context, c)
    grads = torch.autograd.grad(loss, [center] + ([context] if two_tables else []))

    # The same pairs, one by one, each with its window's negatives.
    ctx = center if context is None else context
    rows, wins, cols = [], [], []
    for b in range(walks.size(0)):
        for j in range(walks.size(1) - c + 1):
            for o in range(1, c):
                if walks[b, j] >= 0 and walks[b, j + o] >= 0:
                    rows.append(walks[b, j])
                    cols.append(walks[b, j + o])
                    wins.append(negatives[b, j])
    expected = skipgram_loss(
        center[torch.stack(rows)], ctx[torch.stack(cols)], ctx[torch.stack(wins)]
    )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    expected_grads = torch.autograd.grad(expected, [center] + ([context] if two_tables else []))
    for got, want in zip(grads, expected_grads):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)


def test_walk_loss_of_walks_without_pairs_is_zero() -> None:
    center = torch.randn(3, 2, requires_grad=True)
    walks = torch.tensor([[0, -1, -1], [2, -1, -1]])
    loss = walk_skipgram_loss(walks, torch.zeros(2, 2, 1, dtype=torch.long), center, None, 2)
    loss.backward()
    assert loss.item() == 0.0 and center.grad is not None and not center.grad.any()


def test_walk_loss_validates_its_input() -> None:
    center = torch.zeros(5, 2)
    walks = torch.zeros(2, 4, dtype=torch.long)
    with pytest.raises(ValueError, match=r"'negatives' to have shape \[2, 3, K\]"):
        walk_skipgram_loss(walks, torch.zeros(2, 2, 1, dtype=torch.long), center, None, 2)
    with pytest.raises(ValueError, match="shape of 'center'"):
        negatives = torch.zeros(2, 3, 1, dtype=torch.long)
        walk_skipgram_loss(walks, negatives, center, torch.zeros(5, 3), 2)
    with pytest.raises(TypeError, match="'negatives' to be of integer type"):
        walk_skipgram_loss(walks, torch.zeros(2, 3, 1), center, None, 2)


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
    with pytest.raises(ValueError, match="'num_negatives' to be at least 0"):
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


def test_skipgram_objective_looks_up_only_the_batch_rows() -> None:
    model = SkipGramEmbedding(NUM_NODES, 4, seed=0)
    torch.nn.init.normal_(model.context.weight, generator=torch.Generator().manual_seed(0))
    batch = WalkSampler(csr(), 5, 3, num_negatives=2, seed=3).sample(torch.tensor([0, 1, 7]))
    loss = SkipGramObjective(3)(model, batch)
    expected = walk_skipgram_loss(
        batch.walks, batch.negatives, model.center.weight, model.context.weight, 3
    )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    grad = model.center.weight.grad
    assert grad is not None and grad.is_sparse
    used = set(batch.walks[batch.walks >= 0].tolist())
    assert set(grad.coalesce().indices()[0].tolist()) <= used | set(
        batch.negatives.view(-1).tolist()
    )
    assert repr(SkipGramObjective(3)) == "SkipGramObjective(context_size=3)"
