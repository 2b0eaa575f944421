"""Fusion heads: ``forward(xs: dict[str, Tensor], masks) -> Tensor [N, out_dim]``.

Every head is built from ``in_dims`` (modality -> embedding size) and head-specific options,
exposes ``out_dim``, orders modalities canonically (whatever the order of the dicts) and
respects the presence masks: where node ``i`` lacks modality ``m``, the output does not depend
on ``xs[m][i]`` at all. Build one by name with :func:`build_fusion`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmgraph.fusion.base import FusionHead, canonical_order, prepare_inputs
from mmgraph.fusion.bilinear import BilinearFusion
from mmgraph.fusion.concat import ConcatFusion
from mmgraph.fusion.gated import GatedFusion, masked_softmax
from mmgraph.fusion.late import LateFusion
from mmgraph.fusion.lowrank import LowRankFusion
from mmgraph.fusion.mvlstm import MVLSTM_TOPOLOGIES, MultiViewLSTM
from mmgraph.fusion.product import ProductFusion
from mmgraph.fusion.tensor import TensorFusion, tfn_proj_dim

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
"""Fusion heads by name. The joint autoencoder head lives one layer up, in
:class:`mmgraph.coordination.AutoencoderFusion` (which builds on this package)."""


def build_fusion(name: str, in_dims: Mapping[str, int], **kwargs: Any) -> FusionHead:
    """Build the fusion head called ``name``.

    Args:
        name (str): One of :data:`FUSION_HEADS`.
        in_dims (Mapping[str, int]): Embedding size of each modality.
        **kwargs: The head's options (e.g. ``out_dim``, ``rank``).

    Raises:
        KeyError: If ``name`` is unknown (the message lists the valid names).
    """
    if name not in FUSION_HEADS:
        hint = (
            "; the autoencoder head is mmgraph.coordination.AutoencoderFusion"
            if name == "autoencoder"
            else ""
        )
        raise KeyError(
            f"Unknown fusion head {name!r}; valid names: {', '.join(FUSION_HEADS)}{hint}"
        )
    return FUSION_HEADS[name](in_dims, **kwargs)


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
