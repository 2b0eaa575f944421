"""The parts of a :class:`~mmgraph.models.MultimodalGNN`, built from a :class:`ModelConfig`.

:meth:`MultimodalGNN.from_config <mmgraph.models.MultimodalGNN.from_config>` calls them in
this order (the order the parts draw their initial weights in): :func:`build_encoders`,
:func:`build_model_fusion`, :func:`build_gnn`, :func:`build_head`,
:func:`build_coordination_parts`. Each reads only the options of its part.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from torch import nn

# Importing mmgraph.coordination also registers its "autoencoder" fusion head.
from mmgraph.coordination import CoordinatedProjection, build_coordination
from mmgraph.encoders import AttributeEncoder, ModalityWise, PrecomputedEncoder, SmallCNN
from mmgraph.fusion import FUSION_HEADS, TensorFusion, build_fusion
from mmgraph.models.config import ModelConfig
from mmgraph.models.sequences import build_sequence_encoder, sequence_in_channels
from mmgraph.nn import AGGREGATORS, GNNStack, NodeLinear, build_aggregator
from mmgraph.resolver import lookup

log = logging.getLogger(__name__)

TFN_MAX_FUSED_DIM = TensorFusion.max_fused_dim
"""Widest Tensor Fusion product :func:`build_model_fusion` builds unless ``proj_dim`` is given."""


def _takes_sparse_input(aggregator: str) -> bool:
    """Whether the aggregator multiplies a sparse bag of words as it is (its flag)."""
    conv = AGGREGATORS.get(aggregator.lower())
    return conv is not None and conv.supports_sparse_input


def _fusion_class(name: str) -> type:
    return lookup(FUSION_HEADS, name, what="fusion head")


def keeps_sparse_input(config: ModelConfig) -> bool:
    """Whether a wide bag of words can stay sparse up to the first layer's product.

    It can when every step on the way takes a sparse CSR tensor (each part's
    ``supports_sparse_input`` flag): a fusion head such as ``concat``, no coordination,
    GCN / mean / GGNN layers or none. The encoders then return the wide, mostly-zero
    modalities without projection as CSR (the attributes' numeric columns, raw word
    features of the text), and the head joins the others to them.
    """
    return (
        getattr(_fusion_class(config.fusion), "supports_sparse_input", False)
        and config.coordination is None
        and (config.num_layers == 0 or _takes_sparse_input(config.aggregator))
    )


def build_encoders(config: ModelConfig, sparse_output: bool = False) -> ModalityWise:
    """One encoder per modality of ``config``, each to ``modality_dim``.

    Args:
        config (ModelConfig): The architecture.
        sparse_output (bool, optional): Let the encoders without projection return wide,
            mostly-zero features (a bag of words) as sparse CSR (see
            :func:`keeps_sparse_input`). (default: :obj:`False`)
    """
    d = config.modality_dim
    encoders: dict[str, nn.Module] = {}
    for m in config.modalities:
        if m == "text":
            encoders[m] = PrecomputedEncoder(
                config.text_dim, d, sparse_output=sparse_output, center=config.center_features
            )
        elif m == "image" and config.image_encoder == "cnn":
            out_channels = d if d is not None else config.cnn_channels[-1]
            encoders[m] = SmallCNN(config.image_dim, out_channels, channels=config.cnn_channels)
        elif m == "image":
            encoders[m] = PrecomputedEncoder(
                config.image_dim, d, sparse_output=sparse_output, center=config.center_features
            )
        elif m == "sequence":
            encoders[m] = build_sequence_encoder(config)
        else:
            encoders[m] = AttributeEncoder(
                config.num_numeric,
                config.cardinalities,
                out_channels=d,
                log1p=config.log1p,
                missing_indicator=bool(config.missing_indicator),
                numeric_scaling=config.numeric_scaling,
                sparse_output=sparse_output,
            )
    return ModalityWise(encoders)


def build_fusion_head(
    name: str | type[nn.Module] | nn.Module, in_channels: Mapping[str, int], /, **options: Any
) -> nn.Module:
    """A fusion head by name (:data:`mmgraph.fusion.FUSION_HEADS`), class, or as is.

    :func:`mmgraph.fusion.build_fusion`, with the ``"autoencoder"`` head registered.
    """
    return build_fusion(name, in_channels, **options)


def build_model_fusion(
    config: ModelConfig, in_channels: Mapping[str, int]
) -> tuple[nn.Module, ModelConfig]:
    """The fusion head of ``config`` over modalities of sizes ``in_channels``, and the config.

    A head with the ``fuses_to_hidden`` flag (every head but ``concat``) fuses to ``hidden``
    unless ``fusion_options`` gives ``out_channels``. Options the head chooses from the input
    sizes (its ``auto_options``, such as Tensor Fusion's ``proj_dim``, which keeps the fused
    width within :data:`TFN_MAX_FUSED_DIM`) are recorded in the returned config (saved with
    the run); otherwise ``config`` is returned as it is. A head that fuses sequences (its
    ``takes_sequences`` flag) gets the sequence views and the other modalities
    (:func:`~mmgraph.models.sequences.sequence_in_channels`).
    """
    head = _fusion_class(config.fusion)
    if getattr(head, "takes_sequences", False):
        in_channels = sequence_in_channels(config, in_channels)
    options = dict(config.fusion_options)
    if getattr(head, "fuses_to_hidden", True):
        options.setdefault("out_channels", config.hidden)
    auto_options = getattr(head, "auto_options", None)
    chosen = auto_options(in_channels, options) if auto_options is not None else {}
    if chosen:
        log.info(
            "%s fusion: %s chosen from the modality sizes %s (set fusion_options to change it)",
            config.fusion,
            ", ".join(f"{k}={v}" for k, v in chosen.items()),
            dict(in_channels),
        )
        options.update(chosen)
        config = dataclasses.replace(config, fusion_options={**config.fusion_options, **chosen})
    return build_fusion_head(config.fusion, in_channels, **options), config


def build_gnn(config: ModelConfig, in_channels: int) -> nn.Module:
    """The aggregator layers, from ``in_channels`` to ``hidden``.

    A :class:`~mmgraph.nn.GNNStack`, or with ``num_layers=0`` one linear layer
    (:class:`~mmgraph.nn.NodeLinear`, an MLP that ignores the edges).
    """
    if config.num_layers > 0:
        return GNNStack(
            config.aggregator,
            in_channels,
            config.hidden,
            config.num_layers,
            num_relations=config.num_relations,
            dropout=config.dropout,
        )
    return NodeLinear(in_channels, config.hidden)


def build_head(config: ModelConfig) -> nn.Module | None:
    """The output head, from ``hidden`` to the classes.

    A linear layer, or one more aggregator layer with ``head="conv"``; :obj:`None` without
    classes (``num_classes=0``).
    """
    if config.num_classes and config.head == "conv":
        return build_aggregator(
            config.aggregator, config.hidden, config.num_classes, config.num_relations
        )
    if config.num_classes:
        return nn.Linear(config.hidden, config.num_classes)
    return None


def build_coordination_parts(
    config: ModelConfig, in_channels: Mapping[str, int]
) -> tuple[nn.Module | None, nn.Module | None]:
    """The projection into the shared space and the coordination loss, or two :obj:`None`.

    Raises:
        ValueError: A coordination loss with fewer than two modalities.
    """
    if config.coordination is None:
        return None, None
    if len(in_channels) < 2:
        raise ValueError(
            f"Coordination needs at least two modalities (the model has {list(in_channels)})"
        )
    projection = CoordinatedProjection(in_channels, config.coordination_dim)
    loss = build_coordination(config.coordination, **config.coordination_options)
    return projection, loss


__all__ = [
    "TFN_MAX_FUSED_DIM",
    "build_coordination_parts",
    "build_encoders",
    "build_fusion_head",
    "build_gnn",
    "build_head",
    "build_model_fusion",
    "keeps_sparse_input",
]
