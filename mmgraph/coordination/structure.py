"""Structure-preserving constraints (Wang et al., 2016) with the graph or labels as structure."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.coordination._pairs import (
    ALL,
    check_margin,
    check_num_samples,
    check_pair,
    zero_loss,
)
from mmgraph.coordination._triplets import NeighbourSampler
from mmgraph.errors import InputError
from mmgraph.resolver import InputTypeError
from mmgraph.seed import global_or_seeded

DISTANCES = ("cosine", "euclidean")

DEFAULT_NUM_SAMPLES = 10
"""Triplets drawn per anchor and term by default. Each triplet draws both a positive and a
negative, so this is twice word2vec's usual 5 negatives; the loss then averages over
``10 * n`` triplets per term, enough for a stable gradient at any graph size."""


def distance_matrix(a: Tensor, b: Tensor, distance: str = "cosine") -> Tensor:
    r"""Pairwise distances ``D[i, j] = d(a_i, b_j)``: cosine distance or Euclidean distance.

    Args:
        a (Tensor): ``[N, D]``.
        b (Tensor): ``[M, D]``.
        distance (str, optional): ``"cosine"`` (:math:`1 - \cos`) or ``"euclidean"``.
            (default: :obj:`"cosine"`)
    """
    if distance not in DISTANCES:
        raise InputError(f"Unknown distance {distance!r}; valid distances: {', '.join(DISTANCES)}")
    if distance == "cosine":
        return 1.0 - F.normalize(a, dim=1) @ F.normalize(b, dim=1).t()
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.t()
    return sq.clamp_min(1e-12).sqrt()


def _check_neighbours(n: int, edge_index: Tensor | None, y: Tensor | None) -> None:
    """Check the structure given to :func:`neighbour_matrix` or the loss.

    Raises:
        InputError: Neither ``edge_index`` nor ``y`` is given, or one has the wrong shape or
            values.
        InputTypeError: ``edge_index`` is not an integer tensor.
    """
    if edge_index is None and y is None:
        raise InputError(
            "Expected 'edge_index' or 'y' (or both) to say which nodes are neighbours (got neither)"
        )
    if edge_index is not None:
        if not isinstance(edge_index, Tensor) or edge_index.dtype not in (torch.long, torch.int):
            got = (
                str(edge_index.dtype)
                if isinstance(edge_index, Tensor)
                else type(edge_index).__name__
            )
            raise InputTypeError(f"Expected 'edge_index' to be of integer type (got {got!r})")
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise InputError(
                f"Expected 'edge_index' of shape [2, E] (got {list(edge_index.shape)})"
            )
        if edge_index.numel() and (edge_index.min() < 0 or edge_index.max() >= n):
            raise InputError(f"Expected 'edge_index' values in [0, {n}) (got values outside)")
    if y is not None:
        if not isinstance(y, Tensor) or y.shape != (n,) or y.is_floating_point():
            got = f"{y.dtype} {list(y.shape)}" if isinstance(y, Tensor) else type(y).__name__
            raise InputError(f"Expected 'y' to be an integer tensor of shape [{n}] (got {got})")


def neighbour_matrix(
    n: int,
    edge_index: Tensor | None = None,
    y: Tensor | None = None,
    device: torch.device | None = None,
) -> Tensor:
    """Dense bool ``[n, n]``: :obj:`True` where two nodes are linked or share a label.

    Edges count in either direction; labels ``< 0`` mean unlabelled and match nothing. The
    diagonal is :obj:`False`.

    Args:
        n (int): Number of nodes.
        edge_index (Tensor, optional): Edges ``[2, E]`` into ``[0, n)``.
        y (Tensor, optional): Labels ``[n]``.
        device (torch.device, optional): Device of the result.
    """
    _check_neighbours(n, edge_index, y)
    adj = torch.zeros(n, n, dtype=torch.bool, device=device)
    if edge_index is not None:
        ei = edge_index.to(device=adj.device, dtype=torch.long)
        adj[ei[0], ei[1]] = True
        adj[ei[1], ei[0]] = True
    if y is not None:
        y = y.to(adj.device)
        adj |= (y[:, None] == y[None, :]) & (y[:, None] >= 0)
    adj.fill_diagonal_(False)
    return adj


def _exact_term(dist: Tensor, pos: Tensor, neg: Tensor, margin: float) -> Tensor | None:
    """Mean over anchors (with a positive and a negative) of the mean hinge of all triplets."""
    anchors = pos.any(1) & neg.any(1)
    if not bool(anchors.any()):
        return None
    dist, pos, neg = dist[anchors], pos[anchors], neg[anchors]
    # hinge[i, j, k] = relu(margin + D[i, j] - D[i, k]) for j positive, k negative
    hinge = F.relu(margin + dist[:, :, None] - dist[:, None, :])
    weight = pos[:, :, None] & neg[:, None, :]
    per_anchor = (hinge * weight).sum((1, 2)) / weight.sum((1, 2))
    return per_anchor.mean()


_Pairs = list[tuple[Tensor, Tensor, bool]]
"""The terms ``(s, t, self_positive)``: anchors in ``s``, their positives and negatives in
``t``; with ``self_positive`` the anchor's own ``t`` row is a positive (cross-modal terms)."""


