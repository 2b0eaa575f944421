"""Structure-preserving constraints (Wang et al., 2016) with the graph or labels as structure."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.coordination._pairs import check_pair, zero_loss
from mmgraph.seed import as_generator

DISTANCES = ("cosine", "euclidean")


def distance_matrix(a: Tensor, b: Tensor, distance: str = "cosine") -> Tensor:
    r"""Pairwise distances ``D[i, j] = d(a_i, b_j)``: cosine distance or Euclidean distance.

    Args:
        a (Tensor): ``[N, D]``.
        b (Tensor): ``[M, D]``.
        distance (str, optional): ``"cosine"`` (:math:`1 - \cos`) or ``"euclidean"``.
            (default: :obj:`"cosine"`)
    """
    if distance not in DISTANCES:
        raise ValueError(f"Unknown distance {distance!r}; valid distances: {', '.join(DISTANCES)}")
    if distance == "cosine":
        return 1.0 - F.normalize(a, dim=1) @ F.normalize(b, dim=1).t()
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.t()
    return sq.clamp_min(1e-12).sqrt()


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
    if edge_index is None and y is None:
        raise ValueError(
            "Expected 'edge_index' or 'y' (or both) to say which nodes are neighbours (got neither)"
        )
    adj = torch.zeros(n, n, dtype=torch.bool, device=device)
    if edge_index is not None:
        if not isinstance(edge_index, Tensor) or edge_index.dtype not in (torch.long, torch.int):
            got = (
                str(edge_index.dtype)
                if isinstance(edge_index, Tensor)
                else type(edge_index).__name__
            )
            raise TypeError(f"Expected 'edge_index' to be of integer type (got {got!r})")
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(
                f"Expected 'edge_index' of shape [2, E] (got {list(edge_index.shape)})"
            )
        if edge_index.numel() and (edge_index.min() < 0 or edge_index.max() >= n):
            raise ValueError(f"Expected 'edge_index' values in [0, {n}) (got values outside)")
        ei = edge_index.to(device=adj.device, dtype=torch.long)
        adj[ei[0], ei[1]] = True
        adj[ei[1], ei[0]] = True
    if y is not None:
        if not isinstance(y, Tensor) or y.shape != (n,) or y.is_floating_point():
            got = f"{y.dtype} {list(y.shape)}" if isinstance(y, Tensor) else type(y).__name__
            raise ValueError(f"Expected 'y' to be an integer tensor of shape [{n}] (got {got})")
        y = y.to(adj.device)
        adj |= (y[:, None] == y[None, :]) & (y[:, None] >= 0)
    adj.fill_diagonal_(False)
    return adj


def _triplet_term(
    dist: Tensor,
    pos: Tensor,
    neg: Tensor,
    margin: float,
    num_samples: int | None,
    gen: torch.Generator,
) -> Tensor | None:
    """Mean over anchors (with a positive and a negative) of the hinge over their triplets."""
    anchors = pos.any(1) & neg.any(1)
    if not bool(anchors.any()):
        return None
    dist, pos, neg = dist[anchors], pos[anchors], neg[anchors]
    if num_samples is None:
        # hinge[i, j, k] = relu(margin + D[i, j] - D[i, k]) for j positive, k negative
        hinge = F.relu(margin + dist[:, :, None] - dist[:, None, :])
        weight = pos[:, :, None] & neg[:, None, :]
        per_anchor = (hinge * weight).sum((1, 2)) / weight.sum((1, 2))
        return per_anchor.mean()
    j = torch.multinomial(pos.float().cpu(), num_samples, replacement=True, generator=gen)
    k = torch.multinomial(neg.float().cpu(), num_samples, replacement=True, generator=gen)
    j, k = j.to(dist.device), k.to(dist.device)
    return F.relu(margin + dist.gather(1, j) - dist.gather(1, k)).mean()


def structure_preserving_loss(
    a: Tensor,
    b: Tensor,
    mask: Tensor | None = None,
    edge_index: Tensor | None = None,
    y: Tensor | None = None,
    margin: float = 0.1,
    num_samples: int | None = None,
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
    :math:`\mathcal{A}` are the nodes with at least one positive and one negative. With
    ``num_samples`` set, each anchor draws that many (positive, negative) pairs uniformly
    (seeded) instead of averaging over all of them, which costs :math:`O(n^3)` memory.

    Args:
        a (Tensor): Embeddings of one modality ``[N, D]``.
        b (Tensor): Embeddings of the other modality ``[N, D]``.
        mask (Tensor, optional): Bool ``[N]``, :obj:`True` where both are present.
            (default: :obj:`None`: all nodes)
        edge_index (Tensor, optional): Edges ``[2, E]`` among the ``N`` nodes.
        y (Tensor, optional): Labels ``[N]`` (``-1``: unlabelled).
        margin (float, optional): The margin. (default: :obj:`0.1`)
        num_samples (int, optional): Sampled triplets per anchor and term; :obj:`None` averages
            over all of them. (default: :obj:`None`)
        distance (str, optional): ``"cosine"`` or ``"euclidean"``. (default: :obj:`"cosine"`)
        cross_modal (bool, optional): Include the cross-modal terms. (default: :obj:`True`)
        within_modal (bool, optional): Include the within-modality terms. (default:
            :obj:`True`)
        seed (int or torch.Generator, optional): Seed or generator for the sampling.
            (default: :obj:`None`)
    """
    valid = check_pair(a, b, mask)
    if not (cross_modal or within_modal):
        raise ValueError("Expected at least one of 'cross_modal' and 'within_modal' to be set")
    if distance not in DISTANCES:
        raise ValueError(f"Unknown distance {distance!r}; valid distances: {', '.join(DISTANCES)}")
    if num_samples is not None and (
        isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1
    ):
        raise ValueError(
            f"Expected 'num_samples' to be a positive int or None (got {num_samples!r})"
        )
    adj = neighbour_matrix(a.size(0), edge_index, y, device=a.device)[valid][:, valid]
    a, b = a[valid], b[valid]
    n = a.size(0)
    gen = as_generator(seed)
    eye = torch.eye(n, dtype=torch.bool, device=a.device)
    neg = ~adj & ~eye
    terms = []
    if within_modal:
        terms += [(a, a, adj), (b, b, adj)]
    if cross_modal:
        terms += [(a, b, adj | eye), (b, a, adj | eye)]
    losses = []
    for s, t, pos in terms:
        term = _triplet_term(distance_matrix(s, t, distance), pos, neg, margin, num_samples, gen)
        if term is not None:
            losses.append(term)
    if not losses:
        return zero_loss(a, b)
    return torch.stack(losses).mean()


