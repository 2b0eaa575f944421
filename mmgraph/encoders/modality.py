"""One encoder per modality, and frozen encoding of a whole graph's texts and images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph.data.graph import MODALITY_FIELDS
from mmgraph.encoders.attributes import SPARSE_MAX_DENSITY, SPARSE_MIN_COLUMNS
from mmgraph.nn.functional import TensorCache, csr_from_dense, sparse_linear

if TYPE_CHECKING:
    from mmgraph.data.graph import MultimodalGraph
    from mmgraph.encoders.image import ImageEncoder
    from mmgraph.encoders.text import HashingTextEncoder, TextEncoder, TfidfTextEncoder

ENCODED_MODALITIES: tuple[str, ...] = (*MODALITY_FIELDS, "attributes")
"""Keys a :class:`ModalityWise` accepts, in canonical order; ``"attributes"`` is numeric and
categorical together (an :class:`~mmgraph.encoders.attributes.AttributeEncoder`)."""


def out_channels_of(encoder: nn.Module) -> int:
    """An encoder's output size, read from its ``out_channels`` attribute."""
    value = getattr(encoder, "out_channels", None)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(
        f"Expected the encoder {type(encoder).__name__!r} to expose its output size as an int "
        f"'out_channels' attribute (got {value!r}); add one"
    )


