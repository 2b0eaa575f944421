from __future__ import annotations

import pytest
import torch

from mmgraph.embedding import SkipGramEmbedding


def test_parameters_counted_by_hand() -> None:
    model = SkipGramEmbedding(10, 4)
    assert sum(p.numel() for p in model.parameters()) == 2 * 10 * 4
    shared = SkipGramEmbedding(10, 4, shared=True)
    assert sum(p.numel() for p in shared.parameters()) == 10 * 4


def test_initialisation_is_word2vec_and_seeded() -> None:
    model = SkipGramEmbedding(50, 8, seed=3)
    assert model.center.weight.abs().max() <= 0.5 / 8
    assert model.center.weight.std() > 0
    assert model.context is not None and not model.context.weight.any()
    again = SkipGramEmbedding(50, 8, seed=3)
    assert torch.equal(again.center.weight, model.center.weight)
    before = torch.get_rng_state()
    SkipGramEmbedding(50, 8, seed=None)
    assert torch.equal(torch.get_rng_state(), before)  # the global generator is untouched
    shared = SkipGramEmbedding(50, 8, shared=True, seed=0)
    assert shared.center.weight.abs().max() <= 8**-0.5


def test_lookups_encode_and_reset() -> None:
    model = SkipGramEmbedding(6, 3, seed=0)
    ids = torch.tensor([4, 1])
    torch.testing.assert_close(model(ids), model.center.weight[ids])
    torch.testing.assert_close(model.center_embedding(ids), model.center.weight[ids])
    assert model.context is not None
    torch.testing.assert_close(model.context_embedding(ids), model.context.weight[ids])
    assert model.encode() is model.center.weight
    with torch.no_grad():
        model.center.weight.fill_(1.0)
    model.reset_parameters()
    torch.testing.assert_close(model.center.weight, SkipGramEmbedding(6, 3, seed=0).center.weight)
    shared = SkipGramEmbedding(6, 3, shared=True)
    torch.testing.assert_close(shared.context_embedding(ids), shared.center_embedding(ids))


def test_sparse_gradients() -> None:
    model = SkipGramEmbedding(6, 3)
    model(torch.tensor([1, 2])).sum().backward()
    assert model.center.weight.grad is not None and model.center.weight.grad.is_sparse
    dense = SkipGramEmbedding(6, 3, sparse=False)
    dense(torch.tensor([1])).sum().backward()
    assert dense.center.weight.grad is not None and not dense.center.weight.grad.is_sparse


def test_state_dict_round_trip_and_to() -> None:
    model = SkipGramEmbedding(7, 2, seed=1)
    with torch.no_grad():
        model.context.weight.normal_(generator=torch.Generator().manual_seed(0))  # type: ignore[union-attr]
    other = SkipGramEmbedding(7, 2, seed=2)
    other.load_state_dict(model.state_dict())
    for a, b in zip(model.parameters(), other.parameters()):
        assert torch.equal(a, b)
    moved = model.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in moved.parameters())


def test_repr_and_validation() -> None:
    assert repr(SkipGramEmbedding(7, 2)) == "SkipGramEmbedding(7, 2, shared=False, sparse=True)"
    with pytest.raises(ValueError, match="'embedding_dim' to be an int >= 1"):
        SkipGramEmbedding(7, 0)
    with pytest.raises(TypeError, match="'num_nodes' to be an int >= 1"):
        SkipGramEmbedding(True, 2)  # type: ignore[arg-type]
