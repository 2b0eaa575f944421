"""The architecture of a :class:`~mmgraph.models.MultimodalGNN`: a dataclass and its checks."""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import Tensor
from torch_geometric.data import Data

from mmgraph.config import ConfigBase
from mmgraph.data.graph import MultimodalGraph
from mmgraph.encoders.attributes import NUMERIC_SCALINGS
from mmgraph.encoders.sequence import SEQUENCE_ENCODERS
from mmgraph.errors import InputError
from mmgraph.models.auto import AUTO, DESIGN_OPTIONS, resolve_auto
from mmgraph.nn import AGGREGATORS
from mmgraph.resolver import MODALITIES

MODEL_MODALITIES: tuple[str, ...] = MODALITIES
"""Modalities of the model (:data:`mmgraph.resolver.MODALITIES`): precomputed text features,
images (pixels for the end-to-end CNN or precomputed features), numeric plus categorical
attributes together, and per-node sequences."""

DEFAULT_MODALITIES: tuple[str, ...] = ("text", "image", "attributes")
"""The modalities of a :class:`ModelConfig` built without a graph (a sequence needs its views,
which :meth:`ModelConfig.for_graph` reads from the graph)."""

HEADS: tuple[str, ...] = ("linear", "conv")
"""Output heads: ``"linear"`` (a linear layer on each node's embedding) or ``"conv"`` (one
more aggregator layer, to the classes, over the graph)."""

CONV_HEAD_AGGREGATORS: tuple[str, ...] = ("mean", "gcn")
"""Aggregators that can serve as the ``"conv"`` head (a GGNN step keeps its state size)."""

OLD_SIZE_NAMES: dict[str, str] = {
    "in_dims": "in_channels",
    "out_dim": "out_channels",
    "code_dim": "out_channels",
    "dim": "out_channels",
    "hidden": "hidden_channels",
}
"""Size options renamed to PyG's names (issue 15): old key -> new key. Saved runs may hold
the old keys in ``fusion_options``; :class:`ModelConfig` renames them when it is built."""


def migrate_size_names(options: dict[str, Any]) -> dict[str, Any]:
    """Return ``options`` with the old size keys of :data:`OLD_SIZE_NAMES` renamed.

    Raises:
        ValueError: If an old key and its new name are both given.
    """
    out = dict(options)
    for old, new in OLD_SIZE_NAMES.items():
        if old in out:
            if new in out:
                raise ValueError(
                    f"Expected one of {old!r} (its old name) and {new!r} in the options "
                    f"(got both); keep {new!r}"
                )
            out[new] = out.pop(old)
    return out


SAMPLING_OPTIONS: dict[str, str] = {"structure": "num_samples", "ranking": "num_negatives"}
"""The option of each coordination loss that says how many triplets or negatives it samples.
Before issue 16 the losses used all of them by default and :obj:`None` asked for that; they
now sample by default and spell it ``"all"``, so a saved :obj:`None` is read as ``"all"``."""