def _exact_terms(
    pairs: _Pairs, edge_index: Tensor | None, y: Tensor | None, margin: float, distance: str
) -> list[Tensor]:
    """The terms over all triplets, from dense ``[n, n]`` matrices and ``[n, n, n]`` hinges."""
    n, device = pairs[0][0].size(0), pairs[0][0].device
    adj = neighbour_matrix(n, edge_index, y, device=device)
    eye = torch.eye(n, dtype=torch.bool, device=device)
    neg = ~adj & ~eye
    losses = []
    for s, t, self_positive in pairs:
        pos = adj | eye if self_positive else adj
        term = _exact_term(distance_matrix(s, t, distance), pos, neg, margin)
        if term is not None:
            losses.append(term)
    return losses


def _distance(s: Tensor, t: Tensor, distance: str) -> Tensor:
    """Row-wise ``d(s_r, t_r)`` of gathered ``[M, D]`` rows (normalised ones for cosine)."""
    if distance == "cosine":
        return 1.0 - (s * t).sum(-1)
    return (s - t).pow(2).sum(-1).clamp_min(1e-12).sqrt()


def _sampled_terms(
    pairs: _Pairs,
    edge_index: Tensor | None,
    y: Tensor | None,
    margin: float,
    distance: str,
    num_samples: int,
    gen: torch.Generator,
) -> list[Tensor]:
    """The terms over ``num_samples`` uniform triplets per anchor: gathered rows, no matrix."""
    n, device = pairs[0][0].size(0), pairs[0][0].device
    sampler = NeighbourSampler(n, edge_index, y, device)
    losses = []
    for s, t, self_positive in pairs:
        i, j, k = sampler.triplets(num_samples, self_positive, gen)
        if i.numel() == 0:
            continue
        if distance == "cosine":  # normalise the n rows once, not the gathered ones
            s, t = F.normalize(s, dim=1), F.normalize(t, dim=1)
        si = s[i]
        hinge = F.relu(margin + _distance(si, t[j], distance) - _distance(si, t[k], distance))
        losses.append(hinge.mean())
    return losses


def sample_triplets(
    num_nodes: int,
    num_samples: int,
    edge_index: Tensor | None = None,
    y: Tensor | None = None,
    self_positive: bool = False,
    seed: int | torch.Generator | None = None,
) -> Tensor:
    """Draw the triplets of one term of :func:`structure_preserving_loss`.

    Each anchor (a node with at least one positive and one negative) draws ``num_samples``
    positives and as many negatives, uniformly and with replacement, in memory linear in
    ``num_nodes * num_samples`` plus the edges (no ``[N, N]`` neighbour matrix). Positives
    are the nodes linked to the anchor (either direction) or sharing its label (and the
    anchor itself with ``self_positive``); negatives are all other nodes but the anchor.
    The loss draws its terms in the order ``(a, a), (b, b)`` (``self_positive=False``), then
    ``(a, b), (b, a)`` (``self_positive=True``), from one generator.

    Args:
        num_nodes (int): Number of nodes.
        num_samples (int): Triplets per anchor.
        edge_index (Tensor, optional): Edges ``[2, E]`` into ``[0, num_nodes)``.
        y (Tensor, optional): Labels ``[num_nodes]`` (``< 0``: unlabelled).
        self_positive (bool, optional): Count each node among its own positives (the
            cross-modal terms). (default: :obj:`False`)
        seed (int or torch.Generator, optional): Seed or generator. (default: :obj:`None`:
            seeded from torch's global generator, so ``torch.manual_seed`` repeats it)

    Returns:
        Long tensor ``[3, A * num_samples]``: anchors (each repeated ``num_samples`` times, in
        increasing order), positives and negatives.
    """
    _check_neighbours(num_nodes, edge_index, y)
    if check_num_samples(num_samples, "num_samples", "triplets") == ALL:
        raise InputError(
            "Expected 'num_samples' to be a positive int (got 'all'); neighbour_matrix gives "
            "all positives and negatives"
        )
    ref = edge_index if edge_index is not None else y
    device = ref.device if ref is not None else torch.device("cpu")
    sampler = NeighbourSampler(num_nodes, edge_index, y, device)
    return sampler.triplets(num_samples, self_positive, global_or_seeded(seed))


