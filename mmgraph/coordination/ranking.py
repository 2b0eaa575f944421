"""Max-margin ranking with sampled negatives (DeViSE, Frome et al., 2013)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.coordination._pairs import check_margin, check_num_samples, check_pair, zero_loss
from mmgraph.errors import InputError
from mmgraph.seed import global_or_seeded

SIMILARITIES = ("cosine", "dot")

DEFAULT_NUM_NEGATIVES = 5
"""Negatives drawn per node by default: word2vec's usual 5 (and LINE's). The loss averages
over ``5 * n`` of them, so its size and its noise do not grow with the graph."""


def similarity_matrix(a: Tensor, b: Tensor, similarity: str = "cosine") -> Tensor:
    """Pairwise similarities ``S[i, j] = s(a_i, b_j)``, cosine or dot product.

    Args:
        a (Tensor): ``[N, D]``.
        b (Tensor): ``[M, D]``.
        similarity (str, optional): ``"cosine"`` or ``"dot"``. (default: :obj:`"cosine"`)
    """
    if similarity not in SIMILARITIES:
        raise InputError(
            f"Unknown similarity {similarity!r}; valid similarities: {', '.join(SIMILARITIES)}"
        )
    if similarity == "cosine":
        a, b = F.normalize(a, dim=1), F.normalize(b, dim=1)
    return a @ b.t()


def sample_negatives(
    n: int, num_negatives: int, seed: int | torch.Generator | None = None
) -> Tensor:
    """Draw ``num_negatives`` indices per row ``i`` of ``n``, uniformly among ``j != i``.

    Args:
        n (int): Number of rows (at least 2).
        num_negatives (int): Negatives per row (drawn with replacement).
        seed (int or torch.Generator, optional): Seed or generator. (default: :obj:`None`:
            seeded from torch's global generator, so ``torch.manual_seed`` repeats it)

    Returns:
        Long tensor ``[n, num_negatives]`` (on the CPU).
    """
    if n < 2:
        raise InputError(f"Expected at least 2 rows to sample negatives from (got {n})")
    if isinstance(num_negatives, bool) or not isinstance(num_negatives, int) or num_negatives < 1:
        raise InputError(f"Expected 'num_negatives' to be a positive int (got {num_negatives!r})")
    gen = global_or_seeded(seed)
    draws = torch.randint(0, n - 1, (n, num_negatives), generator=gen, device=gen.device)
    rows = torch.arange(n, device=draws.device)[:, None]
    return (draws + (draws >= rows).long()).cpu()


def _all_negatives_loss(
    a: Tensor, b: Tensor, margin: float, similarity: str, symmetric: bool
) -> Tensor:
    """DeViSE's sum over every other node, from the dense ``[n, n]`` similarity matrix."""
    n = a.size(0)
    sim = similarity_matrix(a, b, similarity)  # [n, n], s(a_i, b_j)
    pos = sim.diagonal()
    off_diag = ~torch.eye(n, dtype=torch.bool, device=sim.device)
    loss = (F.relu(margin - pos[:, None] + sim) * off_diag).sum(1).mean()
    if symmetric:
        loss_t = (F.relu(margin - pos[:, None] + sim.t()) * off_diag).sum(1).mean()
        loss = (loss + loss_t) / 2
    return loss


def ranking_loss(
    a: Tensor,
    b: Tensor,
    mask: Tensor | None = None,
    margin: float = 0.1,
    num_negatives: int | Literal["all"] = DEFAULT_NUM_NEGATIVES,
    similarity: str = "cosine",
    symmetric: bool = False,
    negatives: Tensor | None = None,
    seed: int | torch.Generator | None = None,
) -> Tensor:
    r"""Max-margin ranking with sampled negatives, as in DeViSE.

    From `"DeViSE: A Deep Visual-Semantic Embedding Model"
    <https://papers.nips.cc/paper/5204>`_ (Frome et al., NeurIPS 2013). By default each node
    :math:`i \in \mathcal{V}` (the nodes that have both modalities) draws ``num_negatives``
    negatives :math:`\mathcal{N}_i` uniformly among the other nodes of :math:`\mathcal{V}`,
    with replacement (seeded), and the hinge is averaged over them:

    .. math::
        \mathcal{L} = \frac{1}{|\mathcal{V}|} \sum_{i \in \mathcal{V}}
        \frac{1}{|\mathcal{N}_i|} \sum_{j \in \mathcal{N}_i}
        \max\left(0,\; \text{margin} - s(\mathbf{a}_i, \mathbf{b}_i)
        + s(\mathbf{a}_i, \mathbf{b}_j)\right)

    Its size does not grow with the graph, and only the sampled similarities are computed
    (memory linear in ``N * num_negatives``). ``num_negatives="all"`` is DeViSE's sum over
    every other node instead (no :math:`1 / |\mathcal{N}_i|`), exactly, from the dense
    ``[N, N]`` similarity matrix: it grows with the graph, about ``N - 1`` times the sampled
    loss on average. With ``symmetric=True`` the same loss with the roles of ``a`` and ``b``
    swapped is added (on the same negatives) and the two are averaged.

    Args:
        a (Tensor): Embeddings of one modality ``[N, D]``.
        b (Tensor): Embeddings of the other modality ``[N, D]``.
        mask (Tensor, optional): Bool ``[N]``, :obj:`True` where both are present.
            (default: :obj:`None`: all nodes)
        margin (float, optional): The margin. (default: :obj:`0.1`)
        num_negatives (int or str, optional): Negatives drawn per node, or ``"all"`` for the
            exact sum over all other nodes. The default, :obj:`5`, is word2vec's usual
            number of negatives. (default: :obj:`5`)
        similarity (str, optional): ``"cosine"`` or ``"dot"`` (DeViSE's). (default:
            :obj:`"cosine"`)
        symmetric (bool, optional): Also rank ``a`` against each ``b``. (default: :obj:`False`)
        negatives (Tensor, optional): Explicit negatives ``[|V|, K]``, indices into the valid
            nodes (in order), averaged over like sampled ones; overrides ``num_negatives``.
            (default: :obj:`None`)
        seed (int or torch.Generator, optional): Seed or generator for the sampling.
            (default: :obj:`None`: seeded from torch's global generator, so
            ``torch.manual_seed`` repeats it)

    Returns:
        The loss, a scalar tensor (zero, still attached to ``a`` and ``b``, with fewer than
        two valid nodes).
    """
    valid = check_pair(a, b, mask)
    margin = check_margin(margin)
    if similarity not in SIMILARITIES:
        raise InputError(
            f"Unknown similarity {similarity!r}; valid similarities: {', '.join(SIMILARITIES)}"
        )
    if negatives is None:
        num_negatives = check_num_samples(num_negatives, "num_negatives", "negatives")
    a, b = a[valid], b[valid]
    n = a.size(0)
    if n < 2:
        return zero_loss(a, b)
    if negatives is None:
        if isinstance(num_negatives, str):  # "all"
            return _all_negatives_loss(a, b, margin, similarity, symmetric)
        negatives = sample_negatives(n, num_negatives, seed)
    if (
        not isinstance(negatives, Tensor)
        or negatives.dtype != torch.long
        or negatives.dim() != 2
        or negatives.size(0) != n
    ):
        got = (
            f"{negatives.dtype} {list(negatives.shape)}"
            if isinstance(negatives, Tensor)
            else type(negatives).__name__
        )
        raise InputError(
            f"Expected 'negatives' to be a long tensor [{n}, K] of indices into the valid "
            f"nodes (got {got})"
        )
    if negatives.numel() and (negatives.min() < 0 or negatives.max() >= n):
        raise InputError(f"Expected 'negatives' in [0, {n}) (got values outside)")
    negatives = negatives.to(a.device)
    if similarity == "cosine":
        a, b = F.normalize(a, dim=1), F.normalize(b, dim=1)
    pos = (a * b).sum(1)
    neg = (a[:, None, :] * b[negatives]).sum(-1)  # [n, K], s(a_i, b_j)
    loss = F.relu(margin - pos[:, None] + neg).mean()
    if symmetric:
        neg_t = (a[negatives] * b[:, None, :]).sum(-1)  # [n, K], s(a_j, b_i)
        loss = (loss + F.relu(margin - pos[:, None] + neg_t).mean()) / 2
    return loss


class RankingLoss(nn.Module):
    """Module form of :func:`ranking_loss`; draws its negatives from its own generator.

    Args:
        margin (float, optional): The margin. (default: :obj:`0.1`)
        num_negatives (int or str, optional): Negatives drawn per node, or ``"all"`` for the
            exact sum over all other nodes (its size grows with the graph); see
            :func:`ranking_loss`. (default: :obj:`5`)
        similarity (str, optional): ``"cosine"`` or ``"dot"``. (default: :obj:`"cosine"`)
        symmetric (bool, optional): Rank in both directions. (default: :obj:`False`)
        seed (int, optional): Seed of the module's generator (created once, so successive
            calls draw different negatives, reproducibly). (default: :obj:`None`: seeded from
            torch's global generator when the module is built, as a training run's seed
            sets it)
    """

    needs_edge_index: bool = False
    """Whether :meth:`forward` takes the graph's ``edge_index`` (it does not)."""

    def __init__(
        self,
        margin: float = 0.1,
        num_negatives: int | Literal["all"] = DEFAULT_NUM_NEGATIVES,
        similarity: str = "cosine",
        symmetric: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if similarity not in SIMILARITIES:
            raise InputError(
                f"Unknown similarity {similarity!r}; valid similarities: {', '.join(SIMILARITIES)}"
            )
        self.margin = check_margin(margin)
        self.num_negatives = check_num_samples(num_negatives, "num_negatives", "negatives")
        self.similarity = similarity
        self.symmetric = bool(symmetric)
        self.generator = global_or_seeded(seed)

    def reset_parameters(self) -> None:
        """Nothing to reset (no parameters)."""

    def forward(self, a: Tensor, b: Tensor, mask: Tensor | None = None) -> Tensor:
        """Return :func:`ranking_loss` of ``a`` and ``b``."""
        return ranking_loss(
            a,
            b,
            mask,
            margin=self.margin,
            num_negatives=self.num_negatives,
            similarity=self.similarity,
            symmetric=self.symmetric,
            seed=self.generator,
        )

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(margin={self.margin}, "
            f"num_negatives={self.num_negatives!r}, "
            f"similarity={self.similarity!r}, symmetric={self.symmetric})"
        )
