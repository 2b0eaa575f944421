"""MultimodalGNN: modality encoders, fusion, graph aggregation and a task head."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.config import ConfigBase
from mmgraph.data.graph import MultimodalGraph
from mmgraph.encoders import AttributeEncoder, ModalityWise, PrecomputedEncoder, SmallCNN
from mmgraph.encoders.attributes import NUMERIC_SCALINGS
from mmgraph.models.auto import AUTO, DESIGN_OPTIONS, resolve_auto
from mmgraph.nn import AGGREGATORS, GNNStack, build_aggregator, gcn_degree
from mmgraph.nn.functional import dense, dropout, is_sparse, row_prefix, sparse_linear
from mmgraph.nn.trim import layer_slice
from mmgraph.resolver import MODALITIES

MODEL_MODALITIES: tuple[str, ...] = MODALITIES
"""Modalities of the model (:data:`mmgraph.resolver.MODALITIES`): precomputed text features,
images (pixels for the end-to-end CNN or precomputed features), and numeric plus categorical
attributes together."""

HEADS: tuple[str, ...] = ("linear", "conv")
"""Output heads: ``"linear"`` (a linear layer on each node's embedding) or ``"conv"`` (one
more aggregator layer, to the classes, over the graph)."""

log = logging.getLogger(__name__)

TFN_MAX_FUSED_DIM = 1024
"""Widest Tensor Fusion product :class:`MultimodalGNN` builds unless ``proj_dim`` is given."""

SPARSE_AGGREGATORS: tuple[str, ...] = ("mean", "gcn", "ggnn")
"""Aggregators whose first layer multiplies a sparse bag of words without densifying it."""

CONV_HEAD_AGGREGATORS: tuple[str, ...] = ("mean", "gcn")
"""Aggregators that can serve as the ``"conv"`` head (a GGNN step keeps its state size)."""


@dataclasses.dataclass
class ModelConfig(ConfigBase):
    r"""Architecture of a :class:`MultimodalGNN` (YAML round trip, saved with checkpoints).

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
            training nodes' mean and deviation, :meth:`MultimodalGNN.fit_statistics`),
            ``"none"`` (values as they are, e.g. a row-normalised bag of words) or ``"auto"``
            (:func:`~mmgraph.models.auto.auto_numeric_scaling`, resolved by
            :meth:`for_graph`). (default: ``"standard"``; :meth:`for_graph`: ``"auto"``)
        missing_indicator (bool, optional): Append a missing-value flag per numeric column;
            :obj:`None`: only when a numeric value is missing (resolved by :meth:`for_graph`).
            (default: :obj:`True`; :meth:`for_graph`: :obj:`None`)
        modality_dim (int, optional): Size every modality is projected to; :obj:`None` for
            no projection: the fusion reads each encoder's own output (precomputed text or
            image features as they are; the attributes' scaled values, flags and categorical
            embeddings concatenated; the CNN's last block, ``cnn_channels[-1]``), so the first
            aggregator layer reads the features themselves. (default: :obj:`64`)
        fusion (str): Fusion head name (see :func:`build_fusion_head`). (default: ``"concat"``)
        fusion_options (dict): Options of the fusion head, e.g. ``{"rank": 4}``.
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
        coordination_options (dict): Options of the coordination loss.
    """

    num_classes: int = 2
    modalities: list[str] = dataclasses.field(default_factory=lambda: list(MODEL_MODALITIES))
    text_dim: int = 0
    image_encoder: str = "cnn"
    image_dim: int = 3
    cnn_channels: list[int] = dataclasses.field(default_factory=lambda: [8, 16, 32])
    num_numeric: int = 0
    cardinalities: list[int] = dataclasses.field(default_factory=list)
    log1p: bool | list[int] = False
    numeric_scaling: str = "standard"
    missing_indicator: bool | None = True
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

    def __post_init__(self) -> None:
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

    @classmethod
    def for_graph(cls, graph: MultimodalGraph, **overrides: Any) -> ModelConfig:
        """A config sized for ``graph`` (after :func:`~mmgraph.models.featurize`).

        Uses every modality the graph has features for (``x_text``; ``image`` pixels or
        ``x_image``; ``numeric``/``categorical``), unless ``modalities`` is given. The
        data-dependent options default to ``"auto"`` here and are resolved from the graph
        (:mod:`mmgraph.models.auto`: the aggregator from the training labels' homophily, the
        numeric scaling and missing flags from the numeric values), so the returned config
        holds concrete values.
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
    return out


