"""Coordinated and joint multimodal representations.

Coordinated: per-modality projections into one shared space, aligned by a loss. Joint: a
multimodal autoencoder whose one code is computed from any subset of modalities, a
multimodal deep Boltzmann machine, a generative model that infers a missing modality, and a
translation head whose code, from one source modality, is trained to decode the others.

Every loss takes two embeddings of the same nodes and a bool ``mask`` of the nodes where both
modalities are present; only those nodes form pairs (and negatives). Build a loss by name with
:func:`build_coordination`; sum a loss over all pairs of modalities with
:func:`pairwise_coordination_loss`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import combinations
from typing import Any

import torch
from torch import Tensor, nn

from mmgraph.coordination._pairs import pair_mask
from mmgraph.coordination.autoencoder import (
    AutoencoderFusion,
    AutoencoderOutput,
    MultimodalAutoencoder,
)
from mmgraph.coordination.boltzmann import BoltzmannFusion, MeanField, MultimodalDBM
from mmgraph.coordination.cca import CCALoss, LinearCCA, canonical_correlations, cca_loss
from mmgraph.coordination.cosine import CosineAlignmentLoss, cosine_alignment_loss
from mmgraph.coordination.infonce import InfoNCELoss, info_nce_loss
from mmgraph.coordination.projection import CoordinatedProjection
from mmgraph.coordination.ranking import RankingLoss, ranking_loss, sample_negatives
from mmgraph.coordination.structure import (
    StructurePreservingLoss,
    neighbour_matrix,
    sample_triplets,
    structure_preserving_loss,
)
from mmgraph.coordination.translation import TranslationFusion, TranslationLoss
from mmgraph.fusion.base import canonical_order
from mmgraph.resolver import resolve

COORDINATION_LOSSES: dict[str, type[nn.Module]] = {
    "cosine": CosineAlignmentLoss,
    "ranking": RankingLoss,
    "structure": StructurePreservingLoss,
    "infonce": InfoNCELoss,
    "cca": CCALoss,
}
"""Coordination losses by name, read through :func:`mmgraph.resolver.resolve`; a new loss
is one line here (or ``@register(COORDINATION_LOSSES, "name")`` on its class)."""


def build_coordination(name: str | type[nn.Module] | nn.Module, **kwargs: Any) -> nn.Module:
    """Build the coordination loss ``name``; a ready loss is returned unchanged.

    Args:
        name (str or type or torch.nn.Module): A name in :data:`COORDINATION_LOSSES`
            (case-insensitive), a loss class, or a ready loss.
        **kwargs: The loss's options (e.g. ``margin``, ``temperature``).

    Raises:
        UnknownNameError: If ``name`` is unknown (a :class:`ValueError` and a
            :class:`KeyError`; the message lists the valid names).
    """
    return resolve(COORDINATION_LOSSES, name, what="coordination loss", base=nn.Module, **kwargs)


def pairwise_coordination_loss(
    loss: Callable[..., Tensor],
    zs: Mapping[str, Tensor],
    masks: Mapping[str, Tensor] | None = None,
    **kwargs: Any,
) -> Tensor:
    """Average ``loss(z_a, z_b, mask_a & mask_b, **kwargs)`` over all pairs of modalities.

    Args:
        loss (Callable): A coordination loss (module or function) taking ``(a, b, mask)``.
        zs (Mapping[str, Tensor]): Embeddings per modality in one shared space ``[N, D]``.
        masks (Mapping[str, Tensor], optional): Bool presence masks ``[N]``. (default:
            :obj:`None`: all present)
        **kwargs: Passed on to ``loss`` (e.g. ``edge_index=`` for the structure loss).

    Raises:
        ValueError: If fewer than two modalities are given.
    """
    names = canonical_order(zs)
    if len(names) < 2:
        raise ValueError(f"Expected at least two modalities to coordinate (got {list(names)})")
    terms = []
    for a, b in combinations(names, 2):
        mask = pair_mask(masks, a, b, zs[a].size(0))
        terms.append(loss(zs[a], zs[b], mask, **kwargs))
    return torch.stack(terms).mean()


__all__ = [
    "COORDINATION_LOSSES",
    "AutoencoderFusion",
    "AutoencoderOutput",
    "BoltzmannFusion",
    "CCALoss",
    "CoordinatedProjection",
    "CosineAlignmentLoss",
    "InfoNCELoss",
    "LinearCCA",
    "MeanField",
    "MultimodalAutoencoder",
    "MultimodalDBM",
    "RankingLoss",
    "StructurePreservingLoss",
    "TranslationFusion",
    "TranslationLoss",
    "build_coordination",
    "canonical_correlations",
    "cca_loss",
    "cosine_alignment_loss",
    "info_nce_loss",
    "neighbour_matrix",
    "pair_mask",
    "pairwise_coordination_loss",
    "ranking_loss",
    "sample_negatives",
    "sample_triplets",
    "structure_preserving_loss",
]
