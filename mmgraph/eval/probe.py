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
)
from mmgraph.resolver import check_positive_int


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
    multinomial :class:`~sklearn.linear_model.LogisticRegression` (lbfgs) is fit on them and
    scored on the test nodes. ``macro_f1`` averages over the classes present in the test
    labels or predicted, as scikit-learn does.

    Args:
        emb (array-like): Frozen node embeddings ``[N, D]``, finite.
        y (array-like): Node classes ``[N]``; ``-1`` (unlabelled) must not be selected by
            the masks.
        train_mask (array-like): Training nodes: a bool mask ``[N]`` or integer indices.
        test_mask (array-like): Test nodes: a bool mask ``[N]`` or integer indices.
        seed (int, optional): Seed of the solver. (default: :obj:`0`)
        max_iter (int, optional): Most solver iterations. (default: :obj:`1000`)
        C (float, optional): Inverse regularisation strength. (default: :obj:`1.0`)

    Returns:
        A dict with the test ``accuracy`` and ``macro_f1``.

    Shapes:
        N nodes, D embedding dimensions.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = as_matrix(emb, "emb")
    labels = as_labels(y, "y")
    check_same_length(x, labels, "emb", "y")
    n = x.shape[0]
    train = as_mask(train_mask, n, "train_mask")
    test = as_mask(test_mask, n, "test_mask")
    max_iter = check_positive_int(max_iter, "max_iter")
    if not C > 0:
        raise ValueError(f"Expected 'C' > 0 (got {C})")
    for name, mask in (("train_mask", train), ("test_mask", test)):
        if not mask.any():
            raise ValueError(f"Expected '{name}' to select at least one node (got none)")
        unlabelled = int((labels[mask] == UNLABELLED).sum())
        if unlabelled:
            raise ValueError(
                f"Expected '{name}' to select labelled nodes only (got {unlabelled} labelled "
                f"{UNLABELLED}); intersect it with 'y != {UNLABELLED}'"
            )
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