def _restrict(
    valid: Tensor, edge_index: Tensor | None, y: Tensor | None
) -> tuple[Tensor | None, Tensor | None]:
    """The edges among the ``valid`` nodes, renumbered, and their labels."""
    if edge_index is not None:
        new = torch.full(valid.shape, -1, dtype=torch.long, device=valid.device)
        new[valid] = torch.arange(int(valid.sum()), device=valid.device)
        ei = edge_index.to(device=valid.device, dtype=torch.long)
        edge_index = new[ei[:, valid[ei[0]] & valid[ei[1]]]]
    if y is not None:
        y = y.to(valid.device)[valid]
    return edge_index, y


def structure_preserving_loss(
    a: Tensor,
    b: Tensor,
    mask: Tensor | None = None,
    edge_index: Tensor | None = None,
    y: Tensor | None = None,
    margin: float = 0.1,
    num_samples: int | Literal["all"] = DEFAULT_NUM_SAMPLES,
    distance: str = "cosine",
    cross_modal: bool = True,
    within_modal: bool = True,
    seed: int | torch.Generator | None = None,
) -> Tensor:
    r"""Structure-preserving constraints: neighbours closer than non-neighbours by a margin.

    In the style of `"Learning Deep Structure-Preserving Image-Text Embeddings"
    <https://arxiv.org/abs/1511.06078>`_ (Wang et al., CVPR 2016), with the graph and/or the
    labels as the structure: neighbours (nodes linked in ``edge_index``, in
    either direction, or sharing a label in ``y``) must be closer than non-neighbours by a
    margin.

    .. math::
        \mathcal{L} = \frac{1}{|\mathcal{T}|} \sum_{(s, t) \in \mathcal{T}}
        \frac{1}{|\mathcal{A}|} \sum_{i \in \mathcal{A}}
        \frac{1}{|\mathcal{P}_i| |\mathcal{Q}_i|}
        \sum_{j \in \mathcal{P}_i} \sum_{k \in \mathcal{Q}_i}
        \max\left(0,\; \text{margin} + d(\mathbf{s}_i, \mathbf{t}_j)
        - d(\mathbf{s}_i, \mathbf{t}_k)\right)

    over the nodes that have both modalities. The terms :math:`\mathcal{T}` are the
    within-modality constraints :math:`(a, a), (b, b)` (``within_modal``; positives
    :math:`\mathcal{P}_i` = the neighbours of :math:`i`) and the cross-modal ones
    :math:`(a, b), (b, a)` (``cross_modal``; positives = :math:`i` itself and its neighbours);
    negatives :math:`\mathcal{Q}_i` are the non-neighbours other than :math:`i`. Anchors
    :math:`\mathcal{A}` are the nodes with at least one positive and one negative.

    By default each anchor draws ``num_samples`` (positive, negative) pairs per term,
    uniformly and with replacement (seeded), and the inner average runs over those: an
    unbiased estimate of the loss above whose size does not grow with the graph, in memory
    and time linear in ``N * num_samples`` plus the edges (only the sampled distances are
    computed; no ``[N, N]`` matrix is built). ``num_samples="all"`` computes the average
    over all triplets exactly, in :math:`O(N^3)` memory: about 1 GB at 400 nodes.

    Args:
        a (Tensor): Embeddings of one modality ``[N, D]``.
        b (Tensor): Embeddings of the other modality ``[N, D]``.
        mask (Tensor, optional): Bool ``[N]``, :obj:`True` where both are present.
            (default: :obj:`None`: all nodes)
        edge_index (Tensor, optional): Edges ``[2, E]`` among the ``N`` nodes.
        y (Tensor, optional): Labels ``[N]`` (``-1``: unlabelled).
        margin (float, optional): The margin. (default: :obj:`0.1`)
        num_samples (int or str, optional): Triplets drawn per anchor and term, or ``"all"``
            for the exact average over every triplet. The default, :obj:`10`, is twice
            word2vec's usual 5 negatives, as each triplet also draws its positive.
            (default: :obj:`10`)
        distance (str, optional): ``"cosine"`` or ``"euclidean"``. (default: :obj:`"cosine"`)
        cross_modal (bool, optional): Include the cross-modal terms. (default: :obj:`True`)
        within_modal (bool, optional): Include the within-modality terms. (default:
            :obj:`True`)
        seed (int or torch.Generator, optional): Seed or generator for the sampling.
            (default: :obj:`None`: seeded from torch's global generator, so
            ``torch.manual_seed`` repeats it)

    Returns:
        The loss, a scalar tensor (zero, still attached to ``a`` and ``b``, when no node
        has both a positive and a negative).
    """
    valid = check_pair(a, b, mask)
    if not (cross_modal or within_modal):
        raise InputError("Expected at least one of 'cross_modal' and 'within_modal' to be set")
    if distance not in DISTANCES:
        raise InputError(f"Unknown distance {distance!r}; valid distances: {', '.join(DISTANCES)}")
    num_samples = check_num_samples(num_samples, "num_samples", "triplets")
    margin = check_margin(margin)
    _check_neighbours(a.size(0), edge_index, y)
    gen = global_or_seeded(seed)
    edge_index, y = _restrict(valid, edge_index, y)
    a, b = a[valid], b[valid]
    pairs: _Pairs = []
    if within_modal:
        pairs += [(a, a, False), (b, b, False)]
    if cross_modal:
        pairs += [(a, b, True), (b, a, True)]
    if num_samples == ALL:
        losses = _exact_terms(pairs, edge_index, y, margin, distance)
    else:
        losses = _sampled_terms(pairs, edge_index, y, margin, distance, num_samples, gen)
    if not losses:
        return zero_loss(a, b)
    return torch.stack(losses).mean()


