"""MultimodalGNN: modality encoders, fusion, graph aggregation and a task head."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from mmgraph.coordination import pairwise_coordination_loss
from mmgraph.data.graph import MultimodalGraph
from mmgraph.encoders import AttributeEncoder, ModalityWise, PrecomputedEncoder, SequenceEncoder
from mmgraph.errors import InputError
from mmgraph.models.builders import (
    build_coordination_parts,
    build_encoders,
    build_fusion_head,
    build_gnn,
    build_head,
    build_model_fusion,
    keeps_sparse_input,
)
from mmgraph.models.config import MODEL_MODALITIES, ModelConfig, available_modalities
from mmgraph.models.sequences import sequence_inputs
from mmgraph.nn import apply_trimmed
from mmgraph.nn.functional import dense, dropout, row_prefix
from mmgraph.resolver import InputTypeError


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

    The model takes its parts ready-built; :meth:`from_config` (or :meth:`from_graph`) builds
    them from a :class:`ModelConfig` (:mod:`mmgraph.models.builders`).

    Args:
        encoders (ModalityWise): One encoder per modality
            (:func:`~mmgraph.models.builders.build_encoders`).
        fusion (torch.nn.Module): The fusion head, exposing ``out_channels``
            (:func:`~mmgraph.models.builders.build_model_fusion`).
        gnn (torch.nn.Module): The aggregator layers, a :class:`~mmgraph.nn.GNNStack`, or a
            :class:`~mmgraph.nn.NodeLinear` for ``num_layers=0`` (told apart by their
            ``passes_messages`` flag)
            (:func:`~mmgraph.models.builders.build_gnn`).
        head (torch.nn.Module, optional): The output head, a :class:`torch.nn.Linear` or an
            aggregator layer (``head="conv"``); :obj:`None` for an encoder without classes.
            (:func:`~mmgraph.models.builders.build_head`) (default: :obj:`None`)
        config (ModelConfig): The architecture the parts were built from: the options
            ``forward`` reads (``dropout``, ``head``, ``num_layers``, ``num_relations``,
            ``use_edge_weight``, the image field, the attribute columns,
            ``coordination_weight``), saved with checkpoints.
        projection (torch.nn.Module, optional): The projection into the coordinated space.
            (default: :obj:`None`)
        coordination_loss (torch.nn.Module, optional): The coordination loss (with
            ``projection``; :func:`~mmgraph.models.builders.build_coordination_parts`).
            (default: :obj:`None`)

    Shapes:
        - **input:** a graph or batch with ``x_text`` :math:`(N, D_t)`, ``image``
          :math:`(N, C, H, W)` or ``x_image`` :math:`(N, D_i)`, ``numeric`` :math:`(N, F)`,
          ``categorical`` :math:`(N, C)`, ``<modality>_present`` masks, ``edge_index``,
          optional ``edge_type`` and ``edge_weight``
        - **output:** logits :math:`(N, \text{num\_classes})`; :meth:`encode`:
          :math:`(N, \text{hidden})`
    """

    feeds_sequences: ClassVar[bool] = True
    """Whether the model gives a fusion head with the ``takes_sequences`` flag its per-view
    sequences (:func:`~mmgraph.models.sequences.sequence_inputs`), so that such a head (the
    MV-LSTM) can be chosen by name, as ``--fusion`` does."""

    def __init__(
        self,
        encoders: ModalityWise,
        fusion: nn.Module,
        gnn: nn.Module,
        head: nn.Module | None = None,
        *,
        config: ModelConfig,
        projection: nn.Module | None = None,
        coordination_loss: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if (projection is None) != (coordination_loss is None):
            raise ValueError(
                "Expected both 'projection' and 'coordination_loss' or neither (got "
                f"projection={type(projection).__name__}, "
                f"coordination_loss={type(coordination_loss).__name__}); build them with "
                "mmgraph.models.builders.build_coordination_parts"
            )
        self.config = config
        self.encoders = encoders
        self.fusion = fusion
        self.gnn = gnn
        self.head = head
        self.projection = projection
        self.coordination_loss = coordination_loss

    @classmethod
    def from_config(cls, config: ModelConfig, fusion: nn.Module | None = None) -> MultimodalGNN:
        """Build every part from ``config`` (:mod:`mmgraph.models.builders`).

        Args:
            config (ModelConfig): The architecture, with its data-dependent options resolved
                (:meth:`ModelConfig.for_graph`).
            fusion (torch.nn.Module, optional): A fusion head instance to use instead of
                ``config.fusion``. (default: :obj:`None`)

        Raises:
            ValueError: ``config`` still has ``"auto"`` options, or asks for coordination
                with fewer than two modalities.
        """
        config.check_resolved()
        sparse = fusion is None and keeps_sparse_input(config)
        encoders = build_encoders(config, sparse_output=sparse)
        in_channels = encoders.out_channels
        if fusion is None:
            fusion, config = build_model_fusion(config, in_channels)
        gnn = build_gnn(config, int(fusion.out_channels))  # type: ignore[arg-type]
        head = build_head(config)
        projection, coordination_loss = build_coordination_parts(config, in_channels)
        return cls(
            encoders,
            fusion,
            gnn,
            head,
            config=config,
            projection=projection,
            coordination_loss=coordination_loss,
        )

    @property
    def has_auxiliary_loss(self) -> bool:
        """Whether training adds :meth:`auxiliary_loss`.

        It does with a coordination loss, or a fusion head with the ``has_auxiliary_loss``
        flag (e.g. translation).
        """
        return self.coordination_loss is not None or _fusion_has_loss(self.fusion)

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
        if not isinstance(graph, MultimodalGraph):
            raise InputTypeError(
                f"Expected a MultimodalGraph (got {type(graph).__name__!r}): convert a PyG Data "
                "with mmgraph.data.from_data(data), whose 'x' becomes the numeric modality"
            )
        config = ModelConfig.for_graph(graph, **overrides)
        raw = [
            m
            for m in ("text", "image")
            if m not in config.modalities
            and getattr(graph, m, None) is not None
            and getattr(graph, f"x_{m}", None) is None
            and not (m == "image" and isinstance(graph.image, Tensor))
        ]
        if "modalities" in overrides:  # chosen on purpose
            raw = []
        if raw:
            warnings.warn(
                f"The graph has raw {' and '.join(raw)} that the model will not read (no "
                f"x_{raw[0]}): featurize it first (mmgraph.models.featurize), or pass "
                f"modalities={list(config.modalities)} to say so",
                UserWarning,
                stacklevel=2,
            )
        model = cls.from_config(config)
        model.fit_statistics(graph)
        return model

    def fit_statistics(self, graph: Data, mask: Tensor | None = None) -> MultimodalGNN:
        """Fit the attribute and sequence standardisation on ``mask`` (default: ``train_mask``).

        With ``numeric_scaling="none"`` there is nothing to fit (the numeric columns are only
        checked). With ``center_features``, the precomputed text and image features' means
        over the present nodes of ``mask`` too.
        """
        if mask is None:
            mask = getattr(graph, "train_mask", None)
        for m in ("text", "image"):
            encoder = self.encoders.encoders[m] if m in self.encoders.encoders else None
            x = getattr(graph, f"x_{m}", None)
            if isinstance(encoder, PrecomputedEncoder) and encoder.center and x is not None:
                present = getattr(graph, f"{m}_present", None)
                rows = present if mask is None else mask if present is None else present & mask
                encoder.fit(x, rows)
        if "sequence" in self.encoders.encoders:
            sequence = self.encoders.encoders["sequence"]
            assert isinstance(sequence, SequenceEncoder)  # built so by from_config
            present = getattr(graph, "sequence_present", None)
            if mask is not None and present is not None:
                present = present & mask
            nodes = present if present is not None else mask
            sequence.fit(graph.sequence, getattr(graph, "sequence_length", None), nodes)
        if "attributes" in self.encoders.encoders:
            encoder = self.encoders.encoders["attributes"]
            assert isinstance(encoder, AttributeEncoder)  # built so by from_config
            encoder.fit(getattr(graph, "numeric", None), mask)
        return self

    def reset_parameters(self) -> None:
        """Re-initialise every learnable part (the fitted statistics are kept)."""
        for module in self.modules():
            reset = getattr(module, "reset_parameters", None)
            if module is not self and callable(reset):
                reset()

    # -------------------------------------------------------------------- forward
    def modality_inputs(
        self, batch: Data, modalities: Sequence[str] | None = None
    ) -> dict[str, tuple[Tensor | None, ...]]:
        """The encoder inputs of each modality (or of ``modalities`` only), read from ``batch``."""
        inputs: dict[str, tuple[Tensor | None, ...]] = {}
        for m in self._modalities(modalities):
            if m == "text":
                inputs[m] = (_field(batch, "x_text"), _field(batch, "text_present", None))
            elif m == "image":
                key = "image" if self.config.image_encoder == "cnn" else "x_image"
                inputs[m] = (_field(batch, key), _field(batch, "image_present", None))
            elif m == "sequence":
                inputs[m] = (
                    _field(batch, "sequence"),
                    _field(batch, "sequence_length", None),
                    _field(batch, "sequence_present", None),
                )
            else:
                inputs[m] = (
                    getattr(batch, "numeric", None) if self.config.num_numeric else None,
                    getattr(batch, "categorical", None) if self.config.cardinalities else None,
                )
        return inputs

    def modality_embeddings(
        self, batch: Data, modalities: Sequence[str] | None = None
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Each modality's embedding ``[N, D_m]`` and presence mask ``[N]``.

        :math:`D_m` is ``modality_dim``, or the encoder's own output size without projection.
        With ``modalities``, only those are encoded, and ``batch`` needs only their inputs
        (e.g. a query of one modality, for :class:`~mmgraph.retrieval.Retriever`).
        """
        if modalities is None:
            xs, masks = self._embeddings(batch)
        else:
            xs, masks = self.encoders(self.modality_inputs(batch, modalities), partial=True)
        return {m: dense(x) for m, x in xs.items()}, masks

    def _modalities(self, modalities: Sequence[str] | None) -> list[str]:
        """``modalities`` (default: every encoded one), checked against the model's."""
        own = list(self.encoders.encoders)
        if modalities is None:
            return own
        unknown = [m for m in modalities if m not in own]
        if unknown:
            raise InputError(
                f"The model has no {unknown[0]!r} modality (it encodes {own}): choose one of those"
            )
        return [m for m in own if m in modalities]

    def _embeddings(self, batch: Data) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """:meth:`modality_embeddings`, with a bag of words left sparse (see ``__init__``)."""
        return self.encoders(self.modality_inputs(batch))

    def fuse(
        self, batch: Data, embeddings: tuple[dict[str, Tensor], dict[str, Tensor]] | None = None
    ) -> Tensor:
        """Encode and fuse the modalities: ``[N, fusion.out_channels]``.

        With one numeric modality of raw, wide, mostly-zero values (a bag of words: see
        :class:`~mmgraph.encoders.AttributeEncoder`) and a GCN, mean or GGNN first layer, the
        result is a sparse CSR tensor, which that layer multiplies sparse-dense. A head that
        fuses sequences (``takes_sequences``, as MV-LSTM) reads the views of the sequence steps
        and the other modalities repeated over the steps
        (:func:`~mmgraph.models.sequences.sequence_inputs`).
        """
        xs, masks = embeddings if embeddings is not None else self._embeddings(batch)
        if getattr(self.fusion, "takes_sequences", False):
            encoder = self.encoders.encoders["sequence"]
            xs, masks = sequence_inputs(encoder, batch, xs, masks, self.config.sequence_views)
        z = self.fusion(xs, masks)
        return dropout(z, p=self.config.dropout, training=self.training)

    def edge_inputs(self, batch: Data) -> tuple[Tensor | None, Tensor | None]:
        """The ``(edge_type, edge_weight)`` the aggregators read (:obj:`None` when unused)."""
        edge_type = getattr(batch, "edge_type", None) if self.config.num_relations > 1 else None
        edge_weight = getattr(batch, "edge_weight", None) if self.config.use_edge_weight else None
        return edge_type, edge_weight

    def aggregate(self, z: Tensor, batch: Data, seeds_only: bool = False) -> Tensor:
        """Apply the aggregator layers (or the MLP layer) to fused features ``z``.

        With ``seeds_only`` on a sampled batch, the layers are trimmed
        (:mod:`mmgraph.nn.trim`) and only the rows the head needs come back: the seeds, or
        with a conv head the nodes of hops 0 and 1 (layers that read degrees, such as GCN,
        get the whole batch's from the stack).
        """
        sizes = _sampled_sizes(batch) if seeds_only else None
        if getattr(self.gnn, "passes_messages", False):
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
            )
        if sizes is not None:
            z = row_prefix(z, sizes[0][0])
        return self.gnn(z)  # NodeLinear (num_layers == 0) takes a sparse input as it is

    def encode(self, batch: Data, seeds_only: bool = False) -> Tensor:
        """Node embeddings ``[N, hidden]`` after the aggregator layers.

        With ``seeds_only`` on a sampled batch (``num_sampled_nodes``, ``num_sampled_edges``),
        the embeddings of its seeds only, ``[batch_size, hidden]``, computed with trimmed
        layers (:mod:`mmgraph.nn.trim`): equal to the first rows of the full output, faster.
        """
        return self._encode(batch, seeds_only, self._embeddings(batch))

    def encode_with_aux(self, batch: Data, seeds_only: bool = False) -> tuple[Tensor, Tensor]:
        """:meth:`encode` and the auxiliary loss (:meth:`auxiliary_loss`) of one pass.

        For objectives without labels that train the model through its embeddings.
        """
        embeddings = self._embeddings(batch)
        h = self._encode(batch, seeds_only, embeddings)
        return h, self.auxiliary_loss(batch, embeddings)

    def _encode(
        self,
        batch: Data,
        seeds_only: bool,
        embeddings: tuple[dict[str, Tensor], dict[str, Tensor]],
    ) -> Tensor:
        _check_hops(batch, self.config.num_layers, "the aggregator layers")
        h = self.aggregate(self.fuse(batch, embeddings), batch, seeds_only)
        sizes = _sampled_sizes(batch) if seeds_only else None
        return h if sizes is None else h[: sizes[0][0]]

    def classify(
        self,
        h: Tensor,
        batch: Data | None = None,
        seeds_only: bool = False,
    ) -> Tensor:
        """Logits from node embeddings ``h``; a conv head also reads the edges of ``batch``.

        With ``seeds_only`` (a sampled batch, ``h`` from ``aggregate(..., seeds_only=True)``)
        the logits of the seeds only (a head that reads degrees gets the whole batch's).
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
        return apply_trimmed(
            self.head,  # type: ignore[arg-type]
            self.num_hops - 1,
            self.num_hops,
            h,
            batch.edge_index,
            edge_type,
            edge_weight,
            num_sampled_nodes=sizes[0],
            num_sampled_edges=sizes[1],
        )

    def auxiliary_loss(
        self, batch: Data, embeddings: tuple[dict[str, Tensor], dict[str, Tensor]] | None = None
    ) -> Tensor:
        """The weighted auxiliary losses (0 without any).

        The coordination loss between the modality embeddings (times
        ``coordination_weight``), plus the fusion head's own loss when it has the
        ``has_auxiliary_loss`` flag (its ``auxiliary_loss(xs, masks)``, weighted by the head).
        """
        xs, masks = embeddings if embeddings is not None else self.modality_embeddings(batch)
        fusion_loss = None
        if _fusion_has_loss(self.fusion):  # a FusionHead with the flag
            fusion_loss = self.fusion.auxiliary_loss(xs, masks)  # type: ignore[operator]
        if self.coordination_loss is None or self.projection is None:
            if fusion_loss is not None:
                return fusion_loss
            first = next(iter(xs.values()))
            return torch.zeros((), dtype=first.dtype, device=first.device)
        zs = self.projection(xs)
        needs_edge_index = getattr(self.coordination_loss, "needs_edge_index", False)
        kwargs = {"edge_index": batch.edge_index} if needs_edge_index else {}
        loss = pairwise_coordination_loss(self.coordination_loss, zs, masks, **kwargs)
        loss = self.config.coordination_weight * loss
        return loss if fusion_loss is None else loss + fusion_loss

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
        h = self.aggregate(z, batch, seeds_only)
        logits = self.classify(h, batch, seeds_only)
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


def _fusion_has_loss(fusion: nn.Module) -> bool:
    """Whether the fusion head has a loss of its own (its ``has_auxiliary_loss`` flag)."""
    return bool(getattr(fusion, "has_auxiliary_loss", False))


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
            f"fanouts={[10] * needed} (--fanouts {' '.join(['10'] * needed)})"
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


__all__ = [
    "MODEL_MODALITIES",
    "ModelConfig",
    "MultimodalGNN",
    "available_modalities",
    "build_fusion_head",
]
