"""Writing a data set card: :func:`save_card` (the node and edge tables, images, the card).

The format is described in :mod:`mmgraph.data.loaders.card`; :func:`load_card
<mmgraph.data.loaders.card_read.load_card>` reads it back.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import yaml
from torch import Tensor

from mmgraph.data.graph import MISSING_CODE, UNLABELLED, MultimodalGraph
from mmgraph.data.loaders.card_read import CARD_NAME
from mmgraph.data.loaders.card_sequence import sequence_columns
from mmgraph.data.subgraphs import SPLIT_NAMES

log = logging.getLogger(__name__)

NODES_FORMATS: tuple[str, ...] = ("csv", "parquet")
"""The table formats :func:`save_card` writes."""


def save_card(
    graph: MultimodalGraph,
    folder: str | Path,
    nodes_format: str = "csv",
) -> Path:
    """Write ``graph`` as a data set card: ``dataset.yaml``, a node table and an edge table.

    Edges are written as stored with ``directed: true``, so :func:`load_card` gives them
    back unchanged. Texts that are lists are written as JSON lists. Image tensors are
    written as PNG files into ``images/`` (8-bit, 1, 3 or 4 channels; float images are
    taken to be in ``[0, 1]``); image paths are rewritten relative to ``folder``. Numeric
    values of nodes whose numeric presence is false are written empty. The class order is
    kept with ``classes`` and the positive class with ``positive``. A sequence is written as
    one column of JSON lists per view (empty for nodes without it). Categorical
    vocabularies and relation names come back sorted (the decoded values are the same).
    Image paths that lead out of ``folder`` are kept, with ``allow_outside: true``.

    Args:
        graph (MultimodalGraph): The graph to write.
        folder (str or Path): Output folder (created if needed).
        nodes_format (str, optional): ``"csv"`` or ``"parquet"`` for both tables.
            (default: :obj:`"csv"`)

    Returns:
        The path of the written ``dataset.yaml``.
    """
    if nodes_format not in NODES_FORMATS:
        raise ValueError(
            f"Unknown nodes_format {nodes_format!r}: valid formats are {list(NODES_FORMATS)}"
        )
    out = Path(folder).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    n = graph.num_nodes
    ext = "csv" if nodes_format == "csv" else "parquet"
    ids = (
        list(graph.node_id)
        if getattr(graph, "node_id", None) is not None
        else [str(i) for i in range(n)]
    )
    columns: dict[str, list[Any]] = {"node_id": ids}
    modalities: dict[str, list[str]] = {}
    card: dict[str, Any] = {}
    if graph.name is not None:
        card["name"] = str(graph.name)
    card["nodes"] = f"nodes.{ext}"
    card["id"] = "node_id"

    text = getattr(graph, "text", None)
    if text is not None:
        columns["text"] = [
            None if t is None else (json.dumps(list(t)) if isinstance(t, list) else t) for t in text
        ]
        modalities["text"] = ["text"]
    image = getattr(graph, "image", None)
    if image is not None:
        columns["image"] = _write_images(graph, out)
        modalities["image"] = ["image"]
        base = out.resolve()
        if any(
            p is not None and not (base / p).resolve().is_relative_to(base)
            for p in columns["image"]
        ):
            card["allow_outside"] = True  # image paths kept where they are, outside `folder`
    numeric = getattr(graph, "numeric", None)
    if numeric is not None:
        names = list(graph.numeric_names or [f"numeric_{i}" for i in range(numeric.size(1))])
        present = graph.presence_mask("numeric")
        values = numeric.double().clone()
        values[~present] = math.nan
        for j, name in enumerate(names):
            _add_column(columns, name, values[:, j].tolist())
        modalities["numeric"] = names
    categorical = getattr(graph, "categorical", None)
    if categorical is not None:
        names = list(
            graph.categorical_names or [f"categorical_{i}" for i in range(categorical.size(1))]
        )
        vocabs = graph.categorical_vocabs
        for j, name in enumerate(names):
            col = categorical[:, j].tolist()
            decoded = [
                None
                if code == MISSING_CODE
                else (vocabs[j][code - 1] if vocabs is not None else str(code))
                for code in col
            ]
            _add_column(columns, name, decoded)
        modalities["categorical"] = names
    if getattr(graph, "sequence", None) is not None:
        for view, cells in sequence_columns(graph).items():
            _add_column(columns, view, cells)
        modalities["sequence"] = list(graph.sequence_views)
    if modalities:
        card["modalities"] = modalities

    y = getattr(graph, "y", None)
    if y is not None:
        classes = [graph.label_name(c) for c in range(graph.num_classes)]
        _add_column(
            columns,
            "label",
            [None if int(v) == UNLABELLED else classes[int(v)] for v in y.tolist()],
        )
        card["label"] = "label"
        card["classes"] = classes
        if graph.positive_class is not None:
            card["positive"] = classes[int(graph.positive_class)]
    masks = {s: getattr(graph, f"{s}_mask", None) for s in SPLIT_NAMES}
    if any(m is not None for m in masks.values()):
        _add_column(columns, "split", _split_column(masks, n))
        card["split"] = "split"

    edges = _edge_table(graph, ids)
    card["edges"] = f"edges.{ext}"
    if "relation" in edges:
        card["relation"] = "relation"
    if "weight" in edges:
        card["weight"] = "weight"
    card["directed"] = True

    _write_table(pd.DataFrame(columns), out / f"nodes.{ext}")
    _write_table(pd.DataFrame(edges), out / f"edges.{ext}")
    path = out / CARD_NAME
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(card, fh, sort_keys=False, allow_unicode=True)
    return path


def _add_column(columns: dict[str, list[Any]], name: str, values: list[Any]) -> None:
    if name in columns:
        raise ValueError(
            f"Two node columns would be named {name!r}: rename the numeric, categorical or "
            "sequence column (numeric_names/categorical_names/sequence_names) so that every "
            "column name is unique and "
            "none is 'node_id', 'text', 'image', 'label' or 'split'"
        )
    columns[name] = values


def _split_column(masks: dict[str, Tensor | None], n: int) -> list[str | None]:
    out: list[str | None] = [None] * n
    for name, mask in masks.items():
        if mask is None:
            continue
        for i in mask.nonzero().view(-1).tolist():
            if out[i] is not None:
                raise ValueError(
                    f"Node {i} is in both the {out[i]!r} and {name!r} splits: a card holds one "
                    "split per node; make the masks disjoint before saving"
                )
            out[i] = name
    return out


def _write_images(graph: MultimodalGraph, out: Path) -> list[str | None]:
    image = graph.image
    if not isinstance(image, Tensor):
        root = Path(graph.image_root) if graph.image_root else Path.cwd()
        paths: list[str | None] = []
        for p in image:
            if p is None:
                paths.append(None)
                continue
            full = Path(p) if Path(p).is_absolute() else root / p
            paths.append(Path(os.path.relpath(full.resolve(), out.resolve())).as_posix())
        return paths
    from PIL import Image

    if image.size(1) not in (1, 3, 4):
        raise ValueError(
            f"Expected image tensors with 1, 3 or 4 channels to write as PNG (got "
            f"{image.size(1)} channels)"
        )
    pixels = image.detach().cpu()
    if pixels.is_floating_point():
        pixels = (pixels.clamp(0, 1) * 255).round()
    pixels = pixels.to(torch.uint8)
    (out / "images").mkdir(exist_ok=True)
    present = graph.presence_mask("image")
    written: list[str | None] = []
    for i in range(image.size(0)):
        if not bool(present[i]):
            written.append(None)
            continue
        array = pixels[i].permute(1, 2, 0).numpy()
        if array.shape[2] == 1:
            array = array[:, :, 0]
        rel = f"images/{i}.png"
        Image.fromarray(array).save(out / rel)  # mode from the shape: L, RGB, RGBA
        written.append(rel)
    return written


def _edge_table(graph: MultimodalGraph, ids: Sequence[str]) -> dict[str, list[Any]]:
    edge_index = getattr(graph, "edge_index", None)
    if edge_index is None:
        edge_index = torch.empty(2, 0, dtype=torch.long)
    for key in ("edge_type", "edge_weight"):
        value = getattr(graph, key, None)
        if value is not None and value.size(0) != edge_index.size(1):
            raise ValueError(
                f"The graph's '{key}' has {value.size(0)} entries for {edge_index.size(1)} "
                "edges: filter every edge field with the same mask (`graph.edge_subgraph("
                f"mask)` does), or set '{key}' to None"
            )
    table: dict[str, list[Any]] = {
        "src": [ids[i] for i in edge_index[0].tolist()],
        "dst": [ids[i] for i in edge_index[1].tolist()],
    }
    edge_type = getattr(graph, "edge_type", None)
    if edge_type is not None:
        names = graph.relation_names or [str(r) for r in range(graph.num_relations)]
        table["relation"] = [names[r] for r in edge_type.tolist()]
    edge_weight = getattr(graph, "edge_weight", None)
    if edge_weight is not None:
        table["weight"] = edge_weight.double().tolist()
    return table


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, na_rep="")
    log.debug("Wrote %d rows to %s", len(frame), path)


__all__ = ["NODES_FORMATS", "save_card"]