def build_fusion_head(
    name: str | nn.Module, in_dims: Mapping[str, int], **options: Any
) -> nn.Module:
    """A fusion head by name (``mmgraph.fusion.FUSION_HEADS``) or as is."""
    import mmgraph.coordination  # noqa: F401  (registers the "autoencoder" head)
    from mmgraph.fusion import build_fusion

    return build_fusion(name, in_dims, **options)


class MultimodalGNN(nn.Module):
    r"""A graph neural network over multimodal nodes.

    .. math::
        \mathbf{x}_{v,m} = P_m(\operatorname{enc}_m(v)), \quad
        \mathbf{z}_v = \operatorname{fuse}\big(\{\mathbf{x}_{v,m}\}_m,
        \{\mathbb{1}[v \text{ has } m]\}_m\big), \quad
        \mathbf{H} = \operatorname{GNN}_K(\mathbf{Z}), \quad
        \hat{\mathbf{y}}_v = \mathbf{W}\,\operatorname{drop}(\sigma(\mathbf{h}_v)) + \mathbf{b}

    Modality-wise encoders (:class:`~mmgraph.encoders.ModalityWise`) map each modality to
    ``modality_dim``: precomputed text (or image) features through a linear projection, the
    pixels through a :class:`~mmgraph.encoders.SmallCNN` trained end to end, numeric and
    categorical attributes through an :class:`~mmgraph.encoders.AttributeEncoder`. A fusion
    head combines them with the presence masks; where a node lacks a modality, the head
    uses a learned "missing" embedding (``concat``) or its own masking rule (every other
    head), never zeros posing as data. Then :math:`K` aggregator layers
    (:class:`~mmgraph.nn.GNNStack`: mean, GCN or GGNN, relation-aware) give the node
    embeddings :math:`\mathbf{H}` (:meth:`encode`) and a linear head the logits
    (:meth:`forward`); with ``head="conv"`` the head is one more aggregator layer,
    :math:`\hat{\mathbf{Y}} = \operatorname{conv}(\operatorname{drop}(\sigma(\mathbf{H})))`.
    With ``modality_dim=None`` the projections :math:`P_m` are left out.

    Args:
        config (ModelConfig): The architecture.
        fusion (torch.nn.Module, optional): A fusion head instance to use instead of
            ``config.fusion``. (default: :obj:`None`)

    Shapes:
        - **input:** a graph or batch with ``x_text`` :math:`(N, D_t)`, ``image``
          :math:`(N, C, H, W)` or ``x_image`` :math:`(N, D_i)`, ``numeric`` :math:`(N, F)`,
          ``categorical`` :math:`(N, C)`, ``<modality>_present`` masks, ``edge_index``,
          optional ``edge_type`` and ``edge_weight``
        - **output:** logits :math:`(N, \text{num\_classes})`; :meth:`encode`:
          :math:`(N, \text{hidden})`
    """

    def __init__(self, config: ModelConfig, fusion: nn.Module | None = None) -> None:
        super().__init__()
        unresolved = [
            name
            for name, value in (
                ("aggregator", config.aggregator),
                ("numeric_scaling", config.numeric_scaling),
                ("missing_indicator", config.missing_indicator),
            )
            if value in (AUTO, None)
        ]
        if unresolved:
            raise ValueError(
                f"The options {unresolved} are 'auto' and depend on the data: build the config "
                "with `ModelConfig.for_graph(graph, ...)` (or `MultimodalGNN.from_graph`), or "
                "give them values"
            )
        self.config = config
        d = config.modality_dim
        encoders: dict[str, nn.Module] = {}
        for m in config.modalities:
            if m == "text":
                encoders[m] = PrecomputedEncoder(config.text_dim, d)
            elif m == "image" and config.image_encoder == "cnn":
                cnn_dim = d if d is not None else config.cnn_channels[-1]
                encoders[m] = SmallCNN(config.image_dim, cnn_dim, channels=config.cnn_channels)
            elif m == "image":
                encoders[m] = PrecomputedEncoder(config.image_dim, d)
            else:
                encoders[m] = AttributeEncoder(
                    config.num_numeric,
                    config.cardinalities,
                    out_dim=d,
                    log1p=config.log1p,
                    missing_indicator=bool(config.missing_indicator),
                    numeric_scaling=config.numeric_scaling,
                )
        self.encoders = ModalityWise(encoders)
        in_dims = self.encoders.out_dims
        options = dict(config.fusion_options)
        if config.fusion != "concat":
            options.setdefault("out_dim", config.hidden)
        if config.fusion == "tfn" and "proj_dim" not in options and fusion is None:
            from mmgraph.fusion import tfn_proj_dim

            # The outer product of three 64-dim modalities has 274,625 entries per node:
            # project each modality first so the fused width stays within a limit, and
            # record the choice in the config (saved with the run).
            proj_dim = tfn_proj_dim(in_dims, TFN_MAX_FUSED_DIM)
            if proj_dim is not None:
                log.info(
                    "tfn: each modality is projected to %d dims before the outer product "
                    "(fused width <= %d; set fusion_options={'proj_dim': ...} to change it)",
                    proj_dim,
                    TFN_MAX_FUSED_DIM,
                )
                options["proj_dim"] = proj_dim
                self.config = config = dataclasses.replace(
                    config, fusion_options={**config.fusion_options, "proj_dim": proj_dim}
                )
        self.fusion = (
            fusion if fusion is not None else build_fusion_head(config.fusion, in_dims, **options)
        )
        fused = int(self.fusion.out_dim)  # type: ignore[arg-type]
        self.gnn: nn.Module
        if config.num_layers > 0:
            self.gnn = GNNStack(
                config.aggregator,
                fused,
                config.hidden,
                config.num_layers,
                num_relations=config.num_relations,
                dropout=config.dropout,
            )
        else:
            self.gnn = nn.Linear(fused, config.hidden)
        self.head: nn.Module | None = None
        if config.num_classes and config.head == "conv":
            self.head = build_aggregator(
                config.aggregator, config.hidden, config.num_classes, config.num_relations
            )
        elif config.num_classes:
            self.head = nn.Linear(config.hidden, config.num_classes)
        attributes = self.encoders.encoders["attributes"] if "attributes" in encoders else None
        if isinstance(attributes, AttributeEncoder):
            # A wide bag of words stays sparse up to the first layer's product when every
            # step on the way takes a sparse CSR tensor (one modality, concat fusion, no
            # coordination, GCN / mean / GGNN layers or none).
            attributes.sparse_output = (
                list(config.modalities) == ["attributes"]
                and fusion is None
                and config.fusion == "concat"
                and config.coordination is None
                and (config.num_layers == 0 or config.aggregator.lower() in SPARSE_AGGREGATORS)
            )
        self.projection: nn.Module | None = None
        self.coordination_loss: nn.Module | None = None
        if config.coordination is not None:
            from mmgraph.coordination import CoordinatedProjection, build_coordination

            if len(in_dims) < 2:
                raise ValueError(
                    f"Coordination needs at least two modalities (the model has {list(in_dims)})"
                )
            self.projection = CoordinatedProjection(in_dims, config.coordination_dim)
            self.coordination_loss = build_coordination(
                config.coordination, **config.coordination_options
            )

    @property
    def has_auxiliary_loss(self) -> bool:
        """Whether training adds :meth:`auxiliary_loss` (a coordination loss)."""
        return self.coordination_loss is not None

    @property
    def num_hops(self) -> int:
        """Hops of neighbours an output reads: ``num_layers``, plus one for a conv head."""
        conv_head = self.head is not None and self.config.head == "conv"
        return self.config.num_layers + int(conv_head)

    @classmethod
    def from_graph(cls, graph: MultimodalGraph, **overrides: Any) -> MultimodalGNN:
        """Build a model sized for ``graph`` and fit its attribute statistics.

        The numeric statistics (mean, std) come from the training nodes only when the graph
        has a ``train_mask`` (none are fitted with ``numeric_scaling="none"``).
        """
        model = cls(ModelConfig.for_graph(graph, **overrides))
        model.fit_statistics(graph)
        return model

    def fit_statistics(self, graph: Data, mask: Tensor | None = None) -> MultimodalGNN:
        """Fit the attribute standardisation on ``mask`` (default: ``graph.train_mask``).

        With ``numeric_scaling="none"`` there is nothing to fit (the numeric columns are only
        checked).
        """
        if "attributes" in self.encoders.encoders:
            encoder = self.encoders.encoders["attributes"]
            assert isinstance(encoder, AttributeEncoder)  # built so in __init__
            if mask is None:
                mask = getattr(graph, "train_mask", None)
            encoder.fit(getattr(graph, "numeric", None), mask)
        return self

    def reset_parameters(self) -> None:
        """Re-initialise every learnable part (the fitted statistics are kept)."""
        for module in self.modules():
            reset = getattr(module, "reset_parameters", None)
            if module is not self and callable(reset):
                reset()

    # -------------------------------------------------------------------- forward
    def modality_inputs(self, batch: Data) -> dict[str, tuple[Tensor | None, ...]]:
        """The encoder inputs of each modality, read from ``batch``."""
        inputs: dict[str, tuple[Tensor | None, ...]] = {}
        for m in self.encoders.encoders:
            if m == "text":
                inputs[m] = (_field(batch, "x_text"), _field(batch, "text_present", None))
            elif m == "image":
                key = "image" if self.config.image_encoder == "cnn" else "x_image"
                inputs[m] = (_field(batch, key), _field(batch, "image_present", None))
            else:
                inputs[m] = (
                    getattr(batch, "numeric", None) if self.config.num_numeric else None,
                    getattr(batch, "categorical", None) if self.config.cardinalities else None,
                )
        return inputs

    def modality_embeddings(self, batch: Data) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Each modality's embedding ``[N, D_m]`` and presence mask ``[N]``.

        :math:`D_m` is ``modality_dim``, or the encoder's own output size without projection.
        """
        xs, masks = self._embeddings(batch)
        return {m: dense(x) for m, x in xs.items()}, masks

    def _embeddings(self, batch: Data) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """:meth:`modality_embeddings`, with a bag of words left sparse (see ``__init__``)."""
        return self.encoders(self.modality_inputs(batch))

    def fuse(
        self, batch: Data, embeddings: tuple[dict[str, Tensor], dict[str, Tensor]] | None = None
    ) -> Tensor:
        """Encode and fuse the modalities: ``[N, fusion.out_dim]``.

        With one numeric modality of raw, wide, mostly-zero values (a bag of words: see
        :class:`~mmgraph.encoders.AttributeEncoder`) and a GCN, mean or GGNN first layer, the
        result is a sparse CSR tensor, which that layer multiplies sparse-dense.
        """
        xs, masks = embeddings if embeddings is not None else self._embeddings(batch)
        z = self.fusion(xs, masks)
        return dropout(z, p=self.config.dropout, training=self.training)

    def edge_inputs(self, batch: Data) -> tuple[Tensor | None, Tensor | None]:
        """The ``(edge_type, edge_weight)`` the aggregators read (:obj:`None` when unused)."""
        edge_type = getattr(batch, "edge_type", None) if self.config.num_relations > 1 else None
        edge_weight = getattr(batch, "edge_weight", None) if self.config.use_edge_weight else None
        return edge_type, edge_weight

    def aggregate(
        self, z: Tensor, batch: Data, seeds_only: bool = False, deg: Tensor | None = None
    ) -> Tensor:
        """Apply the aggregator layers (or the MLP layer) to fused features ``z``.

        With ``seeds_only`` on a sampled batch, the layers are trimmed
        (:mod:`mmgraph.nn.trim`) and only the rows the head needs come back: the seeds, or
        with a conv head the nodes of hops 0 and 1. ``deg`` gives GCN layers the whole batch's
        degrees when the caller has them already (default: computed here).
        """
        sizes = _sampled_sizes(batch) if seeds_only else None
        if isinstance(self.gnn, GNNStack):
            edge_type, edge_weight = self.edge_inputs(batch)
            if sizes is None:
                return self.gnn(z, batch.edge_index, edge_type, edge_weight)
            return self.gnn(
                z,
                batch.edge_index,
                edge_type,
                edge_weight,
                num_sampled_nodes=sizes[0],
                num_sampled_edges=sizes[1],
                num_later_layers=self.num_hops - self.config.num_layers,
                deg=deg if deg is not None else self._batch_degrees(batch, z.dtype),
            )
        if sizes is not None:
            z = row_prefix(z, sizes[0][0])
        if is_sparse(z):
            assert isinstance(self.gnn, nn.Linear)  # num_layers == 0
            return sparse_linear(z, self.gnn.weight, self.gnn.bias)
        return self.gnn(z)

    def _batch_degrees(self, batch: Data, dtype: torch.dtype) -> Tensor | None:
        """GCN's degrees of the whole batch, shared by trimmed GCN layers and a GCN head."""
        if self.config.aggregator.lower() != "gcn":
            return None
        _, edge_weight = self.edge_inputs(batch)
        return gcn_degree(batch.edge_index, edge_weight, int(batch.num_nodes), dtype=dtype)

    def encode(self, batch: Data, seeds_only: bool = False) -> Tensor:
        """Node embeddings ``[N, hidden]`` after the aggregator layers.

        With ``seeds_only`` on a sampled batch (``num_sampled_nodes``, ``num_sampled_edges``),
        the embeddings of its seeds only, ``[batch_size, hidden]``, computed with trimmed
        layers (:mod:`mmgraph.nn.trim`): equal to the first rows of the full output, faster.
        """
        _check_hops(batch, self.config.num_layers, "the aggregator layers")
        h = self.aggregate(self.fuse(batch), batch, seeds_only)
        sizes = _sampled_sizes(batch) if seeds_only else None
        return h if sizes is None else h[: sizes[0][0]]

    def classify(
        self,
        h: Tensor,
        batch: Data | None = None,
        seeds_only: bool = False,
        deg: Tensor | None = None,
    ) -> Tensor:
        """Logits from node embeddings ``h``; a conv head also reads the edges of ``batch``.

        With ``seeds_only`` (a sampled batch, ``h`` from ``aggregate(..., seeds_only=True)``)
        the logits of the seeds only; ``deg`` gives a GCN head the whole batch's degrees when
        the caller has them already (default: computed here).
        """
        if self.head is None:
            raise RuntimeError("This model has no head (num_classes=0): use `encode`")
        h = dropout(F.relu(h), p=self.config.dropout, training=self.training)
        if self.config.head == "linear":
            return self.head(h)
        if batch is None:
            raise ValueError(
                "Expected the batch with head='conv' (got None): the head is an aggregator "
                "layer over the edges; call `classify(h, batch)`"
            )
        edge_type, edge_weight = self.edge_inputs(batch)
        sizes = _sampled_sizes(batch) if seeds_only else None
        if sizes is None:
            return self.head(h, batch.edge_index, edge_type, edge_weight)
        part = layer_slice(self.num_hops - 1, self.num_hops, *sizes)
        kwargs: dict[str, Any] = {"num_targets": part.num_targets}
        if deg is None:
            deg = self._batch_degrees(batch, h.dtype)
        if deg is not None:
            kwargs["deg"] = deg[: part.num_inputs]
        if h.size(0) > part.num_inputs:
            h = h[: part.num_inputs]
        return self.head(h, *part.edges(batch.edge_index, edge_type, edge_weight), **kwargs)

    def auxiliary_loss(
        self, batch: Data, embeddings: tuple[dict[str, Tensor], dict[str, Tensor]] | None = None
    ) -> Tensor:
        """The weighted coordination loss between the modality embeddings (0 without one)."""
        xs, masks = embeddings if embeddings is not None else self.modality_embeddings(batch)
        if self.coordination_loss is None or self.projection is None:
            first = next(iter(xs.values()))
            return torch.zeros((), dtype=first.dtype, device=first.device)
        from mmgraph.coordination import pairwise_coordination_loss

        zs = self.projection(xs)
        needs_edge_index = getattr(self.coordination_loss, "needs_edge_index", False)
        kwargs = {"edge_index": batch.edge_index} if needs_edge_index else {}
        loss = pairwise_coordination_loss(self.coordination_loss, zs, masks, **kwargs)
        return self.config.coordination_weight * loss

    def forward(
        self, batch: Data, return_aux: bool = False, seeds_only: bool | None = None
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Logits ``[N, num_classes]`` (and the auxiliary loss with ``return_aux=True``).

        On a sampled batch (one with ``num_sampled_nodes`` and ``num_sampled_edges``, from
        :class:`~mmgraph.sampling.NeighborLoader`) only its seeds' logits are computed and
        returned, ``[batch_size, num_classes]``, with each layer trimmed to the nodes the
        next one reads (:mod:`mmgraph.nn.trim`; the values equal the first rows of the
        untrimmed output). ``seeds_only=False`` computes every node's logits instead.
        """
        conv_head = self.num_hops > self.config.num_layers
        what = "the aggregator layers and the conv head" if conv_head else "the aggregator layers"
        _check_hops(batch, self.num_hops, what)
        if seeds_only is None:
            seeds_only = _sampled_sizes(batch) is not None
        embeddings = self._embeddings(batch)
        z = self.fuse(batch, embeddings)
        # A GCN conv head and the GCN layers share the batch's degrees: computed once.
        deg = self._batch_degrees(batch, z.dtype) if seeds_only and conv_head else None
        h = self.aggregate(z, batch, seeds_only, deg)
        logits = self.classify(h, batch, seeds_only, deg)
        if return_aux:
            return logits, self.auxiliary_loss(batch, embeddings)
        return logits

    def inference(self, graph: Data, batch_size: int = 4096, embeddings: bool = False) -> Tensor:
        """Logits (or embeddings) of every node by exact layer-wise inference in chunks.

        See :func:`mmgraph.models.inference.layerwise_embeddings` and
        :func:`~mmgraph.models.inference.layerwise_logits` (a conv head is one more layer run
        the same way); for graphs too large for one full-graph forward pass.
        """
        from mmgraph.models.inference import layerwise_embeddings, layerwise_logits

        was_training = self.training
        self.eval()
        with torch.no_grad():
            if embeddings:
                out = layerwise_embeddings(self, graph, batch_size)
            else:
                out = layerwise_logits(self, graph, batch_size)
        self.train(was_training)
        return out

    def __repr__(self) -> str:
        c = self.config
        return (
            f"{type(self).__name__}(modalities={list(self.encoders.encoders)}, "
            f"fusion={c.fusion!r}, aggregator={c.aggregator!r}, hidden={c.hidden}, "
            f"num_layers={c.num_layers}, head={c.head!r}, num_classes={c.num_classes})"
        )


def _check_hops(batch: Data, needed: int, what: str) -> None:
    """Refuse a sampled batch (``num_sampled_nodes``) with fewer hops than ``needed``."""
    sampled = getattr(batch, "num_sampled_nodes", None)
    if sampled is None:
        return
    hops = len(sampled) - 1
    if hops < needed:
        raise ValueError(
            f"Expected a batch sampled with at least {needed} hops for {what} (got {hops}: "
            "one fan-out per hop); give one more fan-out per missing hop, e.g. "
            f"fanouts={[10] * needed}"
        )


def _sampled_sizes(batch: Data) -> tuple[list[int], list[int]] | None:
    """A sampled batch's ``(num_sampled_nodes, num_sampled_edges)``, else :obj:`None`."""
    nodes = getattr(batch, "num_sampled_nodes", None)
    edges = getattr(batch, "num_sampled_edges", None)
    if nodes is None or edges is None:
        return None
    return [int(n) for n in nodes], [int(e) for e in edges]


def _field(batch: Data, key: str, *default: Any) -> Any:
    value = getattr(batch, key, *default) if default else getattr(batch, key, None)
    if value is None and not default:
        raise ValueError(
            f"The batch has no '{key}': featurize the graph first "
            "(mmgraph.models.featurize) or drop that modality"
        )
    return value
