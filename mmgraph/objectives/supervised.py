"""Supervised classification loss (one class per item, or several labels per item)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.data.graph import labelled_rows


def seed_count(batch: Data) -> int:
    """Number of seed nodes of a batch: ``batch.batch_size`` for sampled subgraphs, else all."""
    size = getattr(batch, "batch_size", None)
    return int(size) if size is not None else int(batch.num_nodes)


def balanced_class_weights(y: Tensor, num_classes: int) -> Tensor:
    """Inverse-frequency class weights ``n / (K * n_k)`` of the labelled nodes in ``y``.

    Classes absent from ``y`` get weight 0 (they contribute no loss term anyway). For
    multi-label ``y`` (0/1 rows ``[N, C]``) each label's positive weight ``n_neg / n_pos``
    (binary cross-entropy's ``pos_weight``), so that a label's positive and negative rows
    weigh the same; ``1`` for a label without positive or negative rows.
    """
    if y.dim() == 2:
        y = y[labelled_rows(y)].float()
        pos = y.sum(dim=0)
        neg = y.shape[0] - pos
        weights = torch.ones(y.shape[1])
        both = (pos > 0) & (neg > 0)
        weights[both] = neg[both] / pos[both]
        return weights
    y = y[y >= 0]
    counts = torch.bincount(y, minlength=num_classes).float()
    weights = torch.zeros(num_classes)
    present = counts > 0
    weights[present] = y.numel() / (int(present.sum()) * counts[present])
    return weights


class SupervisedObjective:
    """Cross-entropy on the labelled training nodes among a batch's seed nodes.

    With multi-label ``y`` (0/1 rows ``[N, C]``, all ``-1`` for unlabelled) the loss is the
    binary cross-entropy of each label's logit, ``class_weights`` its ``pos_weight``
    (:func:`balanced_class_weights`).

    When the model has an auxiliary loss (``model.has_auxiliary_loss``, e.g. a coordination
    loss between modalities, or the translation head's loss), it is added: the model is then
    called as
    ``model(batch, return_aux=True) -> (logits, aux_loss)``.

    Args:
        class_weights (torch.Tensor, optional): Weight per class. (default: :obj:`None`)
        mask_key (str, optional): Node mask selecting the nodes that contribute.
            (default: ``"train_mask"``)
    """

    name = "supervised"
    uses_labels = True
    """The loss reads the labels, so the trainer can validate on them (a class-level flag
    that every objective may set; absent means :obj:`False`)."""

    def __init__(self, class_weights: Tensor | None = None, mask_key: str = "train_mask") -> None:
        self.class_weights = class_weights
        self.mask_key = mask_key

    def input_nodes(self, graph: Data) -> Tensor:
        """The seed nodes of mini-batches: the training nodes with a label."""
        return self._selected(graph, graph.num_nodes).nonzero().view(-1)

    def _selected(self, batch: Data, n: int) -> Tensor:
        y = getattr(batch, "y", None)
        mask = getattr(batch, self.mask_key, None)
        if y is None:
            raise ValueError(
                "The graph has no labels 'y': supervised training needs a label column "
                "(set 'label' in the dataset card), or use an unsupervised objective"
            )
        if mask is None:
            raise ValueError(
                f"The graph has no '{self.mask_key}': set a split first (e.g. `graph.set_split()`)"
            )
        return mask[:n] & labelled_rows(y[:n])

    def __call__(self, model: nn.Module, batch: Data) -> Tensor:
        """Return the mean (class-weighted) cross-entropy over the selected seed nodes."""
        n = seed_count(batch)
        aux = None
        if getattr(model, "has_auxiliary_loss", False):
            logits, aux = model(batch, return_aux=True)
        else:
            logits = model(batch)
        logits = logits[:n]
        selected = self._selected(batch, n)
        if not bool(selected.any()):
            loss = logits.sum() * 0.0
        else:
            weights = self.class_weights
            weight = None if weights is None else weights.to(logits.device, logits.dtype)
            loss = supervised_loss(logits[selected], batch.y[:n][selected], weight)
        return loss if aux is None else loss + aux


def supervised_loss(
    logits: Tensor, y: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """Cross-entropy of class ids ``y`` ``[N]``, or binary cross-entropy of 0/1 rows ``[N, C]``.

    ``weight``: class weights, or for rows of labels each label's ``pos_weight``.
    ``reduction="none"``: one loss per row ``[N]`` (for rows of labels, the mean over the
    row's labels), whose mean is the ``"mean"`` loss when ``weight`` is None.
    """
    if reduction not in ("mean", "none"):
        raise ValueError(f"Expected reduction 'mean' or 'none' (got {reduction!r})")
    if y.dim() == 2:
        loss = F.binary_cross_entropy_with_logits(
            logits, y.to(logits.dtype), pos_weight=weight, reduction=reduction
        )
        return loss if reduction == "mean" else loss.mean(dim=1)
    return F.cross_entropy(logits, y, weight=weight, reduction=reduction)
