"""The sequence modality in a MultimodalGNN: its encoder, and what sequence fusion reads.

A fusion head with the ``takes_sequences`` flag (MV-LSTM) reads per-view sequences: the
views of the steps, and the other modalities repeated over the steps.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.encoders import SequenceEncoder, over_steps
from mmgraph.errors import InputError
from mmgraph.fusion import FUSION_HEADS
from mmgraph.models.config import ModelConfig
from mmgraph.resolver import lookup


def takes_sequences(config: ModelConfig) -> bool:
    """Whether the fusion head of ``config`` fuses sequences (its ``takes_sequences`` flag)."""
    return bool(
        getattr(lookup(FUSION_HEADS, config.fusion, "fusion head"), "takes_sequences", False)
    )


def build_sequence_encoder(config: ModelConfig) -> SequenceEncoder:
    """The encoder of the ``"sequence"`` modality (see ``ModelConfig.sequence_encoder``).

    For a fusion head that fuses sequences, a parameter-free one whose scaled steps the model
    reads (:meth:`~mmgraph.encoders.SequenceEncoder.steps`).

    Raises:
        InputError: ``config`` lacks the views of the sequence steps.
    """
    if not config.sequence_views:
        raise InputError(
            "The 'sequence' modality needs 'sequence_views' (the views of a step and their "
            "sizes, e.g. {'posts': 1, 'likes': 1}): build the config with "
            "`ModelConfig.for_graph(graph)`"
        )
    d = sum(config.sequence_views.values())
    if takes_sequences(config):
        return SequenceEncoder(d, kind="mean", log1p=config.sequence_log1p)
    kind = config.sequence_encoder
    size = config.modality_dim
    if size is None and kind != "mean":
        size = config.hidden
    return SequenceEncoder(d, size, kind=kind, log1p=config.sequence_log1p)


def sequence_in_channels(config: ModelConfig, in_channels: Mapping[str, int]) -> dict[str, int]:
    """The inputs of a head that fuses sequences: the sequence views, then the other modalities.

    Raises:
        InputError: The model has no sequence modality to give the head.
    """
    if "sequence" not in in_channels:
        raise InputError(
            f"The {config.fusion!r} fusion fuses sequences but the model has no 'sequence' "
            f"modality (it has {list(in_channels)}): use data with sequences (such as "
            "'synthetic-activity' or a card with a 'sequence' modality) or another fusion"
        )
    others = {m: size for m, size in in_channels.items() if m != "sequence"}
    return {**config.sequence_views, **others}


def sequence_inputs(
    encoder: nn.Module,
    batch: Data,
    xs: Mapping[str, Tensor],
    masks: Mapping[str, Tensor],
    views: Mapping[str, int],
) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The inputs of a head that fuses sequences: per-view steps, other modalities repeated.

    Args:
        encoder (SequenceEncoder): The model's sequence encoder (it scales the steps).
        batch (Data): The batch, with ``sequence``, ``sequence_length`` and
            ``sequence_present``.
        xs (Mapping[str, Tensor]): The modality embeddings ``[N, D_m]`` (the sequence's
            summary among them, left out).
        masks (Mapping[str, Tensor]): Their masks ``[N]``.
        views (Mapping[str, int]): The views of a step (``ModelConfig.sequence_views``).

    Returns:
        ``(xs, masks)`` of :func:`~mmgraph.encoders.over_steps`: ``[N, T, d]`` and ``[N, T]``.
    """
    if not isinstance(encoder, SequenceEncoder):
        raise TypeError(
            f"Expected a SequenceEncoder for the sequence (got {type(encoder).__name__!r})"
        )
    sequence = getattr(batch, "sequence", None)
    if sequence is None:
        raise InputError(
            "The batch has no 'sequence': the model fuses the sequence views; give the graph "
            "its sequences"
        )
    steps, step_mask = encoder.steps(
        sequence, getattr(batch, "sequence_length", None), getattr(batch, "sequence_present", None)
    )
    others = {m: x for m, x in xs.items() if m != "sequence"}
    return over_steps(others, {m: masks[m] for m in others}, steps, step_mask, views)


__all__ = ["build_sequence_encoder", "sequence_in_channels", "sequence_inputs", "takes_sequences"]
