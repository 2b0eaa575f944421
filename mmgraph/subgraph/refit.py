r"""Refit a trained classifier's last linear layer to convergence on frozen inputs.

Trained end to end by Adam on minibatches, the last layer of a subgraph classifier stops
far from where a convex fit of the same layer lands. On tasks whose classes are
thresholds of an exact count (SubGNN's cut ratio: the label is a tertile of the number of
boundary edges, classes one edge apart), GLASS's trained head fitted 94.5-98.2% of the
training subgraphs on generated instances 0-4 (means over five seeds) and a refit of the
same embeddings 98.0-100%: the trained thresholds sit where a soft fit puts them, not
between the classes. :func:`refit_head`
keeps every layer before the last one and replaces the last one's weights with an
L2-regularised multinomial logistic regression (scikit-learn, lbfgs) on its inputs for
the training subgraphs, standardised, with the inverse regularisation :math:`C` chosen by
stratified cross-validation on those same training subgraphs (:data:`REFIT_CS`; ties: the
smaller :math:`C`). Neither validation nor test subgraphs enter the fit or the choice.
The fitted map is folded back into the layer, :math:`\mathbf{W}' = \mathbf{A}
\operatorname{diag}(\boldsymbol{\sigma})^{-1}`, :math:`\mathbf{b}' = \mathbf{c} -
\mathbf{W}' \boldsymbol{\mu}`, so the model predicts with it as it is.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from mmgraph.names import HEAD_FITS as HEAD_FITS  # ``head_fit`` options

log = logging.getLogger(__name__)

REFIT_CS: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)
"""The inverse regularisation strengths :func:`refit_head` cross-validates."""

REFIT_FOLDS = 5
"""Cross-validation folds of :func:`refit_head` (fewer when a class has fewer members)."""


def head_inputs(model: nn.Module, embeddings: Tensor) -> Tensor:
    """What the last linear layer of ``model.head`` receives for ``embeddings`` (eval mode)."""
    head = classifier_head(model)
    x = embeddings
    with torch.no_grad():
        for layer in list(head)[:-1]:
            x = layer(x)
    return x


def last_linear(model: nn.Module) -> nn.Linear:
    """The last layer of ``model.head``, the one :func:`refit_head` refits."""
    last = classifier_head(model)[-1]
    assert isinstance(last, nn.Linear)  # checked by classifier_head
    return last


def classifier_head(model: nn.Module) -> nn.Sequential:
    """``model.head``, checked to end in an :class:`torch.nn.Linear` with a bias."""
    head = getattr(model, "head", None)
    if (
        not isinstance(head, nn.Sequential)
        or not isinstance(head[-1], nn.Linear)
        or head[-1].bias is None
    ):
        raise ValueError(
            "refit_head needs a model whose 'head' is an nn.Sequential ending in an "
            f"nn.Linear with a bias (got {type(head).__name__}); a model without classes has "
            "no head to refit"
        )
    return head


def refit_head(
    model: nn.Module,
    embeddings: Tensor,
    y: Tensor,
    seed: int = 0,
    cs: tuple[float, ...] = REFIT_CS,
    folds: int = REFIT_FOLDS,
) -> dict[str, Any]:
    """Refit the last linear layer of ``model.head`` on the training ``embeddings``.

    Args:
        model (torch.nn.Module): A classifier with a ``head`` (:class:`torch.nn.Sequential`
            ending in an :class:`torch.nn.Linear`), in eval mode.
        embeddings (torch.Tensor): The training subgraphs' embeddings ``[S, D]``
            (``model.encode`` in eval mode).
        y (torch.Tensor): Their classes ``[S]``, in ``0 .. num_classes - 1``.
        seed (int, optional): Seed of the cross-validation folds. (default: :obj:`0`)
        cs (tuple[float, ...], optional): Inverse regularisation strengths to choose from.
            (default: :data:`REFIT_CS`)
        folds (int, optional): Cross-validation folds at most. (default: :obj:`5`)

    Returns:
        A record of the refit: ``refit`` (bool), the chosen ``C`` and its
        ``cv_accuracy``, the ``folds``, and the training accuracy of the head before and
        after; with ``refit=False`` a ``reason`` (a class without two training members,
        non-finite inputs), the head left as trained.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    last = last_linear(model)
    x = head_inputs(model, embeddings).detach().double().cpu().numpy()
    labels = y.detach().long().cpu().numpy()
    if x.shape[0] != labels.shape[0]:
        raise ValueError(
            f"Expected one class per embedding (got {x.shape[0]} embeddings and "
            f"{labels.shape[0]} classes)"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= last.out_features):
        raise ValueError(
            f"Expected classes in 0..{last.out_features - 1} (got {labels.min()}.."
            f"{labels.max()}): pass the labelled training subgraphs only"
        )
    with torch.no_grad():
        before = _accuracy(last(torch.as_tensor(x, dtype=last.weight.dtype)), labels)
    counts = np.bincount(labels, minlength=last.out_features)
    record: dict[str, Any] = {"refit": False, "train_accuracy_before": before}
    if counts.min() < 2:
        record["reason"] = (
            "a class has fewer than two training subgraphs: "
            f"counts per class {counts.tolist()}; the trained head is kept"
        )
        log.info("Head refit skipped: %s", record["reason"])
        return record
    if not np.isfinite(x).all():
        record["reason"] = "non-finite embeddings; the trained head is kept"
        log.info("Head refit skipped: %s", record["reason"])
        return record
    mu = x.mean(0)
    sd = x.std(0)
    sd[sd < 1e-12] = 1.0
    z = (x - mu) / sd
    k = int(min(folds, counts.min()))
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    scores = [
        float(
            cross_val_score(
                LogisticRegression(C=c, max_iter=5000), z, labels, cv=cv, scoring="accuracy"
            ).mean()
        )
        for c in cs
    ]
    best = max(range(len(cs)), key=lambda i: (scores[i], -i))  # ties: the smaller C
    fit = LogisticRegression(C=cs[best], max_iter=5000).fit(z, labels)
    coef, intercept = fit.coef_, fit.intercept_
    if coef.shape[0] == 1:  # two classes: one logit difference, split over both rows
        coef = np.concatenate([-coef / 2, coef / 2])
        intercept = np.concatenate([-intercept / 2, intercept / 2])
    weight = coef / sd
    bias = intercept - weight @ mu
    with torch.no_grad():
        last.weight.copy_(torch.as_tensor(weight, dtype=last.weight.dtype))
        last.bias.copy_(torch.as_tensor(bias, dtype=last.bias.dtype))
        after = _accuracy(last(torch.as_tensor(x, dtype=last.weight.dtype)), labels)
    record.update(
        refit=True,
        C=cs[best],
        cv_accuracy=scores[best],
        folds=k,
        train_accuracy_after=after,
    )
    log.info("Head refit: %s", record)
    return record


def _accuracy(logits: Tensor, labels: np.ndarray) -> float:
    if not labels.size:
        return float("nan")
    return float((logits.argmax(-1).cpu().numpy() == labels).mean())
