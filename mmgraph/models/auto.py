"""The ``"auto"`` model options, resolved from the graph before the model is built.

Each rule reads only what training may read: the features of every node, and the labels of
the training nodes. :meth:`~mmgraph.models.ModelConfig.for_graph` applies them, so the
saved run configuration holds the resolved values (and a run reloads exactly).

- ``aggregator="auto"``: ``"gcn"`` (one weight shared by a node and its neighbours,
  symmetric normalisation) when neighbours tend to share labels, else ``"mean"`` (the mean
  of the neighbours with a separate self weight, which keeps a node's own features apart
  from neighbours of other classes). Neighbours "tend to share labels" when the edge
  homophily among training nodes (the share of edges between two training nodes whose
  labels agree) is at least :data:`HOMOPHILY_THRESHOLD`. With fewer than
  :data:`MIN_LABELLED_EDGES` such edges (a public split of a few nodes per class, as
  CiteSeer's), the share over two-step paths between training nodes stands in
  (:func:`two_hop_homophily`); with too few of those as well, the rule cannot tell and picks
  ``"mean"``, which does not assume homophily.
- ``numeric_scaling="auto"``: ``"row"`` for a bag of words or counts (every value finite
  and non-negative, at least :data:`~mmgraph.encoders.attributes.SPARSE_MIN_COLUMNS`
  columns, at most :data:`~mmgraph.encoders.attributes.SPARSE_MAX_DENSITY` of the values
  non-zero: columns on one shared scale, where standardising would turn every absent word
  into a negative value), else ``"standard"``. ``"row"`` divides each node's counts by their
  sum, as Kipf & Welling's GCN and PyG's ``NormalizeFeatures`` do, so that a long document
  does not weigh more than a short one: on Cora and CiteSeer's public splits it gave 82.3
  and 69.0% test accuracy with the default command against 80.3 and 67.9 for the counts as
  they are (``"none"``, the rule until issue 14's second round; 5 seeds,
  ``benchmarks/results/defaults.md``).
- ``missing_indicator=None``: flags per numeric column only when a node that has numeric
  values misses some of them (NaN); without such gaps the flags would be constant zeros
  (a node without any numeric value is marked by the modality's presence mask).

Rows all NaN (nodes without numeric values) are left out of both numeric rules.

One more kind of ``"auto"`` is not a rule but a choice made on validation data, by the
training task (:func:`~mmgraph.tasks.train_node_classifier`), not by the model:

- ``num_layers``, ``head``, ``modality_dim`` set to ``"auto"`` (the defaults of
  ``mmgraph train``): each design of :data:`DESIGNS` is trained, and the one with the
  highest validation accuracy is kept, ties to the lower validation loss
  (:func:`design_candidates`).
- ``text_encoder="auto"`` (the default of ``mmgraph train``): on a graph with text, each
  design is trained with each text feature of :data:`TEXT_CANDIDATES` (a sentence encoder
  and the raw bag of words, :func:`text_candidates`), and the same criterion keeps both. On
  Texas the pair chosen this way (with raw TF-IDF, the candidate before the bag of words)
  scored 87.8% against 82.2% for the sentence encoder with the same designs
  (``benchmarks/results/text_selection.md``):
  what a page's words are tells its kind better than a sentence encoder's reading of its
  first 256 word pieces, on some data, and the validation split tells which. The two
  designs won on different data sets in ``benchmarks/defaults.py`` (the compact one on
  Cora, the projected one on the synthetic bots and the country flags); no rule read from
  the graph told them apart, the validation split does.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from mmgraph.data.graph import UNLABELLED
from mmgraph.encoders.attributes import SPARSE_MAX_DENSITY, SPARSE_MIN_COLUMNS
from mmgraph.encoders.text import WORD_TEXT_ENCODERS
from mmgraph.encoders.text.tfidf import MAX_FEATURES, vocabulary_size
from mmgraph.models.features import DEFAULT_TEXT_ENCODER
from mmgraph.names import HOMOPHILY_THRESHOLD as HOMOPHILY_THRESHOLD

AUTO = "auto"
"""The value of an option that is resolved from the data."""


DESIGN_OPTIONS: tuple[str, ...] = ("num_layers", "head", "modality_dim")
"""The :class:`~mmgraph.models.ModelConfig` options a design sets (``"auto"``: chosen)."""

DESIGNS: tuple[dict[str, Any], ...] = (
    # every modality projected to 64, two aggregator layers, a linear head
    {"num_layers": 2, "head": "linear", "modality_dim": 64},
    # Kipf & Welling's two graph convolutions over the features themselves
    {"num_layers": 1, "head": "conv", "modality_dim": None},
    # every modality projected to 64, one aggregator layer (one hop), a linear head
    {"num_layers": 1, "head": "linear", "modality_dim": 64},
)
"""The designs ``"auto"`` chooses between, in order (ties keep the first). The one-hop
design was added in issue 14's second round: with TF-IDF text it won Texas and Cornell's
validation splits (``benchmarks/results/text_selection.md``)."""

TEXT_CANDIDATES: tuple[dict[str, Any], ...] = (
    # a frozen sentence encoder (all-MiniLM-L6-v2): meaning, 256 word pieces at most
    {"text_encoder": DEFAULT_TEXT_ENCODER},
    # the bag of words, no SVD: which words, over the whole document
    {"text_encoder": "bow", "text_dim": None},
)
"""The text features ``text_encoder="auto"`` chooses between (with each design), in order.

