"""The skip-gram losses: closed forms, the vectorised walk loss, the table objective."""

from __future__ import annotations

import math

import pytest
import torch

from mmgraph.data import make_undirected
from mmgraph.embedding import SkipGramEmbedding
from mmgraph.objectives import SkipGramObjective, skipgram_loss, walk_skipgram_loss
from mmgraph.sampling import CSRGraph, WalkSampler

# A path 0-1-2-3-4 plus a triangle 4-5-6 and an isolated node 7.
EDGES = torch.tensor([[0, 1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6, 4]])
NUM_NODES = 8


def csr() -> CSRGraph:
    edge_index, _, _ = make_undirected(EDGES, NUM_NODES)
    return CSRGraph.from_edge_index(edge_index, NUM_NODES)


def naive_loss(center, context, negatives) -> float:
    # -log sigmoid(x) = log(1 + exp(-x)), written out.
    total = 0.0
    for u, v, ns in zip(center.tolist(), context.tolist(), negatives.tolist()):
        dot = sum(a * b for a, b in zip(u, v))
        total += math.log1p(math.exp(-dot))
        for n in ns:
            total += math.log1p(math.exp(sum(a * b for a, b in zip(u, n))))
    return total / len(center)


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
