from __future__ import annotations

import numpy as np
import pytest
import torch

from mmgraph.eval import linear_probe
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