The second was raw TF-IDF until issue 14's fourth round. With the bag of words (each word
1 or 0, the kind of features WebKB and Planetoid ship) instead, the choice tested higher
on Cornell (81.1% against 76.7) and Texas (89.4 against 87.8) and the same elsewhere
(``benchmarks/results/text_selection.md``)."""

RAW_WORDS_MAX_VALUES = 2**26
"""Largest ``nodes x vocabulary`` for which ``text_encoder="auto"`` tries the raw bag of
words (a dense ``[N, V]`` tensor: 256 MiB at most). The vocabulary is the distinct words of
the training texts, up to the word encoders' default
:data:`~mmgraph.encoders.text.tfidf.MAX_FEATURES` (20,000): about 3,300 nodes with a full
vocabulary, 13,400 with 5,000 words. Larger graphs keep the sentence encoder alone."""

MIN_LABELLED_EDGES = 20
"""Fewest edges between training nodes for the homophily rule to decide."""

log = logging.getLogger(__name__)


def _training_labels(graph: Any) -> tuple[Tensor, Tensor, Tensor, Tensor] | None:
    """``(src, dst, y, known)``: edges, labels, and which nodes are labelled training nodes.

    All labelled nodes count without a ``train_mask``; :obj:`None` without edges or labels.
    """
    edge_index = getattr(graph, "edge_index", None)
    y = getattr(graph, "y", None)
    if edge_index is None or y is None or edge_index.numel() == 0:
        return None
    known = y != UNLABELLED
    train = getattr(graph, "train_mask", None)
    if isinstance(train, Tensor):
        known = known & train
    return edge_index[0], edge_index[1], y, known


def training_homophily(graph: Any) -> tuple[float | None, int]:
    """``(h, m)``: the share ``h`` of the ``m`` training edges whose labels agree.

    Training edges join two labelled training nodes (``h`` is :obj:`None` when ``m == 0``).
    Only ``train_mask`` labels are read (all labelled nodes when there is no mask).
    """
    labels = _training_labels(graph)
    if labels is None:
        return None, 0
    src, dst, y, known = labels
    keep = known[src] & known[dst] & (src != dst)
    m = int(keep.sum())
    if m == 0:
        return None, 0
    same = y[src[keep]] == y[dst[keep]]
    return float(same.double().mean()), m


def two_hop_homophily(graph: Any) -> tuple[float | None, int]:
    """``(h, m)``: the share ``h`` of the ``m`` two-step training paths whose labels agree.

    A two-step path ``u - w - v`` joins two distinct labelled training nodes ``u, v``; for
    graphs whose training nodes are rarely adjacent (a public split of a few nodes per
    class). Only training labels are read; the middle node ``w`` may be any node.
    """
    labels = _training_labels(graph)
    if labels is None:
        return None, 0
    src, dst, y, known = labels
    keep = known[src] & (src != dst)
    if not bool(keep.any()):
        return None, 0
    k = int(y[known].max()) + 1
    counts = torch.zeros(graph.num_nodes, k, dtype=torch.float64)
    # counts[w, c]: labelled training neighbours of w in class c
    counts.index_add_(0, dst[keep], F.one_hot(y[src[keep]], k).to(torch.float64))
    total = counts.sum(dim=1)
    pairs = float((total * (total - 1)).sum())  # ordered pairs u != v through each w
    same = float((counts * (counts - 1)).sum())
    m = int(round(pairs))
    return (same / pairs if pairs > 0 else None), m


def auto_aggregator(graph: Any) -> str:
    """The aggregator of ``aggregator="auto"`` (see the module)."""
    h, m = training_homophily(graph)
    what = "edges between training nodes"
    if h is None or m < MIN_LABELLED_EDGES:
        h, m = two_hop_homophily(graph)
        what = "two-step paths between training nodes (too few edges)"
    if h is None or m < MIN_LABELLED_EDGES:
        choice, why = "mean", f"only {m} {what}"
    else:
        choice = "gcn" if h >= HOMOPHILY_THRESHOLD else "mean"
        why = f"homophily {h:.2f} over {m} {what}"
    log.info("aggregator auto: %s (%s)", choice, why)
    return choice


def _observed_rows(numeric: Tensor) -> Tensor:
    """The rows of nodes that have numeric values (a row all NaN: the node lacks them)."""
    return numeric[~torch.isnan(numeric).all(dim=1)] if numeric.size(1) else numeric


def is_bag_of_words(numeric: Tensor | None) -> bool:
    """Whether ``numeric`` looks like a bag of words or counts (see the module).

    Rows of nodes without numeric values (all NaN) are left out.
    """
    if numeric is None or numeric.dim() != 2 or numeric.size(1) < SPARSE_MIN_COLUMNS:
        return False
    numeric = _observed_rows(numeric)
    if numeric.numel() == 0 or not bool(torch.isfinite(numeric).all()):
        return False
    if bool((numeric < 0).any()):
        return False
    return float((numeric != 0).double().mean()) <= SPARSE_MAX_DENSITY


def auto_numeric_scaling(numeric: Tensor | None) -> str:
    """The scaling of ``numeric_scaling="auto"`` (see the module)."""
    return "row" if is_bag_of_words(numeric) else "standard"


def auto_missing_indicator(numeric: Tensor | None) -> bool:
    """The flags of ``missing_indicator=None``: whether a node misses some numeric values.

    A node missing them all is left out: the modality's presence mask tells it.
    """
    if numeric is None or numeric.dim() != 2 or numeric.numel() == 0:
        return False
    return bool(torch.isnan(_observed_rows(numeric)).any())


def resolve_auto(graph: Any, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (config options) with the ``"auto"`` options resolved from ``graph``."""
    out = dict(values)
    numeric = getattr(graph, "numeric", None)
    if str(out.get("aggregator", AUTO)).lower() == AUTO:
        out["aggregator"] = auto_aggregator(graph)
    if out.get("numeric_scaling", AUTO) == AUTO:
        out["numeric_scaling"] = auto_numeric_scaling(numeric)
    if out.get("missing_indicator") is None:
        out["missing_indicator"] = auto_missing_indicator(numeric)
    return out


