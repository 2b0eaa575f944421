"""Composite models: the multimodal GNN and the featurisation that feeds it.

Files by job: :mod:`~mmgraph.models.config` (the :class:`ModelConfig` dataclass and its
checks), :mod:`~mmgraph.models.builders` (the parts, built from a config),
:mod:`~mmgraph.models.multimodal_gnn` (the :class:`MultimodalGNN` module).
"""

from __future__ import annotations

from mmgraph.models.builders import build_fusion_head
from mmgraph.models.config import MODEL_MODALITIES, ModelConfig, available_modalities
from mmgraph.models.features import DEFAULT_TEXT_ENCODER, FeatureConfig, featurize
from mmgraph.models.multimodal_gnn import MultimodalGNN

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