class PrecomputedEncoder(nn.Module):
    r"""Features computed beforehand (by a frozen encoder), optionally projected.

    .. math::
        \mathbf{x}'_i = m_i \, (\mathbf{W} \mathbf{x}_i + \mathbf{b})

    where :math:`m_i` is the presence mask (rows of missing nodes are zeros). Without
    ``out_channels`` the features pass through unchanged (:math:`\mathbf{W} = \mathbf{I}`,
    :math:`\mathbf{b} = 0`), apart from the zeroed missing rows.

    Wide, mostly-zero features (a raw bag of words or TF-IDF: at least
    :data:`~mmgraph.encoders.attributes.SPARSE_MIN_COLUMNS` columns, at most
    :data:`~mmgraph.encoders.attributes.SPARSE_MAX_DENSITY` of the present nodes' values
    non-zero) are
    converted once to a sparse CSR tensor (cached per input tensor and mask), as
    :class:`~mmgraph.encoders.AttributeEncoder` does with numeric ones: the projection is then
    a sparse-dense product, and with ``sparse_output`` and no projection the output is that
    CSR tensor, for a fusion head and first layer that take it
    (:func:`~mmgraph.models.builders.keeps_sparse_input`).

    Args:
        in_channels (int): Size of the precomputed features.
        out_channels (int, optional): Size of the projection; :obj:`None` for none.
            (default: :obj:`None`)
        bias (bool, optional): Learn the bias :math:`\mathbf{b}`. (default: :obj:`True`)
        sparse_output (bool, optional): Without projection, return wide, mostly-zero
            features as a sparse CSR tensor instead of dense. (default: :obj:`False`)
        center (bool, optional): Subtract the mean :math:`\boldsymbol{\mu}` of the rows
            given to :meth:`fit` (kept as the buffer ``offset``):
            :math:`\mathbf{W} (\mathbf{x}_i - \boldsymbol{\mu}) + \mathbf{b}`. With a
            projection this only moves the bias, but sentence vectors of short texts share
            most of their direction, and an unsupervised GNN fed them raw loses the graph
            (:data:`~mmgraph.tasks.unsupervised.GNN_MODEL_DEFAULTS`). Wide features kept
            sparse without a projection are not centred. (default: :obj:`False`)

    Shapes:
        - **input:** ``x [N, in_channels]``, ``mask [N]`` (bool, optional: all present)
        - **output:** ``(x [N, out_channels or in_channels], mask [N])``; ``x`` is sparse CSR
          with ``sparse_output`` for wide, mostly-zero features without projection
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int | None = None,
        bias: bool = True,
        sparse_output: bool = False,
        center: bool = False,
    ) -> None:
        super().__init__()
        if not isinstance(in_channels, int) or isinstance(in_channels, bool) or in_channels < 1:
            raise ValueError(f"Expected 'in_channels' to be a positive int (got {in_channels!r})")
        if out_channels is not None and (
            not isinstance(out_channels, int) or isinstance(out_channels, bool) or out_channels < 1
        ):
            raise ValueError(
                f"Expected 'out_channels' to be a positive int or None (got {out_channels!r})"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels if out_channels is not None else in_channels
        self.lin = (
            nn.Linear(in_channels, out_channels, bias=bias) if out_channels is not None else None
        )
        self.sparse_output = bool(sparse_output)
        self.center = bool(center)
        self.offset: Tensor | None
        self.register_buffer("offset", torch.zeros(in_channels) if self.center else None)
        self._sparse_inputs = TensorCache(size=2)
        self.reset_parameters()

    def fit(self, x: Tensor, mask: Tensor | None = None) -> PrecomputedEncoder:
        """Set the ``offset`` of ``center`` to the mean of the rows of ``x`` in ``mask``.

        Without ``center``, or with no row in ``mask``, nothing changes.
        """
        if self.offset is None:
            return self
        if not isinstance(x, Tensor) or x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(
                f"Expected features of shape [N, {self.in_channels}] to fit the offset (got "
                f"{list(getattr(x, 'shape', [])) or type(x).__name__})"
            )
        rows = x if mask is None else x[mask]
        if rows.size(0) > 0:
            mean = rows.to(torch.float64).mean(0)
            if not bool(torch.isfinite(mean).all()):
                raise ValueError(
                    "The precomputed features hold NaN or infinite values in present rows: "
                    "mark those nodes missing in the mask, or fix the features"
                )
            self.offset.copy_(mean.to(self.offset.dtype))
        return self

    def reset_parameters(self) -> None:
        """Re-initialise the projection."""
        if self.lin is not None:
            self.lin.reset_parameters()

    @property
    def takes_sparse(self) -> bool:
        """Whether wide, mostly-zero features are kept sparse (see the class)."""
        return self.in_channels >= SPARSE_MIN_COLUMNS and (
            self.lin is not None or self.sparse_output
        )

    def sparse_features(self, x: Tensor, mask: Tensor | None = None) -> Tensor | None:
        """``x`` as CSR with the rows of missing nodes empty, when it is kept sparse.

        Converted once per ``(x, mask)`` and cached (``mask``: :obj:`None` for every node
        present); features that are not mostly zero are remembered as such (:obj:`None`).
        """
        if not self.takes_sparse or x.requires_grad or x.layout != torch.strided:
            return None

        def convert() -> Tensor | None:
            rows = x.size(0) if mask is None else int(mask.sum())
            some = None if rows == x.size(0) else mask  # the rows stored; the others empty
            most = SPARSE_MAX_DENSITY * rows * x.size(1)
            # every row's values bound the present rows' ones: mostly zero without a copy
            if int(torch.count_nonzero(x)) > most and (
                some is None or int(torch.count_nonzero(x[some])) > most
            ):
                return None
            return csr_from_dense(x, rows=some)[0]

        keys = [x] if mask is None else [x, mask]
        return self._sparse_inputs.get_or_compute(keys, convert)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Project the features and zero the rows of missing nodes."""
        if not isinstance(x, Tensor) or x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(
                f"Expected precomputed features of shape [N, {self.in_channels}] (got "
                f"{list(getattr(x, 'shape', [])) or type(x).__name__}); set 'in_channels' to the "
                "encoder's output size"
            )
        n = x.size(0)
        given = mask
        if mask is None:
            mask = torch.ones(n, dtype=torch.bool, device=x.device)
        elif not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape != (n,):
            raise ValueError(
                f"Expected 'mask' to be a bool tensor of shape [{n}] (got "
                f"{getattr(mask, 'dtype', type(mask).__name__)} of shape "
                f"{list(getattr(mask, 'shape', []))})"
            )
        csr = self.sparse_features(x, given)
        if csr is not None:
            if self.lin is None:
                return csr, mask
            x = sparse_linear(csr, self.lin.weight, self._bias())
            return x.masked_fill_(~mask.unsqueeze(1), 0.0), mask
        if self.lin is not None:  # a fresh output: zero the missing rows in place
            out = F.linear(x, self.lin.weight, self._bias())
            return out.masked_fill_(~mask.unsqueeze(1), 0.0), mask
        if self.offset is not None:
            x = x - self.offset
        return x.masked_fill(~mask.unsqueeze(1), 0.0), mask

    def _bias(self) -> Tensor | None:
        """The projection's bias, less the projected ``offset``: ``W (x - mu) + b``."""
        assert self.lin is not None
        if self.offset is None:
            return self.lin.bias
        shift = F.linear(self.offset, self.lin.weight)
        return -shift if self.lin.bias is None else self.lin.bias - shift

    def __repr__(self) -> str:
        projected = self.out_channels if self.lin is not None else None
        center = ", center=True" if self.center else ""
        return f"{self.__class__.__name__}({self.in_channels}, {projected}{center})"