def design_candidates(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The model options to choose between on validation data (one: nothing to choose).

    Each option of :data:`DESIGN_OPTIONS` set to ``"auto"`` takes its value from each
    design of :data:`DESIGNS` in turn; the others keep their values (``--layers 3`` with
    the rest ``"auto"`` compares a 3-layer projected model with a 3-layer compact one).
    Candidates that come out the same are kept once.
    """
    chosen = [name for name in DESIGN_OPTIONS if options.get(name) == AUTO]
    if not chosen:
        return [dict(options)]
    out: list[dict[str, Any]] = []
    for design in DESIGNS:
        candidate = {**options, **{name: design[name] for name in chosen}}
        if candidate not in out:
            out.append(candidate)
    return out


def text_candidates(
    features: Any, graph: Any, modalities: Sequence[str] | None = None
) -> list[Any]:
    """The feature configs ``features`` (a :class:`~mmgraph.models.FeatureConfig`) stands for.

    With ``text_encoder="auto"``: each of :data:`TEXT_CANDIDATES` on a graph with text
    (the raw bag of words only up to :data:`RAW_WORDS_MAX_VALUES` values), else the sentence
    encoder alone (nothing to choose without text, or with texts empty on every node); no text
    encoder at all when ``modalities`` (the model's, if chosen) leave text out; otherwise
    ``[features]``.
    """
    if features.text_encoder != AUTO:
        return [features]
    if modalities is not None and "text" not in modalities:
        return [dataclasses.replace(features, text_encoder=None)]  # the model reads no text
    has_text = getattr(graph, "text", None) is not None and bool(graph.presence_mask("text").any())
    out = []
    for candidate in TEXT_CANDIDATES if has_text else TEXT_CANDIDATES[:1]:
        if candidate["text_encoder"] in WORD_TEXT_ENCODERS and not _raw_words_fit(graph):
            continue
        out.append(dataclasses.replace(features, **candidate))
    return out


def _raw_words_fit(graph: Any) -> bool:
    """Whether the raw bag of words of ``graph`` fits :data:`RAW_WORDS_MAX_VALUES` (or warn).

    The vocabulary is counted (on the training texts, as the encoder fits it) only when a
    full one would not fit.
    """
    nodes = int(graph.num_nodes)
    if nodes * MAX_FEATURES <= RAW_WORDS_MAX_VALUES:
        return True
    most = RAW_WORDS_MAX_VALUES // max(nodes, 1)  # words that fit
    words = vocabulary_size(graph.text, getattr(graph, "train_mask", None), limit=most + 1)
    if words <= most:
        return True
    warnings.warn(
        f"--text-encoder auto tries the raw bag of words beside the sentence encoder while "
        f"nodes x words stays under {RAW_WORDS_MAX_VALUES:,} values (a dense matrix of "
        f"{RAW_WORDS_MAX_VALUES * 4 // 2**20} MiB): this graph has {nodes:,} nodes and more "
        f"than {most:,} distinct words in its training texts, so every design reads the "
        "sentence encoder's features. --text-encoder tfidf gives word features (128 SVD "
        "components) at any size",
        UserWarning,
        stacklevel=3,
    )
    return False
