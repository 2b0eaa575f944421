from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mmgraph.eval import MULTILABEL_METRIC_KEYS, linear_probe, multilabel_metrics
from mmgraph.seed import make_generator


def noisy_blobs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Three overlapping classes in 5-D (60 nodes), on very different feature scales."""
    gen = make_generator(seed)
    y = torch.arange(3).repeat(20)
    emb = torch.randn(60, 5, generator=gen)
    emb[:, :3] += 1.5 * torch.nn.functional.one_hot(y, 3)
    emb *= torch.tensor([1.0, 100.0, 0.01, 1.0, 1000.0])
    return emb, y


def masks(n: int = 60) -> tuple[torch.Tensor, torch.Tensor]:
    train = torch.zeros(n, dtype=torch.bool)
    train[::2] = True
    return train, ~train


def test_probe_matches_sklearn_pipeline() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.preprocessing import StandardScaler

    emb, y = noisy_blobs()
    train, test = masks()
    out = linear_probe(emb, y, train, test, seed=0)
    assert set(out) == {"accuracy", "macro_f1"}

    x, labels = emb.double().numpy(), y.numpy()
    scaler = StandardScaler().fit(x[train.numpy()])
    model = LogisticRegression(max_iter=1000).fit(
        scaler.transform(x[train.numpy()]), labels[train.numpy()]
    )
    pred = model.predict(scaler.transform(x[test.numpy()]))
    assert out["accuracy"] == pytest.approx(accuracy_score(labels[test.numpy()], pred))
    assert out["macro_f1"] == pytest.approx(f1_score(labels[test.numpy()], pred, average="macro"))
    assert 0.5 < out["accuracy"] < 1.0  # overlapping classes: informative, not perfect


def test_probe_standardises() -> None:
    emb, y = noisy_blobs()
    train, test = masks()
    # Standardisation makes the probe blind to per-feature scale.
    rescaled = emb * torch.tensor([3.0, 0.001, 50.0, 7.0, 0.1])
    assert linear_probe(rescaled, y, train, test) == pytest.approx(
        linear_probe(emb, y, train, test)
    )


def test_probe_index_masks_and_unlabelled_outside() -> None:
    emb, y = noisy_blobs()
    train, test = masks()
    by_mask = linear_probe(emb, y, train, test)
    by_index = linear_probe(
        emb.numpy(), y.numpy(), train.nonzero().view(-1), np.flatnonzero(test.numpy())
    )
    assert by_index == pytest.approx(by_mask)
    y_partial = y.clone()
    y_partial[-1] = -1
    test_partial = test.clone()
    test_partial[-1] = False
    assert linear_probe(emb, y_partial, train, test_partial) == pytest.approx(
        linear_probe(emb[:-1], y[:-1], train[:-1], test[:-1])
    )


def test_separable_is_perfect() -> None:
    y = torch.tensor([0, 0, 1, 1] * 5)
    emb = torch.stack([y.float() * 10, torch.ones(20)], dim=1)
    train, test = masks(20)
    assert linear_probe(emb, y, train, test) == {"accuracy": 1.0, "macro_f1": 1.0}


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            {"y": torch.tensor([0, -1] + [0, 1] * 29)},
            ValueError,
            r"labelled nodes only \(got 1 labelled -1\)",
        ),
        ({"y": torch.zeros(60, dtype=torch.long)}, ValueError, r"at least 2 classes .* \[0\]"),
        (
            {"train_mask": torch.zeros(60, dtype=torch.bool)},
            ValueError,
            "'train_mask' to select at least one",
        ),
        (
            {"test_mask": torch.ones(59, dtype=torch.bool)},
            ValueError,
            "'test_mask' to have 60 entries",
        ),
        ({"test_mask": torch.tensor([0, 60])}, ValueError, r"lie in \[0, 60\)"),
        ({"test_mask": torch.tensor([0.0, 1.0])}, TypeError, "bool mask or integer indices"),
        ({"y": torch.zeros(59, dtype=torch.long)}, ValueError, "same number of rows"),
        ({"C": 0.0}, ValueError, "'C' > 0"),
        ({"max_iter": 0}, ValueError, "'max_iter' to be an int >= 1"),
    ],
)
def test_probe_errors(change, error, match) -> None:
    emb, y = noisy_blobs()
    train, test = masks()
    kwargs = {"emb": emb, "y": y, "train_mask": train, "test_mask": test, **change}
    with pytest.raises(error, match=match):
        linear_probe(**kwargs)


def multilabel_blobs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """80 nodes, 3 labels; label c is on where feature c is positive (separable by design)."""
    gen = make_generator(seed)
    emb = torch.randn(80, 6, generator=gen)
    y = (emb[:, :3] > 0).long()
    emb[:, :3] += torch.where(y.bool(), 1.0, -1.0)  # a margin around each boundary
    return emb * torch.tensor([1.0, 100.0, 0.01, 1.0, 1000.0, 5.0]), y


def test_multilabel_probe_separable() -> None:
    emb, y = multilabel_blobs()
    train, test = masks(80)
    out = linear_probe(emb, y, train, test)
    assert list(out) == list(MULTILABEL_METRIC_KEYS)
    assert out["micro_f1"] > 0.95
    assert out["roc_auc"] > 0.99
    # the same fit and scores by hand: one standardised binary regression per label
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x, labels, tr, te = emb.double().numpy(), y.numpy(), train.numpy(), test.numpy()
    scaler = StandardScaler().fit(x[tr])
    scores = np.stack(
        [
            LogisticRegression(max_iter=1000)
            .fit(scaler.transform(x[tr]), labels[tr, c])
            .decision_function(scaler.transform(x[te]))
            for c in range(3)
        ],
        axis=1,
    )
    assert out == pytest.approx(multilabel_metrics(labels[te], scores))


def test_multilabel_probe_unlabelled_rows_and_index_masks() -> None:
    emb, y = multilabel_blobs()
    train, test = masks(80)
    y_partial = y.clone()
    y_partial[-1] = -1  # an unlabelled node, outside the masks
    test_partial = test.clone()
    test_partial[-1] = False
    got = linear_probe(emb.numpy(), y_partial, train.nonzero().view(-1), test_partial)
    want = linear_probe(emb[:-1], y[:-1].bool(), train[:-1], test[:-1])
    assert got == pytest.approx(want)


def test_multilabel_probe_constant_label() -> None:
    emb, y = multilabel_blobs()
    train, test = masks(80)
    y = y.clone()
    y[train, 1] = 1  # always on among the training nodes: predicted on everywhere
    y[train, 2] = 0  # always off: predicted off everywhere
    truth = y[test].numpy()
    constant = np.tile([1e6, -1e6], (truth.shape[0], 1))
    only_constant = linear_probe(emb, y[:, 1:], train, test)
    assert only_constant == pytest.approx(multilabel_metrics(truth[:, 1:], constant))
    assert only_constant["roc_auc"] == 0.5  # constant scores rank nothing
    assert only_constant["recall"] == truth[:, 1].sum() / truth[:, 1:].sum()
    mixed = linear_probe(emb, y, train, test)  # label 0 is still fit, and separable
    label_0_f1 = 3 * mixed["macro_f1"] - 2 * only_constant["macro_f1"]
    assert label_0_f1 > 0.9
    all_on = linear_probe(emb, torch.ones(80, 2, dtype=torch.long), train, test)
    assert all_on["micro_f1"] == 1.0
    assert all_on["accuracy"] == 1.0
    assert math.isnan(all_on["roc_auc"])


def test_one_dimensional_probe_unchanged() -> None:
    emb, y = noisy_blobs()
    train, test = masks()
    out = linear_probe(emb, y, train, test)
    assert list(out) == ["accuracy", "macro_f1"]
    assert all(type(v) is float for v in out.values())


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (
            {"y": torch.cat([torch.full((1, 3), -1), torch.ones(79, 3, dtype=torch.long)])},
            ValueError,
            r"'train_mask' to select labelled nodes only \(got 1 labelled -1\).*any\(1\)",
        ),
        (
            {"y": torch.cat([torch.ones(79, 3, dtype=torch.long), torch.full((1, 3), -1)])},
            ValueError,
            r"'test_mask' to select labelled nodes only \(got 1 labelled -1\)",
        ),
        (
            {"y": torch.tensor([[0, -1, 1]]).repeat(80, 1)},
            ValueError,
            r"'y\[train_mask\]' to hold only 0 and 1 \(got also \[-1\]\)",
        ),
        ({"y": torch.full((80, 3), 2)}, ValueError, r"to hold only 0 and 1 \(got also \[2\]\)"),
        ({"y": torch.zeros(80, 0, dtype=torch.long)}, ValueError, "at least one label column"),
        ({"y": torch.zeros(79, 3, dtype=torch.long)}, ValueError, "same number of rows"),
        ({"y": torch.zeros(80, 3, 1, dtype=torch.long)}, ValueError, r"\[N\] or \[N, C\]"),
        ({"y": np.full((80, 3), "a")}, TypeError, "bool, integer or float type"),
        (
            {"train_mask": torch.zeros(80, dtype=torch.bool)},
            ValueError,
            "'train_mask' to select at least one",
        ),
    ],
)
def test_multilabel_probe_errors(change, error, match) -> None:
    emb, y = multilabel_blobs()
    train, test = masks(80)
    kwargs = {"emb": emb, "y": y, "train_mask": train, "test_mask": test, **change}
    with pytest.raises(error, match=match):
        linear_probe(**kwargs)
