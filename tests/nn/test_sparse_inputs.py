"""Sparse CSR inputs (a bag of words): each sparse computation against the dense one."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
import torch.nn.functional as F

from mmgraph.nn import GCNConv, GNNStack, MeanConv
from mmgraph.nn.functional import (
    TensorCache,
    csr_from_dense,
    csr_tensor,
    dropout,
    fill_rows,
    hstack,
    is_sparse,
    row_prefix,
    sparse_linear,
)
from mmgraph.seed import seed_everything

EDGES = torch.tensor([[0, 0, 0, 1, 2, 3, 4, 5], [1, 2, 3, 0, 0, 0, 5, 4]])
TYPES = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])


def bag_of_words(n: int = 6, f: int = 9, seed: int = 0) -> torch.Tensor:
    """A mostly-zero ``[n, f]`` matrix; row 2 all NaN (absent), one NaN entry, one inf."""
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, f, generator=gen) < 0.3).float() * torch.rand(n, f, generator=gen)
    x[2] = float("nan")
    x[0, 1] = float("nan")
    x[4, 3] = float("inf")
    return x


def test_csr_from_dense_equals_nan_to_num() -> None:
    x = bag_of_words()
    csr, all_nan = csr_from_dense(x)
    assert is_sparse(csr)
    assert torch.equal(csr.to_dense(), torch.nan_to_num(x, nan=0.0, posinf=torch.inf))
    assert torch.equal(all_nan, torch.isnan(x).all(dim=1))
    assert not bool(torch.isnan(csr.values()).any())
    assert bool((csr.values() != 0).all())  # only non-zero values are stored


def test_csr_from_dense_of_some_rows_equals_the_others_zeroed_first() -> None:
    x = bag_of_words()
    rows = torch.tensor([True, False, True, True, False, True])
    csr, all_nan = csr_from_dense(x, rows=rows)
    zeroed = torch.nan_to_num(x.masked_fill(~rows[:, None], 0.0), nan=0.0, posinf=torch.inf)
    assert torch.equal(csr.to_dense(), zeroed)
    assert torch.equal(all_nan, torch.isnan(x).all(dim=1))  # of every row, as without rows
    assert bool((csr.values() != 0).all())


def test_sparse_linear_equals_dense_with_gradients() -> None:
    seed_everything(0)
    x = torch.nan_to_num(bag_of_words(), nan=0.0, posinf=3.0)
    csr = x.to_sparse_csr()
    values = csr.values().clone().requires_grad_(True)
    weight = torch.randn(4, 9, requires_grad=True)
    bias = torch.randn(4, requires_grad=True)
    sparse_x = csr_tensor(csr.crow_indices(), csr.col_indices(), values, x.shape)
    out = sparse_linear(sparse_x, weight, bias)
    dense_x = x.clone().requires_grad_(True)
    ref = F.linear(dense_x, weight, bias)
    torch.testing.assert_close(out, ref)
    grad = torch.randn_like(ref)
    g_values, g_weight, g_bias = torch.autograd.grad(out, [values, weight, bias], grad)
    r_x, r_weight, r_bias = torch.autograd.grad(ref, [dense_x, weight, bias], grad)
    torch.testing.assert_close(g_weight, r_weight)
    torch.testing.assert_close(g_bias, r_bias)
    row = torch.repeat_interleave(torch.arange(x.size(0)), csr.crow_indices().diff())
    torch.testing.assert_close(g_values, r_x[row, csr.col_indices()])  # at the stored entries


def test_sparse_linear_refuses_dense_input() -> None:
    with pytest.raises(TypeError, match="sparse CSR"):
        sparse_linear(torch.zeros(2, 3), torch.zeros(4, 3))


def test_fill_rows_equals_where_and_reaches_the_vector() -> None:
    x = torch.nan_to_num(bag_of_words(), nan=0.0, posinf=3.0)
    present = torch.tensor([True, True, False, True, False, True])
    vector = torch.randn(9, generator=torch.Generator().manual_seed(1), requires_grad=True)
    filled = fill_rows(x.to_sparse_csr(), present, vector)
    ref = torch.where(present[:, None], x, vector)
    torch.testing.assert_close(filled.to_dense(), ref)
    weight = torch.randn(3, 9)
    (g_sparse,) = torch.autograd.grad(sparse_linear(filled, weight).pow(2).sum(), vector)
    (g_dense,) = torch.autograd.grad(F.linear(ref, weight).pow(2).sum(), vector)
    torch.testing.assert_close(g_sparse, g_dense)


def test_hstack_equals_cat_with_gradients_to_every_part() -> None:
    x = torch.nan_to_num(bag_of_words(), nan=0.0, posinf=3.0)
    csr = x.to_sparse_csr()
    values = csr.values().clone().requires_grad_(True)
    sparse_x = csr_tensor(csr.crow_indices(), csr.col_indices(), values, x.shape)
    gen = torch.Generator().manual_seed(2)
    left = torch.randn(6, 2, generator=gen, requires_grad=True)
    right = torch.randn(6, 3, generator=gen, requires_grad=True)
    out = hstack([left, sparse_x, right])
    assert is_sparse(out)
    dense_x = x.clone().requires_grad_(True)
    ref = torch.cat([left, dense_x, right], dim=1)
    torch.testing.assert_close(out.to_dense(), ref)
    # a row's entries in column order, as a CSR tensor's must be
    row = torch.repeat_interleave(torch.arange(6), out.crow_indices().diff())
    order = row * out.size(1) + out.col_indices()
    assert bool((order.diff() > 0).all())
    weight = torch.randn(4, 14, generator=gen)
    g_out = torch.autograd.grad(sparse_linear(out, weight).pow(2).sum(), [values, left, right])
    g_ref = torch.autograd.grad(F.linear(ref, weight).pow(2).sum(), [dense_x, left, right])
    stored = torch.repeat_interleave(torch.arange(6), csr.crow_indices().diff())
    torch.testing.assert_close(g_out[0], g_ref[0][stored, csr.col_indices()])
    torch.testing.assert_close(g_out[1], g_ref[1])
    torch.testing.assert_close(g_out[2], g_ref[2])


def test_hstack_structure_is_computed_once_per_structure() -> None:
    csr = torch.nan_to_num(bag_of_words(), nan=0.0, posinf=3.0).to_sparse_csr()
    first = hstack([csr, torch.ones(6, 2)])
    again = hstack([csr, torch.zeros(6, 2)])
    assert again.col_indices().data_ptr() == first.col_indices().data_ptr()
    wider = hstack([csr, torch.ones(6, 3)])
    assert wider.shape == (6, 12)
    torch.testing.assert_close(wider.to_dense()[:, 9:], torch.ones(6, 3))


def test_hstack_refuses_parts_of_other_lengths() -> None:
    with pytest.raises(ValueError, match="6 rows each"):
        hstack([torch.zeros(6, 2).to_sparse_csr(), torch.zeros(5, 2)])
    with pytest.raises(ValueError, match="at least one"):
        hstack([])


def test_sparse_dropout_drops_stored_values_only() -> None:
    seed_everything(0)
    x = torch.nan_to_num(bag_of_words(40, 50), nan=0.0, posinf=3.0)
    csr = x.to_sparse_csr()
    out = dropout(csr, p=0.5)
    assert is_sparse(out)
    assert torch.equal(out.col_indices(), csr.col_indices())
    # Each stored value is dropped or scaled by 1 / (1 - p): a dense dropout with some mask.
    kept = out.values() != 0
    torch.testing.assert_close(out.values()[kept], 2 * csr.values()[kept])
    assert dropout(csr, p=0.5, training=False) is csr
    # Same distribution as dense dropout: unbiased, keeps a fraction 1 - p.
    draws = torch.stack([dropout(csr, p=0.5).values() for _ in range(400)])
    assert abs(float((draws != 0).float().mean()) - 0.5) < 0.02
    ratio = draws.mean(0) / csr.values()  # 1 in expectation, standard deviation 0.05
    assert float((ratio - 1).abs().max()) < 0.25
    assert abs(float(ratio.mean()) - 1) < 0.02


def test_sparse_dropout_gradient_uses_the_same_mask() -> None:
    seed_everything(0)
    x = torch.nan_to_num(bag_of_words(), nan=0.0, posinf=3.0)
    present = torch.tensor([True, True, False, True, True, True])
    vector = torch.randn(9, requires_grad=True)
    dropped = dropout(fill_rows(x.to_sparse_csr(), present, vector), p=0.3)
    weight = torch.randn(4, 9)
    (grad,) = torch.autograd.grad(sparse_linear(dropped, weight).sum(), vector)
    # Dense computation with the mask the sparse dropout drew (row 2 stores every column).
    scale = dropped.values()[dropped.crow_indices()[2] : dropped.crow_indices()[3]] / vector
    dense = torch.where(present[:, None], x, vector * scale.detach())
    (ref,) = torch.autograd.grad(F.linear(dense, weight).sum(), vector)
    torch.testing.assert_close(grad, ref)


def test_row_prefix() -> None:
    x = torch.nan_to_num(bag_of_words(), nan=0.0, posinf=3.0)
    assert torch.equal(row_prefix(x.to_sparse_csr(), 4).to_dense(), x[:4])
    assert torch.equal(row_prefix(x, 4), x[:4])


def _pair(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    dense = torch.nan_to_num(x, nan=0.0, posinf=3.0)
    return dense, dense.to_sparse_csr()


@pytest.mark.parametrize("cls", [GCNConv, MeanConv])
@pytest.mark.parametrize("num_relations", [1, 2])
@pytest.mark.parametrize("num_targets", [None, 2])
def test_layer_sparse_input_equals_dense(cls: type, num_relations: int, num_targets: int) -> None:
    seed_everything(0)
    dense, sparse = _pair(bag_of_words())
    conv = cls(9, 4, num_relations=num_relations)
    edges, types = EDGES, TYPES if num_relations > 1 else None
    if num_targets is not None:
        keep = edges[1] < num_targets
        edges, types = edges[:, keep], None if types is None else types[keep]
    kwargs = {"num_targets": num_targets}
    out_sparse = conv(sparse, edges, types, **kwargs)
    out_dense = conv(dense, edges, types, **kwargs)
    torch.testing.assert_close(out_sparse, out_dense)
    params = [p for p in conv.parameters()]
    grads_sparse = torch.autograd.grad(out_sparse.pow(2).sum(), params)
    grads_dense = torch.autograd.grad(out_dense.pow(2).sum(), params)
    for a, b in zip(grads_sparse, grads_dense):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("aggregator", ["gcn", "mean", "ggnn", "gin"])
def test_stack_sparse_input_equals_dense(aggregator: str) -> None:
    seed_everything(0)
    dense, sparse = _pair(bag_of_words())
    stack = GNNStack(aggregator, 9, 5, num_layers=2)
    out_sparse = stack(sparse, EDGES)
    out_dense = stack(dense, EDGES)
    torch.testing.assert_close(out_sparse, out_dense)
    params = list(stack.parameters())
    for a, b in zip(
        torch.autograd.grad(out_sparse.sum(), params, allow_unused=True),
        torch.autograd.grad(out_dense.sum(), params, allow_unused=True),
    ):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(a, b)


def test_stack_trimmed_sparse_input_equals_dense() -> None:
    seed_everything(0)
    dense, sparse = _pair(bag_of_words())
    stack = GNNStack("gcn", 9, 5, num_layers=2)
    # Hops: seeds {0}, then {1, 2, 3}, then {4, 5}; edges into hop 0, then into hop 1.
    edges = torch.tensor([[1, 2, 3, 4, 5], [0, 0, 0, 1, 2]])
    sizes = {"num_sampled_nodes": [1, 3, 2], "num_sampled_edges": [3, 2]}
    torch.testing.assert_close(stack(sparse, edges, **sizes), stack(dense, edges, **sizes))


def test_tensor_cache_invalidates_on_change() -> None:
    cache = TensorCache(size=2)
    a = torch.zeros(3)
    cache.put([a], "zeros")
    assert cache.get([a]) == "zeros"
    assert cache.get([a.clone()]) is None  # another tensor, the same values
    a.add_(1)  # in place: a new version
    assert cache.get([a]) is None
    cache.put([a], "ones")
    cache.put([torch.ones(2)], "x")
    cache.put([torch.ones(2)], "y")  # evicts the least recently used
    assert cache.get([a]) is None
    assert copy.deepcopy(cache).entries == []
    assert pickle.loads(pickle.dumps(cache)).entries == []


def test_tensor_cache_computes_once_and_remembers_none() -> None:
    cache, calls, a = TensorCache(size=2), [], torch.zeros(3)
    for _ in range(3):
        assert cache.get_or_compute([a], lambda: calls.append(1)) is None
    assert calls == [1]  # None is a value too: computed once
