"""Node classification metrics (single- and multi-label), and turning them into JSON."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mmgraph.eval._checks import as_labels, as_matrix, check_same_length, to_numpy
from mmgraph.names import METRIC_KEYS as METRIC_KEYS  # the keys of classification_metrics

MULTILABEL_METRIC_KEYS: tuple[str, ...] = (*METRIC_KEYS, "micro_f1")
"""The keys of :func:`multilabel_metrics`, in order."""

_PROBA_TOL = 1e-4


def scores_to_proba(y_score: np.ndarray) -> np.ndarray:
    """Return class probabilities from probabilities or logits ``[N, K]``.

    Rows that are all in ``[0, 1]`` and sum to one (within ``1e-4``) are taken as
    probabilities and returned as they are; anything else is taken as logits and passed
    through a softmax.
    """
    if y_score.size == 0:
        return y_score
    in_range = (y_score >= 0.0).all() and (y_score <= 1.0).all()
    if in_range and np.allclose(y_score.sum(axis=1), 1.0, rtol=0.0, atol=_PROBA_TOL):
        return y_score
    shifted = y_score - y_score.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def classification_metrics(
    y_true: Any,
    y_score: Any,
    positive_class: int | None = None,
    labels: Sequence[int] | None = None,
) -> dict[str, float]:
    r"""Accuracy, F1, precision, recall, MCC and ROC-AUC of class scores.

    The prediction of a node is the class of its highest score. With two classes, ``f1``,
    ``precision`` and ``recall`` are those of the positive class (``positive_class``, by
    default the second one, class ``1``) and ``roc_auc`` ranks nodes by its probability.
    With more classes they are macro-averaged (over the classes present in ``y_true`` or
    predicted, as scikit-learn does) unless ``positive_class`` is given, in which case they
    are that class's; ``roc_auc`` is the one-vs-rest macro average over the classes present
    in ``y_true``. ``macro_f1`` is always the macro average and ``mcc`` the (multiclass)
    Matthews correlation coefficient. A precision or recall whose denominator is zero counts
    as ``0``.

    ``roc_auc`` is ``NaN`` when it is undefined: only one class present in ``y_true``. Use
    :func:`to_jsonable` to write the result as JSON.

    Args:
        y_true (array-like): True classes ``[N]``, values from ``labels``. Drop unlabelled
            nodes (``-1``) first.
        y_score (array-like): Class probabilities ``[N, K]`` (rows in ``[0, 1]`` summing to
            one) or logits ``[N, K]`` (anything else; a softmax turns them into
            probabilities). Column ``j`` scores class ``labels[j]``.
        positive_class (int, optional): The class whose F1, precision and recall are
            reported. (default: :obj:`None`: class ``labels[1]`` when binary, the macro
            average otherwise)
        labels (Sequence[int], optional): The class of each column of ``y_score``.
            (default: :obj:`None`: ``0, 1, ..., K - 1``)

    Returns:
        A dict with the keys ``accuracy``, ``macro_f1``, ``f1``, ``precision``, ``recall``,
        ``mcc`` and ``roc_auc`` (Python floats).

    Shapes:
        N nodes, K classes (``K >= 2``).
    """
    truth = as_labels(y_true, "y_true")
    score = as_matrix(y_score, "y_score", cols="K")
    check_same_length(truth, score, "y_true", "y_score")
    if truth.size == 0:
        raise ValueError("Expected at least one node to evaluate (got 0)")
    k = score.shape[1]
    if k < 2:
        raise ValueError(
            f"Expected scores for at least 2 classes (got 'y_score' of shape {list(score.shape)})"
        )
    classes = np.arange(k) if labels is None else np.asarray(list(labels), dtype=np.int64)
    if classes.shape != (k,) or np.unique(classes).size != k:
        raise ValueError(
            f"Expected 'labels' to name {k} distinct classes, one per column of 'y_score' "
            f"(got {classes.tolist()})"
        )
    unknown = np.setdiff1d(np.unique(truth), classes)
    if unknown.size > 0:
        raise ValueError(
            f"Expected 'y_true' to hold only the classes {classes.tolist()} (got also "
            f"{unknown.tolist()}); drop unlabelled nodes (-1) or pass 'labels'"
        )
    if positive_class is None and k == 2:
        positive_class = int(classes[1])
    if positive_class is not None and positive_class not in classes.tolist():
        raise ValueError(
            f"Expected 'positive_class' to be one of {classes.tolist()} (got {positive_class})"
        )

    proba = scores_to_proba(score)
    column_pred = proba.argmax(axis=1)
    # One confusion matrix over the columns; the metrics below are scikit-learn's formulas
    # (tests compare them), computed from it directly: scikit-learn's per-call checks and
    # label handling cost ~30 ms a call, a large share of a small per-epoch evaluation.
    order = np.argsort(classes)
    column_true = order[np.searchsorted(classes, truth, sorter=order)]
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (column_true, column_pred), 1)
    tp = np.diag(confusion).astype(np.float64)
    true_sum = confusion.sum(axis=1).astype(np.float64)
    pred_sum = confusion.sum(axis=0).astype(np.float64)
    seen = (true_sum > 0) | (pred_sum > 0)  # scikit-learn's labels: present or predicted
    precision = _divide(tp, pred_sum)
    recall = _divide(tp, true_sum)
    f_score = _divide(2.0 * tp, true_sum + pred_sum)
    if positive_class is None:
        chosen = seen
    else:
        chosen = classes == positive_class

    n = float(truth.size)
    cov_tp = tp.sum() * n - float(true_sum @ pred_sum)
    cov_pp = n * n - float(pred_sum @ pred_sum)
    cov_tt = n * n - float(true_sum @ true_sum)
    mcc = 0.0 if cov_pp * cov_tt == 0 else cov_tp / math.sqrt(cov_tt * cov_pp)

    present = true_sum > 0
    if int(present.sum()) < 2:
        auc = math.nan
    elif k == 2:
        column = int(np.flatnonzero(classes == positive_class)[0])
        auc = _binary_auc(column_true == column, proba[:, column])
    else:
        auc = float(
            np.mean([_binary_auc(column_true == j, proba[:, j]) for j in np.flatnonzero(present)])
        )

    return {
        "accuracy": float(tp.sum() / n),
        "macro_f1": float(f_score[seen].mean()),
        "f1": float(f_score[chosen].mean()),
        "precision": float(precision[chosen].mean()),
        "recall": float(recall[chosen].mean()),
        "mcc": float(mcc),
        "roc_auc": auc,
    }


def multilabel_metrics(y_true: Any, y_score: Any, threshold: float = 0.0) -> dict[str, float]:
    r"""Micro-F1, subset accuracy, MCC and ROC-AUC of multi-label scores.

    Each row (a node or subgraph) may carry any number of the ``C`` labels. Label ``c`` is
    predicted for a row when its score is above ``threshold``: with the default ``0`` on
    logits that is a sigmoid probability above ``0.5``, the rule of SubGNN and GLASS, which
    report ``micro_f1``. Pass ``threshold=0.5`` when ``y_score`` holds probabilities.

    The values are scikit-learn's (tests compare them), computed with NumPy directly:

    - ``micro_f1``, ``f1``: :func:`~sklearn.metrics.f1_score` with ``average="micro"``, the
      F1 of all (row, label) decisions pooled; ``precision`` and ``recall`` likewise.
    - ``accuracy``: the share of rows whose predicted label set is exactly right (subset
      accuracy, :func:`~sklearn.metrics.accuracy_score` on indicator arrays).
    - ``macro_f1``: the mean of the ``C`` per-label F1 scores (``average="macro"``).
    - ``mcc``: the Matthews correlation coefficient of the flattened decisions
      (``y_true.ravel()`` against the predictions' ``ravel()``).
    - ``roc_auc``: the mean per-label ROC-AUC of the scores, over the labels with both a
      positive and a negative row in ``y_true``; :obj:`NaN` when there are none.

    A precision, recall or F1 whose denominator is zero counts as ``0``, as does an undefined
    MCC. With ``C = 1`` the F1, precision and recall are those of the single label
    (scikit-learn would read an ``[N, 1]`` array as binary classes and average over both).
    Use :func:`to_jsonable` to write the result as JSON.

    Args:
        y_true (array-like): True labels ``[N, C]``: ``0``/``1`` integers, bools or floats.
            Drop unlabelled rows (all ``-1``) first.
        y_score (array-like): Label scores ``[N, C]``, finite: logits, or probabilities
            with ``threshold=0.5``.
        threshold (float, optional): Label ``c`` is predicted where
            ``y_score[:, c] > threshold``. (default: :obj:`0.0`, for logits)

    Returns:
        A dict with the keys ``accuracy``, ``macro_f1``, ``f1``, ``precision``, ``recall``,
        ``mcc``, ``roc_auc`` and ``micro_f1`` (Python floats).

    Shapes:
        N rows, C labels (``C >= 1``).
    """
    truth = as_indicator(y_true, "y_true")
    score = as_matrix(y_score, "y_score", cols="C")
    if score.shape != truth.shape:
        raise ValueError(
            f"Expected 'y_true' and 'y_score' to have the same shape [N, C] (got "
            f"{list(truth.shape)} and {list(score.shape)})"
        )
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
        raise TypeError(f"Expected 'threshold' to be a float (got {type(threshold).__name__!r})")
    if not math.isfinite(threshold):
        raise ValueError(f"Expected 'threshold' to be finite (got {threshold})")

    pred = score > threshold
    # Per-label counts; scikit-learn's formulas on them (see classification_metrics).
    tp = (truth & pred).sum(axis=0).astype(np.float64)
    true_sum = truth.sum(axis=0).astype(np.float64)
    pred_sum = pred.sum(axis=0).astype(np.float64)
    tp_all, true_all, pred_all = float(tp.sum()), float(true_sum.sum()), float(pred_sum.sum())
    micro_precision = tp_all / pred_all if pred_all > 0 else 0.0
    micro_recall = tp_all / true_all if true_all > 0 else 0.0
    micro_f1 = 2.0 * tp_all / (true_all + pred_all) if true_all + pred_all > 0 else 0.0

    # Matthews correlation of the two classes 0 and 1 over all N * C decisions.
    n = float(truth.size)
    tn_all = n - true_all - pred_all + tp_all
    cov_tp = (tp_all + tn_all) * n - (true_all * pred_all + (n - true_all) * (n - pred_all))
    cov_pp = n * n - (pred_all**2 + (n - pred_all) ** 2)
    cov_tt = n * n - (true_all**2 + (n - true_all) ** 2)
    mcc = 0.0 if cov_pp * cov_tt == 0 else cov_tp / math.sqrt(cov_tt * cov_pp)

    rows = truth.shape[0]
    scored = np.flatnonzero((true_sum > 0) & (true_sum < rows))
    if scored.size == 0:
        auc = math.nan
    else:
        auc = float(np.mean([_binary_auc(truth[:, c], score[:, c]) for c in scored]))

    return {
        "accuracy": float((truth == pred).all(axis=1).mean()),
        "macro_f1": float(_divide(2.0 * tp, true_sum + pred_sum).mean()),
        "f1": micro_f1,
        "precision": micro_precision,
        "recall": micro_recall,
        "mcc": float(mcc),
        "roc_auc": auc,
        "micro_f1": micro_f1,
    }


def as_indicator(value: Any, name: str) -> np.ndarray:
    """Return a label indicator matrix ``[N, C]`` of ``0``/``1`` as a bool array."""
    arr = to_numpy(value, name)
    if arr.ndim != 2:
        raise ValueError(f"Expected '{name}' of shape [N, C] (got {list(arr.shape)})")
    if arr.shape[0] == 0:
        raise ValueError(
            f"Expected at least one row to evaluate (got '{name}' of shape {list(arr.shape)})"
        )
    if arr.shape[1] == 0:
        raise ValueError(
            f"Expected at least one label column (got '{name}' of shape {list(arr.shape)})"
        )
    if not (
        arr.dtype == np.bool_
        or np.issubdtype(arr.dtype, np.integer)
        or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(
            f"Expected '{name}' to be of bool, integer or float type (got {str(arr.dtype)!r})"
        )
    if arr.dtype == np.bool_:
        return arr
    is_zero, is_one = arr == 0, arr == 1
    if not (is_zero | is_one).all():
        others = np.unique(arr[~(is_zero | is_one)])
        raise ValueError(
            f"Expected '{name}' to hold only 0 and 1 (got also {others[:5].tolist()}); drop "
            "unlabelled rows (all -1) first"
        )
    return is_one


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with ``0`` where the denominator is zero."""
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``, tied values sharing the mean of their ranks.

    ``scipy.stats.rankdata``'s default, without importing ``scipy.stats`` (about 2 s).
    """
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    # first position of each run of equal values, and the run each position belongs to
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.size]
    run = np.repeat(np.arange(starts.size), ends - starts)
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = ((starts + 1 + ends) / 2.0)[run]
    return ranks


def _binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC of ``score`` for the ``positive`` rows: the Mann-Whitney statistic.

    The share of (positive, negative) pairs that the score orders right, ties counting half,
    which is the area under the ROC curve that scikit-learn integrates.
    """
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    ranks = _average_ranks(score)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def to_jsonable(metrics: Any) -> Any:
    """Return ``metrics`` with ``NaN`` and infinities as ``None`` and plain Python numbers.

    Walks dicts, lists and tuples; NumPy and 0-d PyTorch scalars become Python numbers, so
    the result can go to :func:`json.dump` (which would otherwise write the non-standard
    ``NaN``).

    Args:
        metrics (Any): A metric dict such as :func:`classification_metrics` returns, possibly
            nested.
    """
    if isinstance(metrics, Mapping):
        return {str(key): to_jsonable(value) for key, value in metrics.items()}
    if isinstance(metrics, (list, tuple)):
        return [to_jsonable(value) for value in metrics]
    if hasattr(metrics, "item") and getattr(metrics, "ndim", None) == 0:
        metrics = metrics.item()
    if isinstance(metrics, bool) or metrics is None or isinstance(metrics, (str, int)):
        return metrics
    if isinstance(metrics, float):
        return metrics if math.isfinite(metrics) else None
    raise TypeError(
        f"Expected numbers, strings, None, lists or dicts (got {type(metrics).__name__!r})"
    )
