"""Seeded, stratified train/validation/test splits."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from mmgraph.data.graph import labelled_rows
from mmgraph.seed import make_generator

SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")
"""The split names a node (or a subgraph) can carry: ``{name}_mask`` of a graph."""


def stratified_split(
    y: Tensor,
    train: float = 0.6,
    val: float = 0.2,
    test: float = 0.2,
    seed: int = 0,
) -> tuple[Tensor, Tensor, Tensor]:
    """Split labelled nodes into train/val/test masks with the same class ratios in each.

    Within every class the nodes are shuffled with ``seed`` and cut at the given fractions
    (rounded, at least one training node per class). Nodes labelled ``-1`` fall in no split.
    Fractions that sum to one place every labelled node: the ones rounding leaves over go
    to the last split with a positive fraction (a class of 7 at 0.6/0.2/0.2: 4, 1 and 2).
    Fractions that sum to less leave the rest out of all three masks.

    Args:
        y (torch.Tensor): Labels ``[N]``, ``-1`` for unlabelled; or multi-label 0/1 rows
            ``[N, C]`` (all ``-1`` for unlabelled), stratified on each row's label set.
        train (float, optional): Fraction of each class for training. (default: :obj:`0.6`)
        val (float, optional): Fraction for validation. (default: :obj:`0.2`)
        test (float, optional): Fraction for testing. (default: :obj:`0.2`)
        seed (int, optional): Seed of the shuffle. (default: :obj:`0`)

    Returns:
        (train_mask, val_mask, test_mask), bool tensors ``[N]``.
    """
    for label, frac in (("train", train), ("val", val), ("test", test)):
        if not 0.0 <= frac <= 1.0:
            raise ValueError(f"Expected the '{label}' fraction in [0, 1] (got {frac})")
    if train + val + test > 1.0 + 1e-9:
        raise ValueError(
            f"Expected split fractions that sum to at most 1 (got {train} + {val} + {test} = "
            f"{train + val + test:.3g})"
        )
    if y.dim() == 2:  # multi-label rows: stratify on each row's set of labels
        _, strata = torch.unique(y, dim=0, return_inverse=True)
        y = torch.where(labelled_rows(y), strata, torch.full_like(strata, -1))
    if y.dim() != 1:
        raise ValueError(f"Expected labels of shape [N] or [N, C] (got {list(y.shape)})")
    n = y.numel()
    masks = [torch.zeros(n, dtype=torch.bool) for _ in range(3)]
    whole = abs(train + val + test - 1.0) <= 1e-9
    last = 2 if test > 0 else 1 if val > 0 else 0
    gen = make_generator(seed)
    for cls in torch.unique(y[y >= 0]).tolist():
        idx = (y == cls).nonzero().view(-1)
        idx = idx[torch.randperm(idx.numel(), generator=gen)]
        k = idx.numel()
        n_train = max(1, round(train * k)) if train > 0 else 0
        n_val = min(round(val * k), k - n_train)
        n_test = min(round(test * k), k - n_train - n_val)
        counts = [n_train, n_val, n_test]
        if whole:  # the nodes rounding left over (at the end of idx) join the last split
            counts[last] += k - sum(counts)
        start = 0
        for mask, count in zip(masks, counts, strict=True):
            mask[idx[start : start + count]] = True
            start += count
    return masks[0], masks[1], masks[2]


def split_off_validation(
    y: Tensor, rows: Tensor, share: float, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """Split the labelled ``rows`` of ``y`` into training and validation masks.

    A stratified ``share`` of them (:func:`stratified_split`, seeded) validates, the rest
    trains; every other row is in neither. For a choice made inside a training set alone:
    a fold's training graphs, or a split without validation subgraphs.

    Args:
        y (torch.Tensor): Labels ``[N]`` (or multi-label rows ``[N, C]``), ``-1`` unlabelled.
        rows (torch.Tensor): The rows to split, a bool mask ``[N]`` or indices.
        share (float): The validation share.
        seed (int, optional): Seed of the shuffle. (default: :obj:`0`)

    Returns:
        (train_mask, val_mask), bool tensors ``[N]``.
    """
    inner = torch.full_like(y, -1)
    inner[rows] = y[rows]
    train, val, _ = stratified_split(inner, 1.0 - share, share, 0.0, seed=seed)
    return train, val


def check_trainable_split(
    graph: Any,
    source: str,
    how: str,
    parts: tuple[str, ...] = ("train", "val"),
) -> None:
    """Refuse a split a classifier cannot train on, naming ``source`` and the fix ``how``.

    Each split of ``parts`` must hold a labelled node (``{part}_mask``), and the training
    nodes of single-label ``y`` at least two classes (a classifier of one class learns
    nothing, and its test accuracy would be that of a constant). The command line's
    :func:`~mmgraph.tasks.node_classification.check_trainable` and
    :meth:`~mmgraph.train.Trainer.fit` (default objective, ``parts=("train",)``) share it.

    Raises:
        InputError: Naming the empty split or the one class.
    """
    from mmgraph.errors import InputError

    subject = source[:1].upper() + source[1:]  # it starts the sentence
    y = getattr(graph, "y", None)
    if y is None:
        raise InputError(f"{subject} has no labels 'y': a classifier needs them")
    labelled = labelled_rows(y)
    names = {"train": "training", "val": "validation", "test": "test"}
    for part in parts:
        mask = getattr(graph, f"{part}_mask", None)
        if mask is None or not bool((mask & labelled).any()):
            raise InputError(
                f"{subject} has no labelled {names[part]} nodes ({labelled.numel()} nodes, "
                f"{int(labelled.sum())} labelled): {how}"
            )
    if y.dim() != 1:
        return
    train = graph.train_mask & labelled
    classes = torch.unique(y[train])
    if classes.numel() < 2:
        class_names = getattr(graph, "class_names", None)
        only = class_names[int(classes[0])] if class_names else str(int(classes[0]))
        raise InputError(
            f"The training nodes of {source} all have the label {only!r}: a classifier needs "
            "at least two classes among them"
        )


def split_overlaps(graph: Any) -> list[str]:
    """Pairs of ``graph``'s splits that share labelled nodes, as ``"train and test: 12"``."""
    y = getattr(graph, "y", None)
    masks = {p: getattr(graph, f"{p}_mask", None) for p in SPLIT_NAMES}
    if y is None:
        return []
    labelled = labelled_rows(y)
    found = []
    for i, a in enumerate(SPLIT_NAMES):
        for b in SPLIT_NAMES[i + 1 :]:
            ma, mb = masks[a], masks[b]
            if ma is None or mb is None or ma.shape != mb.shape or ma.shape != labelled.shape:
                continue
            shared = int((ma & mb & labelled).sum())
            if shared:
                found.append(f"{a} and {b}: {shared}")
    return found
