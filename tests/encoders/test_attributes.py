from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mmgraph.data.graph import MultimodalGraph
from mmgraph.encoders.attributes import AttributeEncoder, NumericStandardizer, signed_log1p

NAN = math.nan
NUMERIC = torch.tensor(
    [
        [1.0, 10.0, NAN],
        [3.0, NAN, NAN],
        [NAN, 1000.0, 5.0],
        [7.0, 100.0, 5.0],
        [100.0, -5.0, NAN],  # not a training node: must not move the statistics
        [NAN, NAN, NAN],
    ]
)
CATEGORICAL = torch.tensor([[1, 0], [2, 3], [0, 1], [3, 2], [9, 0], [0, 0]])
TRAIN = torch.tensor([True, True, True, True, False, False])


def fitted(**kwargs: object) -> AttributeEncoder:
    torch.manual_seed(0)
    enc = AttributeEncoder(3, [3, 3], out_channels=4, embedding_dim=2, **kwargs)  # type: ignore[arg-type]
    return enc.fit(NUMERIC, mask=TRAIN)


def test_statistics_use_training_nodes_only() -> None:
    enc = fitted(log1p=[1])
    train = NUMERIC[TRAIN].numpy().astype(np.float64)
    train[:, 1] = np.sign(train[:, 1]) * np.log1p(np.abs(train[:, 1]))
    mean = np.nanmean(train, axis=0)
    std = np.nanstd(train, axis=0)
    std[std == 0] = 1.0  # the constant third column (5, 5)
    torch.testing.assert_close(enc.numeric.mean, torch.tensor(mean, dtype=torch.float32))
    torch.testing.assert_close(enc.numeric.std, torch.tensor(std, dtype=torch.float32))
    assert bool(enc.numeric.fitted)


def test_standardise_impute_and_flag() -> None:
    std = NumericStandardizer(3, log1p=True).fit(NUMERIC, TRAIN)
    out = std(NUMERIC)
    assert out.shape == (6, 6)
    z, flags = out[:, :3], out[:, 3:]
    assert torch.equal(flags, torch.isnan(NUMERIC).float())
    assert torch.equal(z[torch.isnan(NUMERIC)], torch.zeros(int(torch.isnan(NUMERIC).sum())))
    expected = (signed_log1p(NUMERIC[3]) - std.mean) / std.std
    torch.testing.assert_close(z[3], expected)
    train_z = z[TRAIN][~torch.isnan(NUMERIC[TRAIN])]
    assert train_z.abs().max() < 3
    assert NumericStandardizer(3, missing_indicator=False).fit(NUMERIC)(NUMERIC).shape == (6, 3)


def test_column_without_training_values() -> None:
    x = torch.tensor([[NAN, 1.0], [NAN, 3.0], [4.0, NAN]])
    std = NumericStandardizer(2).fit(x, torch.tensor([True, True, False]))
    assert std.mean.tolist() == [0.0, 2.0] and std.std.tolist() == [1.0, 1.0]
    torch.testing.assert_close(std(x)[2, :2], torch.tensor([4.0, 0.0]))


def test_forward_matches_hand_computation() -> None:
    enc = fitted()
    x, mask = enc(NUMERIC, CATEGORICAL)
    assert x.shape == (6, 4)
    assert mask.tolist() == [True, True, True, True, True, False]
    assert torch.equal(x[5], torch.zeros(4))
    codes = CATEGORICAL.clamp(max=4)  # unknown code 9 of a 3-value column -> row 4
    parts = [
        enc.numeric(NUMERIC),
        enc.embeddings[0].weight[codes[:, 0]],
        enc.embeddings[1].weight[codes[:, 1]],
    ]
    expected = torch.cat(parts, dim=1) @ enc.lin.weight.T + enc.lin.bias
    torch.testing.assert_close(x[:5], expected[:5])


def test_unknown_codes_share_one_row_and_missing_has_its_own() -> None:
    enc = fitted()
    x, _ = enc(NUMERIC[[4, 4]], torch.tensor([[4, 0], [9, 0]]))
    torch.testing.assert_close(x[0], x[1])  # both beyond the 3 values
    y, _ = enc(NUMERIC[[4, 4]], torch.tensor([[0, 0], [1, 0]]))
    assert not torch.allclose(y[0], y[1])


