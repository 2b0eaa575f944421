"""WebKB university web pages (Cornell, Texas, Washington, Wisconsin) in the CS-TAG CSV format."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from mmgraph.data.edges import make_undirected
from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.loaders._common import as_path, is_missing, read_table, require_columns
from mmgraph.errors import InputError

log = logging.getLogger(__name__)

WEBKB_CLASSES: tuple[str, ...] = ("student", "faculty", "course", "project", "staff")
"""Class order shared by all universities (the CSV's ``label`` codes differ between them)."""

WEBKB_COLUMNS: tuple[str, ...] = ("raw_text", "category", "node_id", "neighbor_ids")
"""Columns a WebKB CSV must have (it also has ``url``, ``label`` and ``len``)."""


def find_webkb_csv(path_or_root: str | Path, name: str | None = None) -> Path:
    """The CSV for ``path_or_root``: the file itself, or ``<Name>.csv`` inside a folder."""
    p = as_path(path_or_root, "WebKB CSV or folder")
    if p.is_file():
        return p
    csvs = sorted(c for c in p.iterdir() if c.suffix.lower() == ".csv")
    if name is None:
        raise InputError(
            f"'{p}' is a folder: pass `name` to pick one of its CSV files "
            f"({[c.stem for c in csvs]}) or the path of the CSV itself"
        )
    for c in csvs:
        if c.stem.lower() == name.lower():
            return c
    raise FileNotFoundError(
        f"No '{name}.csv' in '{p}' (its CSV files: {[c.name for c in csvs]}): check the name "
        "or the folder"
    )


def load_webkb(
    path_or_root: str | Path,
    name: str | None = None,
    undirected: bool = True,
) -> MultimodalGraph:
    """Load a WebKB hyperlink graph from a CS-TAG CSV.

    The CSV has the columns ``url, raw_text, category, node_id, label, len, neighbor_ids``.
    Each page is a node whose ``text`` is its ``raw_text``; classes follow the fixed order
    :data:`WEBKB_CLASSES` (student, faculty, course, project, staff), taken from
    ``category`` because the ``label`` codes differ between universities. Each page ``u``
    gets an edge ``u -> v`` to every page ``v`` of its ``neighbor_ids`` (a JSON list of
    node ids, the hyperlinks as the CSV lists them).

    By default the hyperlink graph is symmetrised (each link also gives the reverse edge,
    duplicates merged), which is what message passing models usually expect; with
    ``undirected=False`` the edges are the links as listed, from a page to the pages it
    links to. Self links present in the data are kept either way. There is no standard
    split: use :meth:`MultimodalGraph.set_split`.

    Args:
        path_or_root (str or Path): The CSV file, or a folder holding ``<Name>.csv``.
        name (str, optional): The university (``Cornell``, ``Texas``, ...) when
            ``path_or_root`` is a folder. (default: :obj:`None`)
        undirected (bool, optional): Symmetrise the links. (default: :obj:`True`)
    """
    path = find_webkb_csv(path_or_root, name)
    table = read_table(path, "WebKB CSV")
    what = f"the WebKB CSV '{path.name}'"
    require_columns(table, list(WEBKB_COLUMNS), what)
    if len(table) == 0:
        raise InputError(f"{what} has no rows")
    ids = [str(v).strip() for v in table["node_id"].tolist()]
    index: dict[str, int] = {}
    for row, node in enumerate(ids):
        if node in index:
            raise InputError(
                f"Duplicate node id {node!r} in {what} (data rows {index[node] + 1} and "
                f"{row + 1}): node ids must be unique"
            )
        index[node] = row
    class_index = {c: i for i, c in enumerate(WEBKB_CLASSES)}
    y = []
    for row, value in enumerate(table["category"].tolist()):
        category = str(value).strip().lower()
        if category not in class_index:
            raise InputError(
                f"Unknown category {value!r} in {what}, data row {row + 1}: valid categories "
                f"are {list(WEBKB_CLASSES)}"
            )
        y.append(class_index[category])
    src: list[int] = []
    dst: list[int] = []
    for row, value in enumerate(table["neighbor_ids"].tolist()):
        if is_missing(value):
            continue
        try:
            neighbours = json.loads(str(value))
        except json.JSONDecodeError:
            raise InputError(
                f"Expected 'neighbor_ids' in {what}, data row {row + 1}, to be a list of node "
                f"ids such as [3, 17] (got {str(value)[:50]!r})"
            ) from None
        if not isinstance(neighbours, list):
            raise InputError(
                f"Expected 'neighbor_ids' in {what}, data row {row + 1}, to be a list of node "
                f"ids such as [3, 17] (got {str(value)[:50]!r})"
            )
        for nb in neighbours:
            key = str(nb).strip()
            if key not in index:
                raise InputError(
                    f"Page {ids[row]!r} (data row {row + 1}) of {what} links to node id "
                    f"{key!r}, which is not in the 'node_id' column"
                )
            src.append(row)
            dst.append(index[key])
    n = len(ids)
    edge_index = torch.tensor([src, dst], dtype=torch.long).view(2, -1)
    if undirected:
        edge_index, _, _ = make_undirected(edge_index, n)
    texts = [None if is_missing(v) else str(v) for v in table["raw_text"].tolist()]
    return MultimodalGraph(
        edge_index,
        text=texts,
        y=torch.tensor(y, dtype=torch.long),
        class_names=list(WEBKB_CLASSES),
        node_id=ids,
        name=path.stem,
    )
