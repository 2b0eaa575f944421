"""RowSparseAdam makes torch.optim.SparseAdam's updates, bit for bit."""

from __future__ import annotations

import pytest
import torch

from mmgraph.train import TrainConfig, Trainer
from mmgraph.train.sparse_adam import RowSparseAdam


def _train(cls: type, steps: int = 6, maximize: bool = False, **options) -> tuple:
    torch.manual_seed(0)
    tables = torch.nn.ModuleList([torch.nn.Embedding(50, 8, sparse=True) for _ in range(2)])
    optimizer = cls(tables.parameters(), lr=0.05, maximize=maximize, **options)
    gen = torch.Generator().manual_seed(1)
    for step in range(steps):
        optimizer.zero_grad()
        rows = torch.randint(0, 50, (30,), generator=gen)  # repeated rows: coalesced
        loss = tables[0](rows).pow(2).sum()
        if step % 2 == 0:  # the second table has no gradient every other step
            loss = loss + tables[1](rows[:5]).sin().sum()
        loss.backward()
        optimizer.step()
    return [t.weight.detach().clone() for t in tables], optimizer


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("options", [{}, {"betas": (0.8, 0.95), "eps": 1e-6}])
def test_the_updates_equal_sparse_adams_bit_for_bit(maximize, options):
    expected, reference = _train(torch.optim.SparseAdam, maximize=maximize, **options)
    got, optimizer = _train(RowSparseAdam, maximize=maximize, **options)
    for want, have in zip(expected, got, strict=True):
        assert torch.equal(want, have)
    for p_ref, p_new in zip(reference.state.values(), optimizer.state.values(), strict=True):
        assert p_ref["step"] == p_new["step"]
        assert torch.equal(p_ref["exp_avg"], p_new["exp_avg"])
        assert torch.equal(p_ref["exp_avg_sq"], p_new["exp_avg_sq"])
    assert [s["step"] for s in optimizer.state.values()] == [6, 3]


def test_a_state_saved_by_either_loads_in_the_other():
    _, reference = _train(torch.optim.SparseAdam, steps=3)
    _, optimizer = _train(RowSparseAdam, steps=3)
    optimizer.load_state_dict(reference.state_dict())
    reference.load_state_dict(optimizer.state_dict())
    assert optimizer.state_dict()["state"][0]["step"] == 3


def test_a_closure_is_evaluated_and_its_loss_returned():
    table = torch.nn.Embedding(4, 2, sparse=True)
    optimizer = RowSparseAdam(table.parameters(), lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = table(torch.tensor([0, 2])).sum()
        loss.backward()
        return loss

    before = table.weight.detach().clone()
    loss = optimizer.step(closure)
    assert isinstance(loss, torch.Tensor)
    changed = (table.weight.detach() != before).any(dim=1)
    assert changed.tolist() == [True, False, True, False]


def test_a_dense_gradient_gets_torchs_own_error():
    weight = torch.nn.Parameter(torch.zeros(3, 2))
    optimizer = RowSparseAdam([weight], lr=0.1)
    weight.sum().backward()
    with pytest.raises(RuntimeError, match="dense gradients"):
        optimizer.step()


def test_the_trainers_sparse_adam_is_row_sparse_adam():
    model = torch.nn.Embedding(5, 3, sparse=True)
    optimizer = Trainer(model, TrainConfig(optimizer="sparse_adam")).make_optimizer()
    assert isinstance(optimizer, RowSparseAdam)
