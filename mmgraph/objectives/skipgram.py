r"""Skip-gram with negative sampling (SGNS): the losses over the windows of random walks.

`"Distributed Representations of Words and Phrases and their Compositionality"
<https://arxiv.org/abs/1310.4546>`_ (word2vec), applied to walks by DeepWalk and node2vec.
A node :math:`c` and each node :math:`o` of its context should score high, and :math:`K`
sampled "negative" nodes :math:`n_k` low:

.. math::
    \ell(c, o) = -\log \sigma(\mathbf{u}_c^\top \mathbf{v}_o)
    - \sum_{k=1}^{K} \log \sigma(-\mathbf{u}_c^\top \mathbf{v}_{n_k})

averaged over all (center, context) pairs. :math:`\mathbf{u}` are center embeddings and
:math:`\mathbf{v}` context embeddings (the same table for a GNN encoder, two tables for a
shallow word2vec-style model).

This module holds the losses only: :func:`skipgram_loss` (of embedded pairs, reused by
Sub2Vec), :func:`walk_skipgram_loss` (vectorised over a batch of walks) and
:class:`SkipGramObjective` (the loss of a model with center and context tables). The walks,
windows and negatives they read come from :mod:`mmgraph.sampling`
(:class:`~mmgraph.sampling.WalkSampler`, :class:`~mmgraph.sampling.WalkLoader`,
:class:`~mmgraph.sampling.NegativeSampler`, :func:`~mmgraph.sampling.window_pairs`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.sampling.checks import check_ids, check_int
from mmgraph.sampling.corpus import window_index


def skipgram_loss(
    center: Tensor, context: Tensor, negatives: Tensor, weight: Tensor | None = None
) -> Tensor:
    r"""The skip-gram negative-sampling loss of embedded pairs.

    .. math::
        \mathcal{L} = \frac{1}{\sum_i w_i} \sum_{i=1}^{P} w_i \Big(
        -\log \sigma(\mathbf{u}_i^\top \mathbf{v}_i)
        - \sum_{k=1}^{K} \log \sigma(-\mathbf{u}_i^\top \mathbf{n}_{ik}) \Big)

    Args:
        center (torch.Tensor): Center embeddings :math:`\mathbf{u}` ``[P, D]``.
        context (torch.Tensor): Context embeddings :math:`\mathbf{v}` ``[P, D]``.
        negatives (torch.Tensor): Embeddings of each pair's negatives ``[P, K, D]``
            (``K`` may be 0).
        weight (torch.Tensor, optional): Weight of each pair ``[P]``; :obj:`None` weighs
            all pairs 1. (default: :obj:`None`)

    Returns:
        torch.Tensor: The scalar loss (0 for no pairs).

    Shapes:
        P pairs, K negatives per pair, D embedding dimensions.
    """
    if center.dim() != 2 or context.shape != center.shape:
        raise ValueError(
            "Expected 'center' and 'context' of the same shape [P, D] "
            f"(got {list(center.shape)} and {list(context.shape)})"
        )
    p, d = center.shape
    if negatives.dim() != 3 or negatives.size(0) != p or negatives.size(2) != d:
        raise ValueError(
            f"Expected 'negatives' to have shape [{p}, K, {d}] (got {list(negatives.shape)})"
        )
    if weight is not None and weight.shape != (p,):
        raise ValueError(f"Expected 'weight' to have shape [{p}] (got {list(weight.shape)})")
    pos = F.logsigmoid((center * context).sum(-1))
    neg = F.logsigmoid(-torch.einsum("pd,pkd->pk", center, negatives)).sum(-1)
    loss = -(pos + neg)
    if weight is None:
        return loss.mean() if p else loss.sum()
    total = weight.sum()
    return (loss * weight).sum() / total.clamp(min=torch.finfo(loss.dtype).tiny)


def walk_skipgram_loss(
    walks: Tensor,
    negatives: Tensor,
    center: Tensor,
    context: Tensor | None = None,
    context_size: int = 10,
) -> Tensor:
    r"""The skip-gram loss over all windows of a batch of walks, vectorised.

    Equals :func:`skipgram_loss` over the pairs of :func:`~mmgraph.sampling.window_pairs`,
    each pair scored against the negatives of its window, but computes the scores of each
    walk's pairs in one batched matrix product instead of gathering them pair by pair.

    Args:
        walks (torch.Tensor): Walks ``[B, L]``: row indices into ``center`` (and
            ``context``), ``-1`` for padding.
        negatives (torch.Tensor): Negatives of each window ``[B, W, K]``, row indices into
            ``context``, with ``W = L - context_size + 1``.
        center (torch.Tensor): Center embeddings ``[N, D]``.
        context (torch.Tensor, optional): Context embeddings ``[N, D]``; :obj:`None` uses
            ``center`` (one table, as for a GNN encoder). (default: :obj:`None`)
        context_size (int, optional): Nodes per window. (default: :obj:`10`)

    Returns:
        torch.Tensor: The mean loss over the valid pairs (0 if there are none).

    Shapes:
        B walks of L nodes, W windows per walk, K negatives per window, N rows of D
        dimensions.
    """
    walks = check_ids(walks, "walks", 2)
    negatives = check_ids(negatives, "negatives", 3)
    b, length = walks.shape
    rows, cols = window_index(length, context_size)
    w = rows.size(0)
    if negatives.shape[:2] != (b, w):
        raise ValueError(
            f"Expected 'negatives' to have shape [{b}, {w}, K] (one row per window) "
            f"(got {list(negatives.shape)})"
        )
    if center.dim() != 2:
        raise ValueError(f"Expected 'center' to have shape [N, D] (got {list(center.shape)})")
    if context is None:
        context = center
    elif context.shape != center.shape:
        raise ValueError(
            f"Expected 'context' to have the shape of 'center' {list(center.shape)} "
            f"(got {list(context.shape)})"
        )
    d = center.size(1)
    valid = walks >= 0
    index = walks.clamp(min=0)
    # Centers only where windows start; contexts everywhere (contiguous gathers).
    u = center.index_select(0, index[:, :w].reshape(-1)).view(b, w, d)
    v = context.index_select(0, index.view(-1)).view(b, length, d)
    # All center-context scores of each walk in one product, then the window pairs.
    scores = torch.bmm(u, v.transpose(1, 2)).view(b, w * length)
    flat = (torch.arange(w).unsqueeze(1) * length + cols).view(-1)
    pos = F.logsigmoid(scores.index_select(1, flat)).view(b, w, -1)
    pair_valid = (valid[:, rows] & valid[:, cols]).to(u.dtype)  # [B, W, C - 1]
    n_pairs = pair_valid.sum()
    k = negatives.size(2)
    neg_emb = context.index_select(0, negatives.view(-1)).view(b, w, k, d)
    neg_scores = (neg_emb * u.unsqueeze(2)).sum(-1)  # [B, W, K]
    neg = F.logsigmoid(-neg_scores).sum(-1)  # [B, W]
    total = (pos * pair_valid).sum() + (neg * pair_valid.sum(-1)).sum()
    return -total / n_pairs.clamp(min=1.0)


class SkipGramObjective:
    """The skip-gram loss of a model with center and context embedding tables.

    The model has ``center_embedding(ids) -> [n, D]`` and ``context_embedding(ids) ->
    [n, D]`` (e.g. :class:`~mmgraph.embedding.SkipGramEmbedding`); each batch is a
    :class:`~mmgraph.sampling.WalkBatch`. Only the rows of the nodes in the batch are
    looked up, so sparse embedding tables get sparse gradients over those rows alone.

    Args:
        context_size (int): Nodes per window.
    """

    name = "skipgram"

    def __init__(self, context_size: int) -> None:
        self.context_size = check_int(context_size, "context_size", 2)

    def input_nodes(self, graph: Data) -> None:
        """Every node starts walks."""
        return None

    def __call__(self, model: nn.Module, batch: Data) -> Tensor:
        """The loss on ``batch`` (a :class:`~mmgraph.sampling.WalkBatch`)."""
        walks, negatives = batch.walks, batch.negatives
        ids, inverse = torch.unique(
            torch.cat([walks.view(-1), negatives.view(-1)]), return_inverse=True
        )
        padded = bool(ids.numel()) and int(ids[0]) < 0
        if padded:  # -1 sorts first: drop it, padding stays -1
            ids, inverse = ids[1:], inverse - 1
        local_walks = inverse[: walks.numel()].view(walks.shape)
        local_neg = inverse[walks.numel() :].view(negatives.shape)
        center = model.center_embedding(ids)  # type: ignore[operator]
        context = model.context_embedding(ids)  # type: ignore[operator]
        return walk_skipgram_loss(local_walks, local_neg, center, context, self.context_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(context_size={self.context_size})"