class StructurePreservingLoss(nn.Module):
    """Module form of :func:`structure_preserving_loss`; samples from its own generator.

    Args:
        margin (float, optional): The margin. (default: :obj:`0.1`)
        num_samples (int, optional): Sampled triplets per anchor and term; :obj:`None`
            averages over all. (default: :obj:`None`)
        distance (str, optional): ``"cosine"`` or ``"euclidean"``. (default: :obj:`"cosine"`)
        cross_modal (bool, optional): Include the cross-modal terms. (default: :obj:`True`)
        within_modal (bool, optional): Include the within-modality terms. (default:
            :obj:`True`)
        seed (int, optional): Seed of the module's generator. (default: :obj:`None`)
    """

    needs_edge_index: bool = True
    """Whether :meth:`forward` takes the graph's ``edge_index`` (neighbours are positives)."""

    def __init__(
        self,
        margin: float = 0.1,
        num_samples: int | None = None,
        distance: str = "cosine",
        cross_modal: bool = True,
        within_modal: bool = True,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if distance not in DISTANCES:
            raise ValueError(
                f"Unknown distance {distance!r}; valid distances: {', '.join(DISTANCES)}"
            )
        if not (cross_modal or within_modal):
            raise ValueError("Expected at least one of 'cross_modal' and 'within_modal' to be set")
        self.margin = float(margin)
        self.num_samples = num_samples
        self.distance = distance
        self.cross_modal = bool(cross_modal)
        self.within_modal = bool(within_modal)
        self.generator = as_generator(seed)

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
            f"{self.__class__.__name__}(margin={self.margin}, num_samples={self.num_samples}, "
            f"distance={self.distance!r}, cross_modal={self.cross_modal}, "
            f"within_modal={self.within_modal})"
        )
