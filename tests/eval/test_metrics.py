from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch

from mmgraph.eval import (
    METRIC_KEYS,
    MULTILABEL_METRIC_KEYS,
    classification_metrics,
    multilabel_metrics,
    scores_to_proba,
    to_jsonable,
)
from mmgraph.seed import make_generator


def pairwise_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC as the fraction of (positive, negative) pairs ranked right, ties half."""
    pos, neg = score[positive], score[~positive]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


# y_true and the probability of class 1; predictions [0, 1, 0, 1, 1]:
# TP = 2, FN = 1, FP = 1, TN = 1.
Y_BIN = [0, 1, 1, 0, 1]
P1 = np.array([0.1, 0.8, 0.4, 0.6, 0.9])
PROBA_BIN = np.stack([1 - P1, P1], axis=1)


def test_binary_by_hand() -> None:
    m = classification_metrics(Y_BIN, PROBA_BIN)
    assert list(m) == list(METRIC_KEYS)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    # class 0: precision 1/2, recall 1/2, F1 1/2.
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 / 2) / 2)
    # (TP TN - FP FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (2 - 1) / sqrt(3 * 3 * 2 * 2)
    assert m["mcc"] == pytest.approx(1 / 6)
    assert m["roc_auc"] == pytest.approx(5 / 6)
    assert m["roc_auc"] == pytest.approx(pairwise_auc(np.array(Y_BIN) == 1, P1))
    assert all(isinstance(v, float) for v in m.values())


def test_binary_positive_class_zero() -> None:
    m = classification_metrics(Y_BIN, PROBA_BIN, positive_class=0)
    assert m["precision"] == pytest.approx(1 / 2)
    assert m["recall"] == pytest.approx(1 / 2)
    assert m["f1"] == pytest.approx(1 / 2)
    assert m["roc_auc"] == pytest.approx(pairwise_auc(np.array(Y_BIN) == 0, 1 - P1))


def test_logits_tensors_and_probabilities_agree() -> None:
    from_proba = classification_metrics(np.array(Y_BIN), PROBA_BIN)
    logits = torch.log(torch.tensor(PROBA_BIN)) + 3.0
    from_logits = classification_metrics(torch.tensor(Y_BIN), logits)
    assert from_logits == pytest.approx(from_proba)
    np.testing.assert_allclose(scores_to_proba(logits.numpy()), PROBA_BIN)
    np.testing.assert_array_equal(scores_to_proba(PROBA_BIN), PROBA_BIN)


# predictions [0, 2, 2, 1, 1, 0]: class 0 all right; classes 1 and 2 each TP 1, FP 1, FN 1.
Y_MULTI = np.array([0, 1, 2, 2, 1, 0])
PROBA_MULTI = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.1, 0.3, 0.6],
        [0.2, 0.3, 0.5],
        [0.3, 0.4, 0.3],
        [0.1, 0.8, 0.1],
        [0.5, 0.1, 0.4],
    ]
)


def test_multiclass_by_hand() -> None:
    m = classification_metrics(Y_MULTI, PROBA_MULTI)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["macro_f1"] == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
    assert m["f1"] == pytest.approx(m["macro_f1"])
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    # (c s - sum p_k t_k) / sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)), c=4, s=6, p=t=[2,2,2]
    assert m["mcc"] == pytest.approx((4 * 6 - 12) / (36 - 12))
    ovr = [pairwise_auc(Y_MULTI == c, PROBA_MULTI[:, c]) for c in range(3)]
    assert m["roc_auc"] == pytest.approx(np.mean(ovr))


def test_multiclass_positive_class() -> None:
    m = classification_metrics(Y_MULTI, PROBA_MULTI, positive_class=0)
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((1.0, 1.0, 1.0))
    m = classification_metrics(Y_MULTI, PROBA_MULTI, positive_class=1)
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((0.5, 0.5, 0.5))
    assert m["macro_f1"] == pytest.approx(2 / 3)


def test_multiclass_auc_skips_absent_class() -> None:
    keep = Y_MULTI != 2
    m = classification_metrics(Y_MULTI[keep], PROBA_MULTI[keep])
    ovr = [pairwise_auc(Y_MULTI[keep] == c, PROBA_MULTI[keep, c]) for c in (0, 1)]
    assert m["roc_auc"] == pytest.approx(np.mean(ovr))


def test_labels_name_the_columns() -> None:
    relabelled = np.where(np.array(Y_BIN) == 1, 7, 3)
    m = classification_metrics(relabelled, PROBA_BIN, labels=[3, 7])
    assert m == pytest.approx(classification_metrics(Y_BIN, PROBA_BIN))
    m0 = classification_metrics(relabelled, PROBA_BIN, labels=[3, 7], positive_class=3)
    assert m0 == pytest.approx(classification_metrics(Y_BIN, PROBA_BIN, positive_class=0))


def test_one_class_gives_nan_auc_and_json_none() -> None:
    m = classification_metrics([1, 1, 1], PROBA_BIN[:3])
    assert math.isnan(m["roc_auc"])
    assert m["recall"] == pytest.approx(1 / 3)  # predictions [0, 1, 0]
    out = to_jsonable(m)
    assert out["roc_auc"] is None
    assert out["accuracy"] == m["accuracy"]
    json.dumps(out, allow_nan=False)


def test_to_jsonable_nested_and_scalars() -> None:
    value = {
        "a": np.float32(0.5),
        "b": [math.nan, math.inf, 1, None, "x"],
        "c": {"d": torch.tensor(2.0), "e": np.int64(3), "f": np.bool_(True)},
        "g": (np.nan,),
    }
    out = to_jsonable(value)
    assert out == {
        "a": 0.5,
        "b": [None, None, 1, None, "x"],
        "c": {"d": 2.0, "e": 3, "f": True},
        "g": [None],
    }
    assert type(out["c"]["e"]) is int
    json.dumps(out, allow_nan=False)
    with pytest.raises(TypeError, match="Expected numbers, strings"):
        to_jsonable({"bad": object()})


def test_random_inputs_match_sklearn_directly() -> None:
    from sklearn.metrics import f1_score, roc_auc_score

    gen = make_generator(0)
    y = torch.randint(0, 4, (50,), generator=gen)
    logits = torch.randn(50, 4, generator=gen)
    m = classification_metrics(y, logits)
    proba = torch.softmax(logits.double(), dim=1).numpy()
    assert m["macro_f1"] == pytest.approx(f1_score(y, logits.argmax(1), average="macro"))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, proba, multi_class="ovr"))


@pytest.mark.parametrize(
    ("y_true", "y_score", "kwargs", "error", "match"),
    [
        ([0, 1], np.ones((3, 2)) / 2, {}, ValueError, "same number of rows"),
        ([0, 1], np.array([0.2, 0.8]), {}, ValueError, r"shape \[N, K\]"),
        ([0, 0], np.ones((2, 1)), {}, ValueError, "at least 2 classes"),
        ([0, -1], np.ones((2, 2)) / 2, {}, ValueError, r"drop unlabelled nodes \(-1\)"),
        ([0, 1], np.ones((2, 2)) / 2, {"positive_class": 2}, ValueError, "'positive_class'"),
        ([0, 1], np.ones((2, 2)) / 2, {"labels": [1, 1]}, ValueError, "2 distinct classes"),
        ([0, 1], np.ones((2, 2)) / 2, {"labels": [0, 1, 2]}, ValueError, "2 distinct"),
        ([0, 1], np.array([[0.5, np.nan], [0.5, 0.5]]), {}, ValueError, "to be finite"),
        ([0.0, 1.0], np.ones((2, 2)) / 2, {}, TypeError, "integer type"),
        ([[0, 1]], np.ones((2, 2)) / 2, {}, ValueError, r"shape \[N\]"),
        (np.zeros(0, dtype=int), np.zeros((0, 2)), {}, ValueError, "at least one node"),
        ("01", np.ones((2, 2)) / 2, {}, TypeError, "'y_true' to be a torch.Tensor"),
        ([0, 1], np.array([["a", "b"], ["c", "d"]]), {}, TypeError, "numeric type"),
    ],
)
def test_errors(y_true, y_score, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        classification_metrics(y_true, y_score, **kwargs)


def sklearn_metrics(truth, proba, classes, positive_class):
    """The metrics as scikit-learn computes them (what classification_metrics promises)."""
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        matthews_corrcoef,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    pred = classes[proba.argmax(axis=1)]
    labels = None if positive_class is None else [positive_class]
    prec, rec, f1, _ = precision_recall_fscore_support(
        truth, pred, labels=labels, average="macro", zero_division=0.0
    )
    with warnings.catch_warnings():  # one class seen: scikit-learn warns, and gives 0
        warnings.simplefilter("ignore", UserWarning)
        mcc = matthews_corrcoef(truth, pred)
    present = np.unique(truth)
    if present.size < 2:
        auc = math.nan
    elif len(classes) == 2:
        column = int(np.flatnonzero(classes == positive_class)[0])
        auc = roc_auc_score(truth == positive_class, proba[:, column])
    else:
        auc = np.mean(
            [roc_auc_score(truth == c, proba[:, j]) for j, c in enumerate(classes) if c in present]
        )
    return {
        "accuracy": accuracy_score(truth, pred),
        "macro_f1": f1_score(truth, pred, average="macro", zero_division=0.0),
        "f1": f1,
        "precision": prec,
        "recall": rec,
        "mcc": mcc,
        "roc_auc": auc,
    }


@pytest.mark.parametrize("case", range(60))
def test_every_metric_matches_sklearn(case: int) -> None:
    """Random labels, scores with ties, absent and never-predicted classes, named columns."""
    rng = np.random.default_rng(case)
    k = int(rng.integers(2, 6))
    n = int(rng.integers(1, 40))
    classes = rng.permutation(np.arange(10))[:k] if case % 3 == 0 else np.arange(k)
    truth = classes[rng.integers(0, max(1, k - case % 2), n)]  # the last class may be absent
    scores = rng.integers(0, 4, (n, k)).astype(np.float64)  # coarse: many ties
    proba = scores_to_proba(scores)
    positive_class = None
    if k == 2:
        positive_class = int(classes[1])
    elif case % 4 == 1:
        positive_class = int(classes[rng.integers(0, k)])
    got = classification_metrics(truth, scores, positive_class=positive_class, labels=classes)
    want = sklearn_metrics(truth, proba, classes, positive_class)
    assert list(got) == list(METRIC_KEYS)
    for key in METRIC_KEYS:
        if math.isnan(want[key]):
            assert math.isnan(got[key]), key
        else:
            assert got[key] == pytest.approx(float(want[key]), abs=1e-12), key


def test_average_ranks_match_scipy() -> None:
    from scipy.stats import rankdata

    from mmgraph.eval.metrics import _average_ranks

    rng = np.random.default_rng(0)
    for _ in range(100):
        values = rng.integers(0, 6, size=int(rng.integers(1, 40))).astype(np.float64)
        if rng.random() < 0.5:
            values = values + rng.random(values.size)  # no ties
        np.testing.assert_allclose(_average_ranks(values), rankdata(values))
    np.testing.assert_allclose(_average_ranks(np.array([3.0, 1.0, 3.0, 2.0])), [3.5, 1, 3.5, 2])


# Multi-label: 4 rows, 3 labels; logits, predicted where > 0.
Y_ML = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
LOGITS_ML = np.array([[2.0, -1.0, 0.5], [-0.5, 1.5, 0.0], [1.0, -2.0, -1.0], [-3.0, -0.1, 0.2]])
# predictions [[1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 1]] (0.0 is not above the threshold)


def test_multilabel_by_hand() -> None:
    m = multilabel_metrics(Y_ML, LOGITS_ML)
    assert list(m) == list(MULTILABEL_METRIC_KEYS)
    assert list(MULTILABEL_METRIC_KEYS) == [*METRIC_KEYS, "micro_f1"]
    # pooled: TP = 4, FP = 1, FN = 1 -> precision = recall = F1 = 4/5
    assert (m["precision"], m["recall"], m["micro_f1"]) == pytest.approx((0.8, 0.8, 0.8))
    assert m["f1"] == m["micro_f1"]
    assert m["accuracy"] == pytest.approx(2 / 4)  # rows 0 and 1 exactly right
    # per label: label 0 TP 2 (F1 1), label 1 TP 1 FN 1 (F1 2/3), label 2 TP 1 FP 1 (F1 2/3)
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    # 12 decisions: TP 4, TN 6, FP 1, FN 1 -> (24 - 1) / sqrt(5 * 5 * 7 * 7)
    assert m["mcc"] == pytest.approx(23 / 35)
    aucs = [pairwise_auc(Y_ML[:, c] == 1, LOGITS_ML[:, c]) for c in range(3)]
    assert m["roc_auc"] == pytest.approx(np.mean(aucs))
    assert all(isinstance(v, float) for v in m.values())


def test_multilabel_inputs_and_threshold() -> None:
    want = multilabel_metrics(Y_ML, LOGITS_ML)
    as_tensors = multilabel_metrics(torch.tensor(Y_ML).bool(), torch.tensor(LOGITS_ML).float())
    assert as_tensors == pytest.approx(want)
    assert multilabel_metrics(Y_ML.astype(np.float32), LOGITS_ML) == pytest.approx(want)
    # sigmoid probabilities with threshold 0.5 decide as logits with threshold 0
    proba = torch.sigmoid(torch.tensor(LOGITS_ML)).numpy()
    assert multilabel_metrics(Y_ML, proba, threshold=0.5) == pytest.approx(want)
    # a higher threshold drops the predictions at 0.2 and 0.5: TP 3, FP 0, FN 2
    m = multilabel_metrics(Y_ML, LOGITS_ML, threshold=0.6)
    assert m["micro_f1"] == pytest.approx(6 / 8)
    assert m["roc_auc"] == pytest.approx(want["roc_auc"])  # threshold-free


def sklearn_multilabel(truth: np.ndarray, score: np.ndarray, threshold: float) -> dict:
    """The metrics as scikit-learn computes them (what multilabel_metrics promises)."""
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        matthews_corrcoef,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    pred = (score > threshold).astype(np.int64)
    # scikit-learn reads an [N, 1] array as binary classes: give it the label's own F1.
    average = "micro" if truth.shape[1] > 1 else "binary"
    a, b = (truth, pred) if truth.shape[1] > 1 else (truth[:, 0], pred[:, 0])
    with warnings.catch_warnings():  # one class seen: scikit-learn warns, and gives 0
        warnings.simplefilter("ignore", UserWarning)
        mcc = matthews_corrcoef(truth.ravel(), pred.ravel())
    scored = [c for c in range(truth.shape[1]) if 0 < truth[:, c].sum() < truth.shape[0]]
    auc = np.mean([roc_auc_score(truth[:, c], score[:, c]) for c in scored]) if scored else math.nan
    micro_f1 = f1_score(a, b, average=average, zero_division=0.0)
    return {
        "accuracy": accuracy_score(truth, pred),
        "macro_f1": f1_score(
            a, b, average="macro" if truth.shape[1] > 1 else "binary", zero_division=0.0
        ),
        "f1": micro_f1,
        "precision": precision_score(a, b, average=average, zero_division=0.0),
        "recall": recall_score(a, b, average=average, zero_division=0.0),
        "mcc": mcc,
        "roc_auc": auc,
        "micro_f1": micro_f1,
    }


def assert_matches_sklearn(truth: np.ndarray, score: np.ndarray, threshold: float = 0.0) -> None:
    got = multilabel_metrics(truth, score, threshold=threshold)
    want = sklearn_multilabel(truth, score, threshold)
    assert list(got) == list(MULTILABEL_METRIC_KEYS)
    for key in MULTILABEL_METRIC_KEYS:
        if math.isnan(want[key]):
            assert math.isnan(got[key]), key
        else:
            assert got[key] == pytest.approx(float(want[key]), abs=1e-12), key


@pytest.mark.parametrize("case", range(40))
def test_multilabel_matches_sklearn(case: int) -> None:
    """Random label sets, coarse scores (ties, scores at the threshold), sparse labels."""
    rng = np.random.default_rng(case)
    n = int(rng.integers(1, 40))
    c = int(rng.integers(1, 7))
    density = rng.choice([0.05, 0.3, 0.6])
    truth = (rng.random((n, c)) < density).astype(np.int64)
    score = rng.integers(-2, 3, (n, c)).astype(np.float64) + truth * rng.integers(0, 2)
    assert_matches_sklearn(truth, score)
    assert_matches_sklearn(truth, rng.normal(size=(n, c)), threshold=float(rng.normal()))


def test_multilabel_edge_cases_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    truth = (rng.random((20, 4)) < 0.4).astype(np.int64)
    truth[:, 2] = 0  # a label never positive
    truth[:, 3] = 1  # a label always positive
    assert_matches_sklearn(truth, rng.normal(size=(20, 4)))
    assert_matches_sklearn(truth, -np.ones((20, 4)))  # nothing predicted
    assert_matches_sklearn(truth, np.ones((20, 4)))  # everything predicted
    assert_matches_sklearn(np.zeros((20, 4), dtype=np.int64), rng.normal(size=(20, 4)))
    assert_matches_sklearn(np.zeros((20, 4), dtype=np.int64), -np.ones((20, 4)))
    assert_matches_sklearn(truth[:1], rng.normal(size=(1, 4)))  # a single row
    assert_matches_sklearn(truth[:, :1], rng.normal(size=(20, 1)))  # a single label


def test_multilabel_undefined_values() -> None:
    nothing = multilabel_metrics(np.zeros((3, 2), dtype=int), -np.ones((3, 2)))
    assert nothing["accuracy"] == 1.0
    assert math.isnan(nothing["roc_auc"])
    assert [nothing[k] for k in ("micro_f1", "macro_f1", "precision", "recall", "mcc")] == [0.0] * 5
    assert to_jsonable(nothing)["roc_auc"] is None
    # the AUC skips the label that is never positive
    truth = np.array([[1, 0], [0, 0], [1, 0]])
    score = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.3]])
    assert multilabel_metrics(truth, score)["roc_auc"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("y_true", "y_score", "kwargs", "error", "match"),
    [
        ([0, 1], np.zeros((2, 1)), {}, ValueError, r"'y_true' of shape \[N, C\] \(got \[2\]\)"),
        ([[0, 1]], np.zeros(2), {}, ValueError, r"'y_score' of shape \[N, C\] \(got \[2\]\)"),
        ([[0, 1]], np.zeros((1, 3)), {}, ValueError, r"same shape \[N, C\] \(got \[1, 2\] and"),
        ([[0, 1]], np.zeros((2, 2)), {}, ValueError, "same shape"),
        (np.zeros((0, 2), dtype=int), np.zeros((0, 2)), {}, ValueError, "at least one row"),
        (np.zeros((2, 0), dtype=int), np.zeros((2, 0)), {}, ValueError, "at least one label"),
        ([[0, 1], [-1, -1]], np.zeros((2, 2)), {}, ValueError, r"only 0 and 1 \(got also \[-1\]\)"),
        ([[0, 1], [-1, -1]], np.zeros((2, 2)), {}, ValueError, r"drop unlabelled rows \(all -1\)"),
        ([[0, 2]], np.zeros((1, 2)), {}, ValueError, r"got also \[2\]"),
        ([[0.0, 0.5]], np.zeros((1, 2)), {}, ValueError, r"got also \[0.5\]"),
        ([[0, 1]], np.array([[0.0, np.nan]]), {}, ValueError, "'y_score' to be finite"),
        ([["a", "b"]], np.zeros((1, 2)), {}, TypeError, "bool, integer or float type"),
        ([[0, 1]], np.array([["a", "b"]]), {}, TypeError, "numeric type"),
        ("01", np.zeros((1, 2)), {}, TypeError, "'y_true' to be a torch.Tensor"),
        ([[0, 1]], np.zeros((1, 2)), {"threshold": math.nan}, ValueError, "'threshold' to be"),
        ([[0, 1]], np.zeros((1, 2)), {"threshold": "0.5"}, TypeError, "'threshold' to be a"),
    ],
)
def test_multilabel_errors(y_true, y_score, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        multilabel_metrics(y_true, y_score, **kwargs)