def migrate_sampling_options(coordination: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """Return ``options`` with a saved ``None`` of :data:`SAMPLING_OPTIONS` read as ``"all"``."""
    key = SAMPLING_OPTIONS.get(coordination.lower()) if isinstance(coordination, str) else None
    if key is None or key not in options or options[key] is not None:
        return options
    return {**options, key: "all"}


@dataclasses.dataclass
class ModelConfig(ConfigBase):
    r"""Architecture of a :class:`~mmgraph.models.MultimodalGNN` (YAML round trip, saved with it).

    :meth:`MultimodalGNN.from_config <mmgraph.models.MultimodalGNN.from_config>` builds the
    model's parts from it (:mod:`mmgraph.models.builders`).

    Args:
        num_classes (int): Output classes of the head; ``0`` for an encoder without head.
        modalities (list[str]): Modalities used, among :data:`MODEL_MODALITIES`.
        text_dim (int): Size of the precomputed ``x_text`` features.
        image_encoder (str): ``"cnn"`` (pixels, trained end to end) or ``"precomputed"``
            (``x_image`` features).
        image_dim (int): Size of ``x_image`` (``"precomputed"``) or image channels
            (``"cnn"``).
        cnn_channels (list[int]): Channels of the CNN's blocks. (default: ``[8, 16, 32]``)
        num_numeric (int): Numeric attribute columns.
        cardinalities (list[int]): Values of each categorical column.
        log1p (bool or list[int]): Numeric columns to log-transform.
        numeric_scaling (str): ``"standard"`` (standardise the numeric columns with the
            training nodes' mean and deviation,
            :meth:`~mmgraph.models.MultimodalGNN.fit_statistics`),
            ``"none"`` (values as they are), ``"row"`` (each node's values divided by their
            absolute sum, for a bag of words) or ``"auto"``
            (:func:`~mmgraph.models.auto.auto_numeric_scaling`, resolved by
            :meth:`for_graph`). (default: ``"standard"``; :meth:`for_graph`: ``"auto"``)
        missing_indicator (bool, optional): Append a missing-value flag per numeric column;
            :obj:`None`: only when a numeric value is missing (resolved by :meth:`for_graph`).
            (default: :obj:`True`; :meth:`for_graph`: :obj:`None`)
        sequence_views (dict[str, int]): The views of a sequence step and their sizes
            (:attr:`MultimodalGraph.sequence_views
            <mmgraph.data.MultimodalGraph.sequence_views>`), with the ``"sequence"`` modality.
        sequence_encoder (str): How a sequence becomes a vector (:data:`SEQUENCE_ENCODERS
            <mmgraph.encoders.SEQUENCE_ENCODERS>`: ``"gru"``, ``"lstm"``, ``"conv"``,
            ``"mean"``; :class:`~mmgraph.encoders.SequenceEncoder`) of size ``modality_dim``
            (``hidden`` without projection); a fusion head that fuses sequences (its
            ``takes_sequences`` flag, as ``mvlstm``) reads the scaled steps instead, each view
            a sequence of its own and the other modalities repeated over the steps
            (:func:`~mmgraph.encoders.over_steps`). (default: ``"gru"``)
        sequence_log1p (bool): Scale the sequence values by the signed
            :math:`\log(1 + |x|)` before standardising them (for counts). (default: :obj:`True`)
        modality_dim (int, optional): Size every modality is projected to; :obj:`None` for
            no projection: the fusion reads each encoder's own output (precomputed text or
            image features as they are; the attributes' scaled values, flags and categorical
            embeddings concatenated; the CNN's last block, ``cnn_channels[-1]``), so the first
            aggregator layer reads the features themselves. (default: :obj:`64`)
        fusion (str): Fusion head name, in :data:`mmgraph.fusion.FUSION_HEADS`.
            (default: ``"concat"``)
        fusion_options (dict): Options of the fusion head, e.g. ``{"rank": 4}``. Old size
            keys of saved runs (``out_dim``, ``hidden``, ...) are renamed to the new ones
            (:data:`OLD_SIZE_NAMES`).
        aggregator (str): ``"mean"``, ``"gcn"``, ``"ggnn"``, ``"gin"`` or ``"auto"``
            (``"gcn"`` or ``"mean"`` by the training labels' homophily,
            :func:`~mmgraph.models.auto.auto_aggregator`, resolved by :meth:`for_graph`).
            (default: ``"gcn"``; :meth:`for_graph`: ``"auto"``)
        hidden (int): Size of the node embeddings. (default: :obj:`64`)
        num_layers (int): Aggregator layers (GGNN steps); ``0`` gives an MLP that ignores
            the edges. (default: :obj:`2`)
        num_relations (int): Edge types with their own weights. (default: :obj:`1`)
        dropout (float): Dropout after the fusion, between layers and before the head.
            (default: :obj:`0.5`)
        head (str): ``"linear"`` (logits :math:`\mathbf{W} \operatorname{drop}(\sigma(
            \mathbf{h}_v)) + \mathbf{b}`) or ``"conv"``: one more aggregator layer of the same
            kind, from ``hidden`` to the classes, over :math:`\operatorname{drop}(\sigma(
            \mathbf{H}))`; it reads one more hop of neighbours (mini-batches need one more
            fan-out) and needs a ``"mean"`` or ``"gcn"`` aggregator and ``num_layers >= 1``.
            With ``aggregator="gcn"``, ``num_layers=1``, ``modality_dim=None`` and raw
            features it is Kipf & Welling's two-layer GCN. (default: ``"linear"``)
        use_edge_weight (bool): Pass ``edge_weight`` to the aggregators. (default: :obj:`True`)
        coordination (str, optional): A coordination loss (``mmgraph.coordination``:
            ``cosine``, ``ranking``, ``structure``, ``infonce``, ``cca``) added to the training
            loss: the modality embeddings are projected into one space of size
            ``coordination_dim`` and coordinated pairwise. (default: :obj:`None`)
        coordination_dim (int): Size of the shared space. (default: :obj:`32`)
        coordination_weight (float): Weight of the coordination loss. (default: :obj:`0.1`)
        coordination_options (dict): Options of the coordination loss. A saved
            ``num_samples: null`` (structure) or ``num_negatives: null`` (ranking), which
            meant all triplets or negatives before those losses sampled by default, is read
            as ``"all"`` (:data:`SAMPLING_OPTIONS`).
        center_features (bool): Centre the precomputed text and image features on the
            training nodes' mean (:class:`~mmgraph.encoders.PrecomputedEncoder`'s ``center``,
            fitted by :meth:`~mmgraph.models.MultimodalGNN.fit_statistics`). The GNN route of
            ``mmgraph embed`` sets it. (default: :obj:`False`)
    """

    num_classes: int = 2
    modalities: list[str] = dataclasses.field(default_factory=lambda: list(DEFAULT_MODALITIES))
    text_dim: int = 0
    image_encoder: str = "cnn"
    image_dim: int = 3
    cnn_channels: list[int] = dataclasses.field(default_factory=lambda: [8, 16, 32])
    num_numeric: int = 0
    cardinalities: list[int] = dataclasses.field(default_factory=list)
    log1p: bool | list[int] = False
    numeric_scaling: str = "standard"
    missing_indicator: bool | None = True
    sequence_views: dict[str, int] = dataclasses.field(default_factory=dict)
    sequence_encoder: str = "gru"
    sequence_log1p: bool = True
    modality_dim: int | None = 64
    fusion: str = "concat"
    fusion_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    aggregator: str = "gcn"
    hidden: int = 64
    num_layers: int = 2
    num_relations: int = 1
    dropout: float = 0.5
    head: str = "linear"
    use_edge_weight: bool = True
    coordination: str | None = None
    coordination_dim: int = 32
    coordination_weight: float = 0.1
    coordination_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    center_features: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.fusion_options, dict):
            self.fusion_options = migrate_size_names(self.fusion_options)
        if isinstance(self.coordination_options, dict):
            self.coordination_options = migrate_sampling_options(
                self.coordination, self.coordination_options
            )
        chosen = [name for name in DESIGN_OPTIONS if getattr(self, name) == AUTO]
        if chosen:
            raise ValueError(
                f"'auto' for {', '.join(chosen)} is chosen on validation data by training "
                "(mmgraph train, mmgraph.tasks.train_node_classifier): a model needs values; "
                "give them, or train with 'auto'"
            )
        unknown = sorted(set(self.modalities) - set(MODEL_MODALITIES))
        if unknown or not self.modalities:
            raise ValueError(
                f"Expected 'modalities' to be a non-empty subset of {list(MODEL_MODALITIES)} "
                f"(got {self.modalities})"
            )
        if self.sequence_encoder not in SEQUENCE_ENCODERS:
            raise ValueError(
                f"Unknown sequence_encoder {self.sequence_encoder!r}; expected one of "
                f"{list(SEQUENCE_ENCODERS)}"
            )
        if self.aggregator.lower() not in AGGREGATORS and self.aggregator != AUTO:
            raise ValueError(
                f"Unknown aggregator {self.aggregator!r}; expected one of "
                f"{sorted(AGGREGATORS)} or 'auto'"
            )
        if self.image_encoder not in ("cnn", "precomputed"):
            raise ValueError(
                "Expected 'image_encoder' to be 'cnn' or 'precomputed' "
                f"(got {self.image_encoder!r})"
            )
        if self.num_layers < 0:
            raise ValueError(f"Expected 'num_layers' >= 0 (got {self.num_layers})")
        if self.numeric_scaling not in (*NUMERIC_SCALINGS, AUTO):
            raise ValueError(
                f"Unknown numeric_scaling {self.numeric_scaling!r}; expected one of "
                f"{[*NUMERIC_SCALINGS, AUTO]}"
            )
        dim = self.modality_dim
        if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool) or dim < 1):
            raise ValueError(
                f"Expected 'modality_dim' to be a positive int, or None for no projection "
                f"(got {dim!r})"
            )
        if self.head not in HEADS:
            raise ValueError(f"Unknown head {self.head!r}; expected one of {list(HEADS)}")
        if self.head == "conv" and self.aggregator.lower() not in (*CONV_HEAD_AGGREGATORS, AUTO):
            why = (
                "a GGNN step keeps its state size, so it cannot map to the classes"
                if self.aggregator.lower() == "ggnn"
                else "only mean and GCN layers are built and tested as the head"
            )
            raise ValueError(
                f"Expected aggregator in {list(CONV_HEAD_AGGREGATORS)} with head='conv' (got "
                f"{self.aggregator!r}: {why}); use head='linear' with it"
            )
        if self.head == "conv" and self.num_layers < 1:
            raise ValueError(
                "Expected num_layers >= 1 with head='conv' (got 0: the MLP ignores the edges); "
                "use head='linear' for an MLP"
            )

    def check_resolved(self) -> ModelConfig:
        """Return the config when its data-dependent options have values (not ``"auto"``).

        Raises:
            ValueError: ``aggregator``, ``numeric_scaling`` or ``missing_indicator`` is still
                ``"auto"`` (or :obj:`None`); the message says how to resolve them.
        """
        unresolved = [
            name
            for name, value in (
                ("aggregator", self.aggregator),
                ("numeric_scaling", self.numeric_scaling),
                ("missing_indicator", self.missing_indicator),
            )
            if value in (AUTO, None)
        ]
        if unresolved:
            raise ValueError(
                f"The options {unresolved} are 'auto' and depend on the data: build the config "
                "with `ModelConfig.for_graph(graph, ...)` (or `MultimodalGNN.from_graph`), or "
                "give them values"
            )
        return self

    @classmethod
    def for_graph(cls, graph: MultimodalGraph, **overrides: Any) -> ModelConfig:
        """A config sized for ``graph`` (after :func:`~mmgraph.models.featurize`).

        Uses every modality the graph has features for (``x_text``; ``image`` pixels or
        ``x_image``; ``numeric``/``categorical``; ``sequence``, with its views), unless
        ``modalities`` is given. The data-dependent options default to ``"auto"`` here and
        are resolved from the graph (:mod:`mmgraph.models.auto`: the aggregator from the
        training labels' homophily, the numeric scaling and missing flags from the numeric
        values), so the returned config holds concrete values.
        """
        available = available_modalities(graph)
        values: dict[str, Any] = {
            "num_classes": graph.num_classes,
            "modalities": available,
            "num_relations": graph.num_relations,
            "aggregator": AUTO,
            "numeric_scaling": AUTO,
            "missing_indicator": None,
        }
        if "text" in available:
            values["text_dim"] = int(graph.x_text.size(1))
        if "image" in available:
            if getattr(graph, "x_image", None) is not None:
                values["image_encoder"] = "precomputed"
                values["image_dim"] = int(graph.x_image.size(1))
            else:
                values["image_encoder"] = "cnn"
                values["image_dim"] = int(graph.image.size(1))
        if "sequence" in available:
            values["sequence_views"] = dict(graph.sequence_views)
        numeric = getattr(graph, "numeric", None)
        categorical = getattr(graph, "categorical", None)
        if numeric is not None:
            values["num_numeric"] = int(numeric.size(1))
        if categorical is not None:
            vocabs = graph.categorical_vocabs
            values["cardinalities"] = (
                [max(len(v), 1) for v in vocabs]
                if vocabs is not None
                else [max(int(categorical[:, c].max()), 1) for c in range(categorical.size(1))]
            )
        values.update(overrides)
        if "modalities" in overrides:
            missing = sorted(set(overrides["modalities"]) - set(available))
            if missing:
                raise ValueError(
                    f"The graph has no features for modalities {missing} (it has {available}); "
                    "featurize it with an encoder for them or drop them"
                )
        encoder = overrides.get("sequence_encoder", cls.sequence_encoder)
        if encoder != cls.sequence_encoder and "sequence" not in values["modalities"]:
            raise InputError(
                f"sequence_encoder={encoder!r} encodes the 'sequence' modality, and the model "
                f"has none (its modalities: {list(values['modalities'])}): it would change "
                "nothing. Drop --sequence-encoder, or give the graph sequences"
            )
        return cls(**resolve_auto(graph, values))


def available_modalities(graph: Data) -> list[str]:
    """The model modalities ``graph`` carries features for, in canonical order."""
    out = []
    if getattr(graph, "x_text", None) is not None:
        out.append("text")
    image = getattr(graph, "image", None)
    if getattr(graph, "x_image", None) is not None or isinstance(image, Tensor):
        out.append("image")
    if (
        getattr(graph, "numeric", None) is not None
        or getattr(graph, "categorical", None) is not None
    ):
        out.append("attributes")
    if isinstance(getattr(graph, "sequence", None), Tensor):
        out.append("sequence")
    return out
