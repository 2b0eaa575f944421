"""Data set summaries (what ``mmgraph info`` shows): counts as a dict and as aligned text.

This module knows graphs; a subgraph data set summarises itself
(:meth:`~mmgraph.data.SubgraphDataset.summary`, built on :func:`summarize_graph`,
:func:`label_counts` and :func:`split_sizes`), so imports go one way: ``subgraphs`` to
``summary``.
"""

from __future__ import annotations

from typing import Any, Protocol

import torch
from torch import Tensor

from mmgraph.data.edges import count_duplicate_edges
from mmgraph.data.graph import UNLABELLED, MultimodalGraph, labelled_rows
from mmgraph.data.images import missing_image_files
from mmgraph.data.split import SPLIT_NAMES


class Summarizable(Protocol):
    """A data set that summarises itself, such as a :class:`~mmgraph.data.SubgraphDataset`."""

    def summary(self) -> dict[str, Any]:
        """A JSON-serialisable summary."""
        ...


def summarize(data: MultimodalGraph | Summarizable) -> dict[str, Any]:
    """Summarise a graph or a subgraph data set as a JSON-serialisable dict.

    For a graph: ``name``, ``nodes``, ``edges`` (as stored), ``edges_symmetrised``
    (directed edges once every edge has its reverse, duplicates and relation types merged),
    ``undirected`` (whether every edge's reverse is stored) and then ``undirected_edges``
    (each node pair once, as an undirected edge table lists it), ``relations`` (name -> edge
    count), ``self_loops``, ``duplicate_edges`` (stored edges that repeat an earlier one
    with the same ends and relation: kept, so they count twice in a mean),
    ``isolated_nodes`` (no edge in or out), ``modalities`` (per modality: how many nodes
    have it and its dimensions; for text, the number of non-empty texts; for a sequence,
    its views (name -> values per step) and the fewest and most steps of a node),
    ``labels`` (class name -> count, plus ``unlabelled``) with ``num_classes`` and
    ``positive_class``, and ``splits`` (split -> size). For a subgraph data set: ``name``,
    ``subgraphs``, ``whole_graphs``, ``subgraph_sizes`` (min/mean/max), ``labels``,
    ``splits``, ``folds`` and the summary of the base ``graph``.

    Args:
        data (MultimodalGraph or SubgraphDataset): What to summarise.
    """
    if isinstance(data, MultimodalGraph):
        return summarize_graph(data)
    if callable(getattr(type(data), "summary", None)):
        return data.summary()
    raise TypeError(
        f"Expected a MultimodalGraph or a SubgraphDataset (got {type(data).__name__!r})"
    )


def summarize_graph(graph: MultimodalGraph) -> dict[str, Any]:
    """The summary of a graph (see :func:`summarize`)."""
    n = int(graph.num_nodes or 0)
    edge_index = getattr(graph, "edge_index", None)
    if edge_index is None:
        edge_index = torch.empty(2, 0, dtype=torch.long)
    e = int(edge_index.size(1))
    out: dict[str, Any] = {"name": graph.name, "nodes": n, "edges": e}
    if e:
        pairs = torch.cat([edge_index, edge_index.flip(0)], dim=1)
        sym = int(torch.unique(pairs[0] * n + pairs[1]).numel())
        stored = int(torch.unique(edge_index[0] * n + edge_index[1]).numel())
    else:
        sym = stored = 0
    out["edges_symmetrised"] = sym
    out["undirected"] = bool(sym == stored)
    if out["undirected"] and e:  # each edge once, as an edge table lists it
        ends = torch.stack([edge_index.min(0).values, edge_index.max(0).values])
        out["undirected_edges"] = int(torch.unique(ends[0] * n + ends[1]).numel())
    edge_type = getattr(graph, "edge_type", None)
    if edge_type is not None:
        names = graph.relation_names or [str(r) for r in range(graph.num_relations)]
        counts = torch.bincount(edge_type, minlength=len(names)).tolist()
        out["relations"] = {name: int(c) for name, c in zip(names, counts)}
    out["self_loops"] = int((edge_index[0] == edge_index[1]).sum()) if e else 0
    out["duplicate_edges"] = count_duplicate_edges(edge_index, n, edge_type)
    touched = torch.zeros(n, dtype=torch.bool)
    if e:
        touched[edge_index.reshape(-1)] = True
    out["isolated_nodes"] = int((~touched).sum())
    if getattr(graph, "edge_weight", None) is not None:
        w = graph.edge_weight
        out["edge_weight"] = {"min": float(w.min()), "max": float(w.max())} if e else {}
    out["modalities"] = {m: _modality(graph, m) for m in graph.modalities}
    y = getattr(graph, "y", None)
    if y is not None:
        out.update(label_counts(y, graph.class_names, graph.num_classes))
        pos = graph.positive_class
        out["positive_class"] = None if pos is None else graph.label_name(int(pos))
    splits = split_sizes({s: getattr(graph, f"{s}_mask", None) for s in SPLIT_NAMES})
    if splits:
        out["splits"] = splits
    return out