def test_presence_from_either_part() -> None:
    enc = fitted()
    numeric = torch.full((3, 3), NAN)
    numeric[0, 2] = 1.0
    categorical = torch.tensor([[0, 0], [0, 2], [0, 0]])
    _, mask = enc(numeric, categorical)
    assert mask.tolist() == [True, True, False]


def test_numeric_only_and_categorical_only() -> None:
    torch.manual_seed(0)
    numeric_only = AttributeEncoder(3, [], out_channels=5).fit(NUMERIC, TRAIN)
    x, mask = numeric_only(NUMERIC)
    assert x.shape == (6, 5) and mask.tolist() == [True] * 5 + [False]
    assert sum(p.numel() for p in numeric_only.parameters()) == 6 * 5 + 5
    categorical_only = AttributeEncoder(0, [3, 3], out_channels=5, embedding_dim=2)
    x, mask = categorical_only(None, CATEGORICAL)  # no fit needed
    assert mask.tolist() == [True] * 5 + [False]
    assert categorical_only.fit(None) is categorical_only


def test_parameter_count_by_hand() -> None:
    enc = AttributeEncoder(4, [5, 2, 7], out_channels=16, embedding_dim=3)
    embeddings = (5 + 2) * 3 + (2 + 2) * 3 + (7 + 2) * 3
    projection = (2 * 4 + 3 * 3) * 16 + 16
    assert sum(p.numel() for p in enc.parameters()) == embeddings + projection


def test_state_dict_round_trip_keeps_statistics() -> None:
    enc = fitted(log1p=True)
    state = enc.state_dict()
    assert {"numeric.mean", "numeric.std", "numeric.fitted"} <= set(state)
    torch.manual_seed(1)
    other = AttributeEncoder(3, [3, 3], out_channels=4, embedding_dim=2, log1p=True)
    other.load_state_dict(state)
    torch.testing.assert_close(other(NUMERIC, CATEGORICAL)[0], enc(NUMERIC, CATEGORICAL)[0])


def test_reset_parameters_keeps_statistics() -> None:
    enc = fitted()
    mean = enc.numeric.mean.clone()
    before = enc.lin.weight.clone()
    enc.reset_parameters()
    assert not torch.equal(enc.lin.weight, before) and torch.equal(enc.numeric.mean, mean)


def test_to_moves_everything() -> None:
    enc = fitted().to(torch.float64)
    tensors = [*enc.parameters(), *enc.buffers()]
    assert all(t.dtype == torch.float64 for t in tensors if t.is_floating_point())
    x, _ = enc(NUMERIC.double(), CATEGORICAL)
    assert x.dtype == torch.float64


def test_repr() -> None:
    enc = AttributeEncoder(3, [3, 4], out_channels=8, log1p=[0, 2], embedding_dim=2)
    assert repr(enc) == (
        "AttributeEncoder(num_numeric=3, cardinalities=[3, 4], out_channels=8, log1p=[0, 2], "
        "embedding_dim=2)"
    )
    assert repr(enc.numeric) == "NumericStandardizer(3, log1p=[0, 2], missing_indicator=True)"


def test_gradients_reach_embeddings_and_projection() -> None:
    enc = fitted()
    x, _ = enc(NUMERIC, CATEGORICAL)
    x.sum().backward()
    assert all(p.grad is not None for p in enc.parameters())


def test_for_graph() -> None:
    graph = MultimodalGraph(
        numeric=NUMERIC,
        categorical=CATEGORICAL.clamp(max=3),
        categorical_vocabs=[["a", "b", "c"], ["x", "y", "z", "w"]],
    )
    enc = AttributeEncoder.for_graph(graph, out_channels=4)
    assert enc.num_numeric == 3 and enc.cardinalities == [3, 4]
    no_vocab = MultimodalGraph(categorical=torch.tensor([[1], [5]]))
    assert AttributeEncoder.for_graph(no_vocab).cardinalities == [5]


