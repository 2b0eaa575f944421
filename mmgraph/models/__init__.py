"""Composite models: the multimodal GNN and the featurisation that feeds it."""

from __future__ import annotations

from mmgraph.models.features import DEFAULT_TEXT_ENCODER, FeatureConfig, featurize
from mmgraph.models.multimodal_gnn import (
    MODEL_MODALITIES,
    ModelConfig,
    MultimodalGNN,
    available_modalities,
    build_fusion_head,
)

__all__ = [
    "DEFAULT_TEXT_ENCODER",
    "MODEL_MODALITIES",
    "FeatureConfig",
    "ModelConfig",
    "MultimodalGNN",
    "available_modalities",
    "build_fusion_head",
    "featurize",
]