def _modality(graph: MultimodalGraph, modality: str) -> dict[str, Any]:
    value = getattr(graph, modality)
    info: dict[str, Any] = {"nodes": int(graph.presence_mask(modality).sum())}
    if modality == "text":
        counts = [
            0 if t is None else (int(bool(t.strip())) if isinstance(t, str) else _non_empty(t))
            for t in value
        ]
        info["texts"] = int(sum(counts))
    elif modality == "image":
        if isinstance(value, Tensor):
            info["shape"] = list(value.shape[1:])
        else:
            info["stored_as"] = "paths"
            present = graph.presence_mask("image").tolist()
            info["files_not_found"] = len(missing_image_files(value, graph.image_root, present))
    elif modality == "numeric":
        info["dim"] = int(value.size(1))
    elif modality == "sequence":
        length = graph.sequence_length[graph.presence_mask("sequence")]
        info["views"] = dict(graph.sequence_views)  # view name -> values per step
        info["steps"] = {
            "min": int(length.min()) if length.numel() else 0,
            "max": int(length.max()) if length.numel() else 0,
        }
    else:
        info["dim"] = int(value.size(1))
        vocabs = graph.categorical_vocabs
        if vocabs is not None:
            names = graph.categorical_names or [str(i) for i in range(len(vocabs))]
            info["vocab_sizes"] = {name: len(v) for name, v in zip(names, vocabs)}
    return info


def _non_empty(texts: list[str]) -> int:
    return sum(1 for t in texts if t.strip())


def label_counts(y: Tensor, class_names: list[str] | None, num_classes: int) -> dict[str, Any]:
    """``num_classes`` and ``labels`` (class name -> count, plus ``unlabelled``).

    For multi-label ``y`` (``[N, C]``) a class's count is the rows that have the label.
    """
    names = class_names or [str(c) for c in range(num_classes)]
    if y.dim() == 2:
        known = labelled_rows(y)
        counts = y[known].sum(dim=0).tolist()
        unlabelled = int((~known).sum())
    else:
        counts = torch.bincount(y[y >= 0], minlength=len(names)).tolist() if y.numel() else []
        unlabelled = int((y == UNLABELLED).sum())
    labels = {name: int(c) for name, c in zip(names, counts)}
    labels["unlabelled"] = unlabelled
    return {"num_classes": len(names), "labels": labels}


def split_sizes(masks: dict[str, Tensor | None]) -> dict[str, int]:
    """Split name -> size, for the masks that are not :obj:`None`."""
    return {name: int(mask.sum()) for name, mask in masks.items() if mask is not None}


def format_summary(summary: dict[str, Any], indent: int = 2) -> str:
    """Render a :func:`summarize` dict as an aligned text block, nested dicts indented.

    Args:
        summary (dict): The summary.
        indent (int, optional): Spaces per nesting level. (default: :obj:`2`)
    """
    lines: list[str] = []
    _format(summary, 0, indent, lines)
    return "\n".join(lines)


def _format(block: dict[str, Any], level: int, indent: int, lines: list[str]) -> None:
    pad = " " * (indent * level)
    scalars = {k: v for k, v in block.items() if not isinstance(v, dict)}
    width = max((len(str(k)) for k in scalars), default=0)
    for key, value in block.items():
        if isinstance(value, dict):
            if not value:
                lines.append(f"{pad}{key}: -")
                continue
            lines.append(f"{pad}{key}:")
            _format(value, level + 1, indent, lines)
        else:
            lines.append(f"{pad}{str(key).ljust(width)}  {_render(value)}")


def _render(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, list):
        return ", ".join(_render(v) for v in value)
    return str(value)
