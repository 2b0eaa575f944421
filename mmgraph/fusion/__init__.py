"""Fusion heads: ``forward(xs: dict[str, Tensor], masks) -> Tensor [N, out_channels]``.

Every head is built from ``in_channels`` (modality -> embedding size) and head-specific options,
exposes ``out_channels``, orders modalities canonically (whatever the order of the dicts) and
respects the presence masks: where node ``i`` lacks modality ``m``, the output does not depend
on ``xs[m][i]`` at all. Build one by name with :func:`build_fusion`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from mmgraph.fusion.base import FusionHead, canonical_order, prepare_inputs
from mmgraph.fusion.bilinear import BilinearFusion
from mmgraph.fusion.concat import ConcatFusion
from mmgraph.fusion.gated import GatedFusion, masked_softmax
from mmgraph.fusion.late import LateFusion
from mmgraph.fusion.lowrank import LowRankFusion
from mmgraph.fusion.mvlstm import MVLSTM_TOPOLOGIES, MultiViewLSTM
from mmgraph.fusion.product import ProductFusion
from mmgraph.fusion.tensor import TensorFusion, tfn_proj_dim
from mmgraph.resolver import UnknownNameError, resolve

FUSION_HEADS: dict[str, type[FusionHead]] = {
    "concat": ConcatFusion,
    "product": ProductFusion,
    "bilinear": BilinearFusion,
    "tfn": TensorFusion,
    "lowrank": LowRankFusion,
    "gated": GatedFusion,
    "late": LateFusion,
    "mvlstm": MultiViewLSTM,
}
"""Fusion heads by name, read through :func:`mmgraph.resolver.resolve`. A new head is one line
here (or ``@register(FUSION_HEADS, "name")`` on its class). The joint autoencoder head,
:class:`mmgraph.coordination.AutoencoderFusion`, the multimodal DBM head,
:class:`mmgraph.coordination.BoltzmannFusion`, and the translation head,
:class:`mmgraph.coordination.TranslationFusion`, register themselves as ``"autoencoder"``,
``"boltzmann"`` and ``"translation"`` when :mod:`mmgraph.coordination` (the layer above,
which they build on) is imported: :mod:`mmgraph.models` and every package above it import
it, and :func:`build_fusion` says so when one of those names is asked for before."""

COORDINATION_HEADS = ("autoencoder", "boltzmann", "translation")
"""The heads :mod:`mmgraph.coordination` registers (named here for the error message only)."""


def build_fusion(
    name: str | type[nn.Module] | nn.Module, in_channels: Mapping[str, int], /, **kwargs: Any
) -> nn.Module:
    """Build the fusion head ``name``; a ready head is returned unchanged.

    Args:
        name (str or type or torch.nn.Module): A name in :data:`FUSION_HEADS`
            (case-insensitive), a head class, or a ready head.
        in_channels (Mapping[str, int]): Embedding size of each modality.
        **kwargs: The head's options (e.g. ``out_channels``, ``rank``).

    Raises:
        UnknownNameError: If ``name`` is unknown (a :class:`ValueError` and a
            :class:`KeyError`; the message lists the valid names).
    """
    try:
        return resolve(
            FUSION_HEADS, name, in_channels, what="fusion head", base=nn.Module, **kwargs
        )
    except UnknownNameError as error:
        key = name.strip().lower() if isinstance(name, str) else None
        if key in COORDINATION_HEADS:
            raise UnknownNameError(
                f"{error}; the {key!r} head registers itself when "
                "mmgraph.coordination is imported: `import mmgraph.coordination` first"
            ) from None
        raise


__all__ = [
    "FUSION_HEADS",
    "MVLSTM_TOPOLOGIES",
    "BilinearFusion",
    "ConcatFusion",
    "FusionHead",
    "GatedFusion",
    "LateFusion",
    "LowRankFusion",
    "MultiViewLSTM",
    "ProductFusion",
    "TensorFusion",
    "tfn_proj_dim",
    "build_fusion",
    "canonical_order",
    "masked_softmax",
    "prepare_inputs",
]