def test_errors() -> None:
    enc = AttributeEncoder(3, [3, 3], out_channels=4)
    with pytest.raises(ValueError, match="is not fitted: call `fit"):
        enc(NUMERIC, CATEGORICAL)
    enc.fit(NUMERIC)
    with pytest.raises(ValueError, match=r"Expected 'numeric' of shape \[N, 3\] \(got \[6, 2\]\)"):
        enc(NUMERIC[:, :2], CATEGORICAL)
    with pytest.raises(TypeError, match="Expected 'numeric' to be a float tensor"):
        enc(torch.ones(6, 3, dtype=torch.long), CATEGORICAL)
    with pytest.raises(ValueError, match="Expected 'numeric' with 3 columns \\(got None\\)"):
        enc(None, CATEGORICAL)
    with pytest.raises(ValueError, match=r"Expected 'categorical' of shape \[N, 2\]"):
        enc(NUMERIC, CATEGORICAL[:, :1])
    with pytest.raises(ValueError, match="Expected 'categorical' with 2 columns"):
        enc(NUMERIC, None)
    with pytest.raises(TypeError, match="Expected 'categorical' to be an integer tensor"):
        enc(NUMERIC, CATEGORICAL.float())
    with pytest.raises(ValueError, match="Found negative categorical code -9"):
        enc(NUMERIC, -CATEGORICAL)
    with pytest.raises(ValueError, match="the same number of rows"):
        enc(NUMERIC, CATEGORICAL[:3])
    with pytest.raises(ValueError, match=r"Expected 'mask' to be a bool tensor of shape \[6\]"):
        enc.fit(NUMERIC, mask=torch.ones(6))
    with pytest.raises(ValueError, match="Expected 'numeric' with 3 columns to fit on"):
        enc.fit(None)
    with pytest.raises(ValueError, match="Expected no numeric columns"):
        AttributeEncoder(0, [3])(NUMERIC, CATEGORICAL[:, :1])
    with pytest.raises(ValueError, match="Expected no categorical columns"):
        AttributeEncoder(3, []).fit(NUMERIC)(NUMERIC, CATEGORICAL)
    with pytest.raises(ValueError, match="Expected at least one numeric or categorical column"):
        AttributeEncoder(0, [])
    with pytest.raises(ValueError, match="Expected 'cardinalities' to be positive ints"):
        AttributeEncoder(1, [0])
    with pytest.raises(ValueError, match="Expected 'out_channels' to be a positive int"):
        AttributeEncoder(1, out_channels=0)
    with pytest.raises(
        ValueError, match=r"Expected 'log1p' to be a bool or column indices in \[0, 3\)"
    ):
        AttributeEncoder(3, log1p=[3])
    with pytest.raises(ValueError, match="Expected 'num_features' >= 0"):
        NumericStandardizer(-1)


def test_log_scaling_standardises_the_log_of_every_column() -> None:
    from mmgraph.encoders import NumericStandardizer

    x = torch.tensor([[0.0, 5.0], [10.0, math.nan], [1e7, -3.0], [99.0, 1.0]])
    train = torch.tensor([True, True, True, False])
    logged = NumericStandardizer(2, scaling="log").fit(x, train)
    by_hand = NumericStandardizer(2, log1p=True).fit(x, train)
    torch.testing.assert_close(logged(x), by_hand(x))
    assert logged.log1p_columns == [0, 1] and "scaling='log'" in repr(logged)
    z = logged(x)[:3, 0]
    assert float(z.abs().max()) < 2.0  # 0 .. 1e7 on a log scale: no value 1,000 sds out


def test_row_scaling_divides_each_row_by_its_absolute_sum() -> None:
    x = torch.tensor([[1.0, 3.0, 0.0], [0.0, 0.0, 0.0], [2.0, float("nan"), -2.0]])
    scaler = NumericStandardizer(3, missing_indicator=True, scaling="row").fit(x)
    out = scaler(x)
    expected = torch.tensor([[0.25, 0.75, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, -0.5]])
    torch.testing.assert_close(out[:, :3], expected)
    assert out[:, 3:].tolist() == [[0, 0, 0], [0, 0, 0], [0, 1, 0]]  # the NaN is flagged
    assert "scaling='row'" in repr(scaler)
    with pytest.raises(ValueError, match=r"'standard', 'none', 'row'"):
        NumericStandardizer(3, scaling="l2")