class ModalityWise(nn.Module):
    r"""One encoder per modality, applied to that modality's inputs.

    After PyTorch Frame's ``StypeWiseFeatureEncoder``: the encoders sit in an
    :class:`~torch.nn.ModuleDict` keyed by modality, in canonical order
    (:data:`ENCODED_MODALITIES`). Each encoder maps its inputs to ``(x, mask)``:

    .. math::
        (\mathbf{X}_m, \mathbf{m}_m) = \mathrm{enc}_m(\mathrm{inputs}_m)
        \quad \text{for each modality } m.

    Args:
        encoders (Mapping[str, torch.nn.Module]): Encoder of each modality (``"text"``,
            ``"image"``, ``"numeric"``, ``"categorical"`` or ``"attributes"``), each with an
            int ``out_channels`` attribute and ``forward(*inputs) -> (x, mask)``.

    Shapes:
        - **input:** a mapping from modality to a tuple of tensors (such as ``(x, mask)`` for
          a :class:`PrecomputedEncoder`, ``(numeric, categorical)`` for an
          :class:`~mmgraph.encoders.attributes.AttributeEncoder`)
        - **output:** ``(xs, masks)``: dicts from modality to ``[N, D_m]`` and ``[N]`` (bool)
    """

    def __init__(self, encoders: Mapping[str, nn.Module]) -> None:
        super().__init__()
        if not encoders:
            raise ValueError(
                f"Expected at least one encoder, keyed by modality {ENCODED_MODALITIES}"
            )
        unknown = [k for k in encoders if k not in ENCODED_MODALITIES]
        if unknown:
            raise KeyError(
                f"Unknown modality {unknown[0]!r} for an encoder (expected one of "
                f"{ENCODED_MODALITIES})"
            )
        for name, encoder in encoders.items():
            if not isinstance(encoder, nn.Module):
                raise TypeError(
                    f"Expected the encoder of {name!r} to be a torch.nn.Module (got "
                    f"{type(encoder).__name__!r}); wrap precomputed features in a "
                    "PrecomputedEncoder"
                )
            out_channels_of(encoder)
        ordered = [(m, encoders[m]) for m in ENCODED_MODALITIES if m in encoders]
        self.encoders = nn.ModuleDict(dict(ordered))

    @property
    def modalities(self) -> list[str]:
        """The encoded modalities, in canonical order."""
        return list(self.encoders.keys())

    @property
    def out_channels(self) -> dict[str, int]:
        """Output size of each modality's encoder."""
        return {m: out_channels_of(enc) for m, enc in self.encoders.items()}

    def reset_parameters(self) -> None:
        """Reset every encoder that has a ``reset_parameters`` method."""
        for encoder in self.encoders.values():
            reset = getattr(encoder, "reset_parameters", None)
            if callable(reset):
                reset()

    def forward(
        self, inputs: Mapping[str, Tensor | Sequence[Any]], partial: bool = False
    ) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Encode each modality; see the class description.

        With ``partial``, only the modalities in ``inputs`` are encoded (and returned);
        otherwise ``inputs`` must hold every encoder's modality.
        """
        extra = [k for k in inputs if k not in self.encoders]
        if extra:
            raise KeyError(
                f"No encoder for modality {extra[0]!r} in the inputs (encoders: "
                f"{self.modalities}); drop it or add an encoder"
            )
        absent = [m for m in self.encoders if m not in inputs]
        if absent and not partial:
            raise KeyError(
                f"Missing inputs for modality {absent[0]!r} (got {list(inputs)}; expected "
                f"{self.modalities})"
            )
        xs: dict[str, Tensor] = {}
        masks: dict[str, Tensor] = {}
        n: int | None = None
        for name, encoder in self.encoders.items():
            if name not in inputs:  # partial
                continue
            args = inputs[name]
            out = encoder(args) if isinstance(args, Tensor) else encoder(*args)
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError(
                    f"Expected the encoder of {name!r} to return (x, mask) (got "
                    f"{type(out).__name__!r})"
                )
            x, mask = out
            if n is None:
                n = x.size(0)
            elif x.size(0) != n:
                raise ValueError(
                    f"Expected every modality to hold the same {n} nodes (got {x.size(0)} "
                    f"for {name!r})"
                )
            xs[name], masks[name] = x, mask
        return xs, masks

    def __repr__(self) -> str:
        inner = ", ".join(f"{m}={enc!r}" for m, enc in self.encoders.items())
        return f"{self.__class__.__name__}({inner})"


def encode_graph(
    graph: MultimodalGraph,
    text_encoder: TextEncoder | TfidfTextEncoder | HashingTextEncoder | None = None,
    image_encoder: ImageEncoder | None = None,
    progress: bool = True,
) -> dict[str, tuple[Tensor, Tensor]]:
    """Run frozen encoders over a graph's texts and images.

    Nodes whose presence mask is :obj:`False` are not encoded (zeros, mask :obj:`False`);
    with an image encoder set to ``on_error="missing"``, unreadable files are also marked
    missing. Relative image paths resolve against ``graph.image_root``. A TF-IDF encoder
    must be fitted first (on the training nodes).

    Args:
        graph (MultimodalGraph): The graph.
        text_encoder (optional): A :class:`~mmgraph.encoders.text.TextEncoder`,
            :class:`~mmgraph.encoders.text.TfidfTextEncoder` or
            :class:`~mmgraph.encoders.text.HashingTextEncoder`. (default: :obj:`None`)
        image_encoder (ImageEncoder, optional): The image encoder. (default: :obj:`None`)
        progress (bool, optional): Show progress bars. (default: :obj:`True`)

    Returns:
        ``{"text": (x, mask), "image": (x, mask)}`` for the encoders given, ready for
        :class:`PrecomputedEncoder` s in a :class:`ModalityWise`.
    """
    out: dict[str, tuple[Tensor, Tensor]] = {}
    if text_encoder is not None:
        texts = _modality_values(graph, "text", text_encoder)
        present = graph.presence_mask("text").cpu()
        texts = [t if keep else None for t, keep in zip(texts, present.tolist())]
        x, mask = text_encoder.encode(texts, progress=progress)
        out["text"] = (x, mask & present)
    if image_encoder is not None:
        images = _modality_values(graph, "image", image_encoder)
        present = graph.presence_mask("image").cpu()
        if isinstance(images, Tensor):
            x, mask = image_encoder.encode(images, mask=present, progress=progress)
        else:
            paths = [p if keep else None for p, keep in zip(images, present.tolist())]
            x, mask = image_encoder.encode(paths, root=graph.image_root, progress=progress)
        out["image"] = (x, mask & present)
    return out


def _modality_values(graph: MultimodalGraph, modality: str, encoder: Any) -> Any:
    value = getattr(graph, modality, None)
    if value is None:
        raise ValueError(
            f"The graph has no {modality!r} modality to encode (it has {graph.modalities}); "
            f"drop the {modality} encoder"
        )
    if not callable(getattr(encoder, "encode", None)):
        raise TypeError(
            f"Expected a frozen {modality} encoder with an `encode` method (got "
            f"{type(encoder).__name__!r}); trainable encoders such as SmallCNN belong in a "
            "ModalityWise"
        )
    return value