class StructurePreservingLoss(nn.Module):
    """Module form of :func:`structure_preserving_loss`; samples from its own generator.

    Args:
        margin (float, optional): The margin. (default: :obj:`0.1`)
        num_samples (int or str, optional): Triplets drawn per anchor and term, or ``"all"``
            for the exact average over every triplet (:math:`O(N^3)` memory); see
            :func:`structure_preserving_loss`. (default: :obj:`10`)
        distance (str, optional): ``"cosine"`` or ``"euclidean"``. (default: :obj:`"cosine"`)
        cross_modal (bool, optional): Include the cross-modal terms. (default: :obj:`True`)
        within_modal (bool, optional): Include the within-modality terms. (default:
            :obj:`True`)
        seed (int, optional): Seed of the module's generator (created once, so successive
            calls draw different triplets, reproducibly). (default: :obj:`None`: seeded from
            torch's global generator when the module is built, as a training run's seed
            sets it)
    """

    needs_edge_index: bool = True
    """Whether :meth:`forward` takes the graph's ``edge_index`` (neighbours are positives)."""

    def __init__(
        self,
        margin: float = 0.1,
        num_samples: int | Literal["all"] = DEFAULT_NUM_SAMPLES,
        distance: str = "cosine",
        cross_modal: bool = True,
        within_modal: bool = True,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if distance not in DISTANCES:
            raise InputError(
                f"Unknown distance {distance!r}; valid distances: {', '.join(DISTANCES)}"
            )
        if not (cross_modal or within_modal):
            raise InputError("Expected at least one of 'cross_modal' and 'within_modal' to be set")
        self.margin = check_margin(margin)
        self.num_samples = check_num_samples(num_samples, "num_samples", "triplets")
        self.distance = distance
        self.cross_modal = bool(cross_modal)
        self.within_modal = bool(within_modal)
        self.generator = global_or_seeded(seed)

    def reset_parameters(self) -> None:
        """Nothing to reset (no parameters)."""

    def forward(
        self,
        a: Tensor,
        b: Tensor,
        mask: Tensor | None = None,
        *,
        edge_index: Tensor | None = None,
        y: Tensor | None = None,
    ) -> Tensor:
        """Return :func:`structure_preserving_loss` of ``a`` and ``b``."""
        return structure_preserving_loss(
            a,
            b,
            mask,
            edge_index=edge_index,
            y=y,
            margin=self.margin,
            num_samples=self.num_samples,
            distance=self.distance,
            cross_modal=self.cross_modal,
            within_modal=self.within_modal,
            seed=self.generator,
        )

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(margin={self.margin}, num_samples={self.num_samples!r}, "
            f"distance={self.distance!r}, cross_modal={self.cross_modal}, "
            f"within_modal={self.within_modal})"
        )
