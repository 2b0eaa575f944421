"""Linear probes: how much of the labels a linear classifier reads off frozen embeddings."""

from __future__ import annotations

from typing import Any

import numpy as np

from mmgraph.data.graph import UNLABELLED
from mmgraph.eval._checks import (
    as_labels,
    as_mask,
    as_matrix,
    check_same_length,
    resolve_seed,
    to_numpy,
)
from mmgraph.eval.metrics import as_indicator, multilabel_metrics
from mmgraph.resolver import check_positive_int

_CONSTANT_SCORE = 1e6
"""The decision score of a label that is constant among the training rows (its sign)."""


def linear_probe(
    emb: Any,
    y: Any,
    train_mask: Any,
    test_mask: Any,
    seed: int | None = 0,
    max_iter: int = 1000,
    C: float = 1.0,
) -> dict[str, float]:
    """Fit a logistic regression on standardised embeddings of the training nodes.

    The embeddings are standardised with the mean and standard deviation of the training
    nodes (:class:`~sklearn.preprocessing.StandardScaler`), then an L2-regularised
    :class:`~sklearn.linear_model.LogisticRegression` (lbfgs) is fit on them and scored on
    the test nodes.

    With classes ``y`` of shape ``[N]`` the regression is multinomial and the result holds
    the test ``accuracy`` and ``macro_f1`` (averaged over the classes present in the test
    labels or predicted, as scikit-learn does).

    With labels ``y`` of shape ``[N, C]`` (multi-label, e.g. SubGNN's HPO-NEURO) one binary
    regression is fit per label, all with the same ``C``, ``max_iter`` and ``seed``. A label
    with a single class among the training nodes predicts that class for every node (a
    decision score of ``+1e6`` or ``-1e6``). The result is :func:`multilabel_metrics` of the
    test nodes' decision scores (label ``c`` predicted where its score is above ``0``), so
    ``micro_f1`` is the metric SubGNN and GLASS report.

    Args:
        emb (array-like): Frozen node embeddings ``[N, D]``, finite.
        y (array-like): Node classes ``[N]``, or ``0``/``1`` labels ``[N, C]``. Unlabelled
            nodes (``-1``; a row of ``-1`` in the multi-label case) must not be selected by
            the masks.
        train_mask (array-like): Training nodes: a bool mask ``[N]`` or integer indices.
        test_mask (array-like): Test nodes: a bool mask ``[N]`` or integer indices.
        seed (int, optional): Seed of the solver. (default: :obj:`0`)
        max_iter (int, optional): Most solver iterations. (default: :obj:`1000`)
        C (float, optional): Inverse regularisation strength. (default: :obj:`1.0`)

    Returns:
        With ``y`` of shape ``[N]``, a dict with the test ``accuracy`` and ``macro_f1``;
        with ``y`` of shape ``[N, C]``, the dict of :func:`multilabel_metrics` (``micro_f1``,
        ``accuracy``, ``macro_f1``, ``f1``, ``precision``, ``recall``, ``mcc``, ``roc_auc``).

    Shapes:
        N nodes, D embedding dimensions, C labels (multi-label).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = as_matrix(emb, "emb")
    ndim = to_numpy(y, "y").ndim
    if ndim not in (1, 2):
        raise ValueError(f"Expected 'y' of shape [N] or [N, C] (got {ndim} dimensions)")
    multilabel = ndim == 2
    labels = _as_multilabel(y) if multilabel else as_labels(y, "y")
    check_same_length(x, labels, "emb", "y")
    n = x.shape[0]
    train = as_mask(train_mask, n, "train_mask")
    test = as_mask(test_mask, n, "test_mask")
    max_iter = check_positive_int(max_iter, "max_iter")
    if not C > 0:
        raise ValueError(f"Expected 'C' > 0 (got {C})")
    unlabelled_rows = (labels == UNLABELLED).all(axis=1) if multilabel else labels == UNLABELLED
    for name, mask in (("train_mask", train), ("test_mask", test)):
        if not mask.any():
            raise ValueError(f"Expected '{name}' to select at least one node (got none)")
        unlabelled = int(unlabelled_rows[mask].sum())
        if unlabelled:
            hint = f"(y != {UNLABELLED}).any(1)" if multilabel else f"y != {UNLABELLED}"
            raise ValueError(
                f"Expected '{name}' to select labelled nodes only (got {unlabelled} labelled "
                f"{UNLABELLED}); intersect it with '{hint}'"
            )
    if multilabel:
        return _multilabel_probe(x, labels, train, test, resolve_seed(seed), max_iter, C)
    if np.unique(labels[train]).size < 2:
        raise ValueError(
            f"Expected at least 2 classes among the training nodes (got only "
            f"{np.unique(labels[train]).tolist()})"
        )

    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=C, max_iter=max_iter, random_state=resolve_seed(seed)),
    )
    model.fit(x[train], labels[train])
    pred = model.predict(x[test])
    truth = labels[test]
    return {
        "accuracy": float(accuracy_score(truth, pred)),
        "macro_f1": float(f1_score(truth, pred, average="macro", zero_division=0.0)),
    }


def _as_multilabel(y: Any) -> np.ndarray:
    """Multi-label targets ``[N, C]`` as given: 0/1 rows, or rows of ``-1`` (unlabelled).

    Only the column count is checked here; :func:`as_indicator` checks the rows the masks
    select (their type and their 0/1 values) where the probe reads them.
    """
    arr = to_numpy(y, "y")
    if arr.shape[1] == 0:
        raise ValueError(f"Expected at least one label column (got 'y' of shape {list(arr.shape)})")
    return arr


def _multilabel_probe(
    x: np.ndarray,
    labels: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    seed: int,
    max_iter: int,
    C: float,
) -> dict[str, float]:
    """Fit one binary logistic regression per label; return the test multi-label metrics."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    # Rows mixing -1 with 0/1 are neither labelled nor unlabelled: this check names them.
    y_train = as_indicator(labels[train], "y[train_mask]")
    y_test = as_indicator(labels[test], "y[test_mask]")
    scaler = StandardScaler().fit(x[train])
    x_train, x_test = scaler.transform(x[train]), scaler.transform(x[test])
    scores = np.empty(y_test.shape, dtype=np.float64)
    for c in range(y_train.shape[1]):
        target = y_train[:, c]
        if target.all() or not target.any():  # one class only: predict it
            scores[:, c] = _CONSTANT_SCORE if target[0] else -_CONSTANT_SCORE
            continue
        model = LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
        scores[:, c] = model.fit(x_train, target).decision_function(x_test)
    return multilabel_metrics(y_test, scores)
