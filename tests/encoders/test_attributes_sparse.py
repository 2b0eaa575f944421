"""AttributeEncoder on a wide, mostly-zero numeric input: sparse against dense."""

from __future__ import annotations

import copy

import pytest
import torch

from mmgraph.encoders import AttributeEncoder
from mmgraph.encoders.attributes import SPARSE_MIN_COLUMNS
from mmgraph.nn.functional import is_sparse
from mmgraph.seed import seed_everything

F = SPARSE_MIN_COLUMNS + 8


def bag_of_words(n: int = 40, seed: int = 0) -> torch.Tensor:
    """``[n, F]``, 3% non-zero; rows 1 and 7 all NaN (absent), one NaN entry, one inf."""
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, F, generator=gen) < 0.03).float() * torch.rand(n, F, generator=gen)
    x[[1, 7]] = float("nan")
    x[0, 5] = float("nan")
    x[3, 2] = float("inf")
    return x


def encoder(
    out_channels: int | None, sparse_output: bool = True, **kwargs: object
) -> AttributeEncoder:
    options = {"numeric_scaling": "none", "missing_indicator": False, **kwargs}
    return AttributeEncoder(F, out_channels=out_channels, sparse_output=sparse_output, **options)  # type: ignore[arg-type]


def dense_reference(enc: AttributeEncoder, numeric: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The encoder's dense computation (its sparse path switched off on a copy)."""
    ref = copy.deepcopy(enc)
    ref.sparse_output = False
    ref.lin = enc.lin  # the same parameters
    ref.sparse_numeric = lambda numeric: None  # type: ignore[method-assign]
    return ref(numeric)


def test_sparse_output_equals_dense() -> None:
    numeric = bag_of_words()
    enc = encoder(None)
    x, present = enc(numeric)
    assert is_sparse(x)
    ref_x, ref_present = dense_reference(enc, numeric)
    assert not is_sparse(ref_x)
    assert torch.equal(x.to_dense(), ref_x)
    assert torch.equal(present, ref_present)
    assert present.tolist() == [i not in (1, 7) for i in range(40)]


def test_projection_of_sparse_input_equals_dense_with_gradients() -> None:
    seed_everything(0)
    numeric = bag_of_words()
    numeric[3, 2] = 0.5  # finite: gradients through an infinity are NaN either way
    enc = encoder(5, sparse_output=False)  # a projection: sparse inside, dense output
    x, present = enc(numeric)
    assert not is_sparse(x)
    assert enc.sparse_numeric(numeric) is not None  # the sparse path ran
    ref, ref_present = dense_reference(enc, numeric)
    torch.testing.assert_close(x, ref)
    assert torch.equal(present, ref_present)
    assert bool((x[~present] == 0).all())
    params = list(enc.parameters())
    for a, b in zip(
        torch.autograd.grad(x.pow(2).sum(), params), torch.autograd.grad(ref.pow(2).sum(), params)
    ):
        torch.testing.assert_close(a, b)


def test_conversion_is_cached_and_redone_after_a_change() -> None:
    numeric = bag_of_words()
    enc = encoder(None)
    first, _ = enc(numeric)
    again, _ = enc(numeric)
    assert again is first  # converted once
    numeric[0, 0] = 7.0  # in place: converted again
    changed, _ = enc(numeric)
    assert changed is not first
    assert float(changed.to_dense()[0, 0]) == 7.0
    rows, _ = enc(numeric[2:6])  # a batch's rows (a new tensor)
    assert torch.equal(rows.to_dense(), torch.nan_to_num(numeric[2:6], nan=0.0, posinf=torch.inf))


@pytest.mark.parametrize(
    "options",
    [
        {"numeric_scaling": "standard"},
        {"missing_indicator": True},
        {"log1p": True},
        {"cardinalities": [3]},
    ],
)
def test_inputs_needing_transformation_stay_dense(options: dict[str, object]) -> None:
    numeric = bag_of_words()
    enc = encoder(None, **options)
    enc.fit(numeric)
    categorical = torch.ones(40, 1, dtype=torch.long) if "cardinalities" in options else None
    x, _ = enc(numeric, categorical)
    assert not is_sparse(x)


def test_narrow_or_dense_inputs_stay_dense() -> None:
    narrow = AttributeEncoder(
        8, out_channels=None, numeric_scaling="none", missing_indicator=False, sparse_output=True
    )
    assert not narrow.takes_sparse
    assert not is_sparse(narrow(torch.zeros(3, 8))[0])
    enc = encoder(None)
    x, present = enc(torch.ones(4, F))
    assert not is_sparse(x)
    assert bool(present.all())
    assert not encoder(None, sparse_output=False).takes_sparse  # nothing to gain


def test_state_dict_and_copies_hold_no_cache() -> None:
    numeric = bag_of_words()
    enc = encoder(4)
    enc(numeric)
    assert set(enc.state_dict()) == {
        "numeric.mean",
        "numeric.std",
        "numeric.fitted",
        "lin.weight",
        "lin.bias",
    }
    other = encoder(4)
    other.load_state_dict(enc.state_dict())
    torch.testing.assert_close(other(numeric)[0], enc(numeric)[0])
    clone = copy.deepcopy(enc)
    assert clone._sparse_inputs.entries == []
    torch.testing.assert_close(clone(numeric)[0], enc(numeric)[0])


def test_many_absent_rows_still_sparse() -> None:
    numeric = bag_of_words()
    numeric[::2] = float("nan")  # half the nodes without features
    x, present = encoder(None)(numeric)
    assert is_sparse(x)
    assert present.tolist() == [i % 2 == 1 and i not in (1, 7) for i in range(40)]


def test_row_scaling_sparse_equals_dense_and_rows_sum_to_one() -> None:
    numeric = bag_of_words()
    numeric[3, 2] = 2.0  # finite: an infinite count has no share of its row
    numeric[4] = 0.0  # a document without any word stays zeros
    enc = encoder(None, numeric_scaling="row")
    x, present = enc(numeric)
    assert is_sparse(x)
    ref_x, ref_present = dense_reference(enc, numeric)
    torch.testing.assert_close(x.to_dense(), ref_x)
    assert torch.equal(present, ref_present)
    sums = ref_x.sum(dim=1)
    nonzero = torch.nan_to_num(numeric).abs().sum(dim=1) > 0
    torch.testing.assert_close(sums[nonzero], torch.ones(int(nonzero.sum())))
    assert bool((ref_x[~nonzero] == 0).all())
    # the NaN of row 0 is left out of its row's sum, the other values keep their ratios
    row = torch.nan_to_num(numeric[0])
    torch.testing.assert_close(ref_x[0], row / row.sum())
