"""Reading a data set card: :func:`load_card` and the checks of its keys, paths and values.

The format is described in :mod:`mmgraph.data.loaders.card`.
"""

from __future__ import annotations

import json
import logging
import math
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor

from mmgraph.data.edges import count_duplicate_edges, make_undirected
from mmgraph.data.graph import MISSING_CODE, MODALITY_FIELDS, UNLABELLED, MultimodalGraph
from mmgraph.data.loaders._common import (
    as_path,
    is_missing,
    read_table,
    require_columns,
    to_float,
    to_text,
)
from mmgraph.data.loaders.card_sequence import read_sequence
from mmgraph.data.subgraphs import SPLIT_NAMES, parse_split
from mmgraph.errors import InputError, UnsafeFileError, read_yaml

log = logging.getLogger(__name__)

MISSING_MARKERS = frozenset({"na", "n/a", "nan", "null", "none", "?"})
"""Label texts that other tools write for a missing value (compared in lower case)."""

CARD_NAME = "dataset.yaml"
"""File name of a card inside a data set folder."""

CARD_KEYS: tuple[str, ...] = (
    "name",
    "nodes",
    "id",
    "edges",
    "relation",
    "weight",
    "directed",
    "modalities",
    "label",
    "classes",
    "positive",
    "split",
    "allow_outside",
)
"""The keys a card may hold."""


def find_card(path: str | Path) -> Path:
    """The card file for ``path``: the file itself, or ``dataset.yaml`` inside a folder."""
    p = as_path(path, "Data set card")
    if p.is_dir():
        for name in (CARD_NAME, "dataset.yml"):
            if (p / name).is_file():
                return p / name
        raise FileNotFoundError(
            f"No '{CARD_NAME}' in the folder '{p}': pass the path of the card file or write a "
            "card (see `mmgraph.data.loaders.card`)"
        )
    return p


def load_card(path: str | Path) -> MultimodalGraph:
    """Load a graph described by a data set card (see the module docstring for the format).

    Node ids are kept as strings in ``node_id`` (row numbers ``"0"``, ``"1"``, ... without
    an ``id`` column). Several text columns give each node the list of its non-empty texts,
    a JSON-list cell (``["a", "b"]``) counting as several texts; one text column gives a
    string per node (a list for JSON-list cells). Image paths stay lazy, resolved against
    ``image_root`` (the card's folder); empty cells mark missing images. Numeric cells are
    floats (empty: NaN; ``true``/``false``: 1/0). Categorical vocabularies are the sorted
    unique values; empty cells get code 0 (missing). Sequences keep time order, ragged
    lengths padded (:mod:`~mmgraph.data.loaders.card_sequence`). Class names are the sorted label
    values unless ``classes`` gives the order; empty labels are -1 (unlabelled). Relations
    become ``edge_type`` with sorted ``relation_names``. Without ``directed: true`` every
    edge gets its reverse (:func:`~mmgraph.data.edges.make_undirected`). Without ``name``
    the graph is named after the card's folder.

    Args:
        path (str or Path): The card file, or a folder holding ``dataset.yaml``.

    Raises:
        FileNotFoundError: The card, or the node or edge table, is missing (an image file
            that is not there is refused by :func:`~mmgraph.models.featurize`, unless its
            ``on_image_error`` is ``"missing"``).
        ValueError: An unknown key, a missing column, a duplicate or unknown node id, a bad
            value (the message names it and the fix).
    """
    card_path = find_card(path)
    folder = card_path.parent
    card = read_yaml(card_path, "data set card")
    where = f"the card '{card_path}'"
    if not isinstance(card, dict):
        raise InputError(
            f"Expected {where} to hold a YAML mapping of keys (got {type(card).__name__}); "
            f"valid keys: {list(CARD_KEYS)}"
        )
    unknown = [k for k in card if k not in CARD_KEYS]
    if unknown:
        raise ValueError(
            f"Unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in "
            f"{where}: valid keys are {list(CARD_KEYS)}"
        )
    if "nodes" not in card:
        raise ValueError(f"Missing key 'nodes' in {where}: name the node table (CSV or Parquet)")
    allow_outside = card.get("allow_outside", False)
    if not isinstance(allow_outside, bool):
        raise InputError(_not_a_bool("allow_outside", allow_outside, where))

    nodes_path = _card_file(folder, card, "nodes", where)
    table = read_table(nodes_path, "node table", allow_empty=True)
    what = f"the node table '{nodes_path.name}'"
    n = len(table)
    if n == 0:
        raise InputError(
            f"The node table '{nodes_path}' is empty: it has a header but no rows, so the graph "
            "has no nodes; add one row per node"
        )

    ids = _node_ids(table, card, what)
    kwargs: dict[str, Any] = {"node_id": ids, "num_nodes": n}
    name = card.get("name")
    kwargs["name"] = str(name) if name is not None else folder.name

    modalities = card.get("modalities") or {}
    if not isinstance(modalities, dict):
        raise ValueError(
            f"Expected 'modalities' in {where} to map modality names to column lists "
            f"(got {type(modalities).__name__}); valid modalities: {list(MODALITY_FIELDS)}"
        )
    bad = [m for m in modalities if m not in MODALITY_FIELDS]
    if bad:
        raise ValueError(
            f"Unknown modalit{'ies' if len(bad) > 1 else 'y'} {', '.join(map(repr, bad))} under "
            f"'modalities' in {where}: valid modalities are {list(MODALITY_FIELDS)}"
        )
    sequence = modalities.get("sequence")
    columns = {
        m: _column_list(modalities.get(m), f"modalities.{m}", where)
        for m in modalities
        if m != "sequence"  # columns, or a mapping naming a long table: card_sequence reads it
    }
    for m, cols in columns.items():
        require_columns(table, cols, f"{what} (listed under 'modalities.{m}')")
    _refuse_answers_as_inputs(card, columns, where)

    for m in ("text", "image", "categorical"):  # numeric: _read_numeric says it
        _warn_of_empty_columns(table, columns.get(m) or [], m, what)
    if columns.get("text"):
        kwargs["text"] = _read_text(table, columns["text"])
    if columns.get("image"):
        kwargs["image"] = _read_images(
            table, columns["image"], folder, ids, where, allow_outside, what
        )
        kwargs["image_root"] = str(folder.resolve())
    if columns.get("numeric"):
        kwargs["numeric"] = _read_numeric(table, columns["numeric"], ids, what)
        kwargs["numeric_names"] = columns["numeric"]
    if columns.get("categorical"):
        codes, vocabs = _read_categorical(table, columns["categorical"], what)
        kwargs["categorical"] = codes
        kwargs["categorical_names"] = columns["categorical"]
        kwargs["categorical_vocabs"] = vocabs
    if sequence is not None:

        def open_file(value: Any, key: str) -> Path:
            return _named_file(folder, value, key, where, allow_outside)

        kwargs.update(read_sequence(sequence, table, ids, what, where, open_file))

    kwargs.update(_read_labels(table, card, what, where))
    if card.get("split") is not None:
        kwargs.update(_read_split(table, _column(card, "split", where), what, ids))

    index = {node: i for i, node in enumerate(ids)}
    kwargs.update(_read_edges(folder, card, index, where))
    return MultimodalGraph(**kwargs)


def _refuse_answers_as_inputs(
    card: dict[str, Any], columns: dict[str, list[str]], where: str
) -> None:
    """Refuse the label or split column listed as a modality: a model would read it.

    A node's label among its own inputs is its answer (its test labels too); the split
    column says which nodes are tested, nothing about the node.
    """
    read = {"label": "each node's answer", "split": "which nodes are tested"}
    for key, what in read.items():
        column = card.get(key)
        for modality, names in columns.items():
            if isinstance(column, str) and column in names:
                raise InputError(
                    f"The column {column!r} is the {key} of {where} and is also listed under "
                    f"'modalities.{modality}': the model would read {what} from its inputs "
                    f"(the test nodes' too). Remove {column!r} from 'modalities.{modality}'"
                )


def _column(card: dict[str, Any], key: str, where: str) -> str:
    value = card[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"Expected '{key}' in {where} to be a column name (got {value!r})")
    return value


def _column_list(value: Any, key: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError(
        f"Expected '{key}' in {where} to be a column name or a list of column names (got {value!r})"
    )


def check_inside(folder: Path, value: str, what: str, allow_outside: bool) -> Path:
    """``folder / value``, refused unless it resolves inside ``folder`` or ``allow_outside``.

    Args:
        folder (Path): The card's folder.
        value (str): The path as the card or table gives it.
        what (str): Which key or cell names it, for the message.
        allow_outside (bool): The card's ``allow_outside``.

    Raises:
        UnsafeFileError: The path is absolute, climbs out with ``..``, or is a symbolic
            link out of the folder.
    """
    if "\x00" in value:  # no file system takes it (resolve() would raise a bare ValueError)
        raise InputError(f"The path {value!r} of {what} holds a NUL byte: fix the path")
    path = folder / value
    if allow_outside:
        return path
    base = folder.resolve()
    if not path.resolve().is_relative_to(base):
        raise UnsafeFileError(
            f"The path {value!r} of {what} leads outside the card's folder '{base}' (to "
            f"'{path.resolve()}'): paths must stay inside the folder; move the file there, or "
            "set 'allow_outside: true' in the card if you trust it"
        )
    return path


def _card_file(folder: Path, card: dict[str, Any], key: str, where: str) -> Path:
    return _named_file(folder, card[key], key, where, card.get("allow_outside") is True)


def _named_file(folder: Path, value: Any, key: str, where: str, allow_outside: bool) -> Path:
    """The file the card names under ``key``: checked to exist and to stay in ``folder``."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"Expected '{key}' in {where} to be a file path (got {value!r})")
    path = check_inside(folder, value, f"'{key}' in {where}", allow_outside)
    if not path.is_file():
        raise FileNotFoundError(
            f"The {key} file '{value}' named in {where} was not found at '{path}': paths are "
            "relative to the card's folder"
        )
    return path


def _node_ids(table: pd.DataFrame, card: dict[str, Any], what: str) -> list[str]:
    if card.get("id") is None:
        return [str(i) for i in range(len(table))]
    column = _column(card, "id", what)
    require_columns(table, [column], f"{what} (named by 'id')")
    ids = []
    seen: dict[str, int] = {}
    for row, value in enumerate(table[column].tolist()):
        if is_missing(value):
            raise ValueError(
                f"Empty node id in column {column!r} of {what}, data row {row + 1}: every node "
                "needs an id"
            )
        node = to_text(value)
        if node in seen:
            raise ValueError(
                f"Duplicate node id {node!r} in column {column!r} of {what} (data rows "
                f"{seen[node] + 1} and {row + 1}): node ids must be unique"
            )
        seen[node] = row
        ids.append(node)
    return ids


def _split_texts(value: Any) -> list[str]:
    """The texts of one cell: a JSON list of strings gives several, empty cells none."""
    if _is_sequence(value):
        items = list(value.tolist() if hasattr(value, "tolist") else value)
        return [str(t) for t in items if t is not None and str(t).strip()]
    if is_missing(value):
        return []
    text = str(value)
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(t, str) for t in parsed):
            return [t for t in parsed if t.strip()]
    return [text]


def _is_sequence(value: Any) -> bool:
    """A list-like Parquet cell (a list, a tuple or a NumPy array)."""
    return isinstance(value, (list, tuple)) or (
        hasattr(value, "tolist") and getattr(value, "ndim", 0) == 1
    )


def _is_json_list(value: Any) -> bool:
    if _is_sequence(value):
        return True
    if not isinstance(value, str):
        return False
    stripped = value.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        return False
    try:
        parsed = json.loads(stripped)
    except json.JSONDecodeError:
        return False
    return isinstance(parsed, list) and all(isinstance(t, str) for t in parsed)


def _warn_of_empty_columns(
    table: pd.DataFrame, columns: list[str], modality: str, what: str
) -> None:
    """Warn of each column of ``modality`` empty in every row: it tells the model nothing."""
    if len(table) < 2:
        return
    for column in columns:
        if all(is_missing(v) for v in table[column].tolist()):
            _warn_of_empty_column(column, modality, what)


def _warn_of_empty_column(column: str, modality: str, what: str) -> None:
    """The warning of a column of ``modality`` that no node has a value in."""
    warnings.warn(
        f"The {modality} column {column!r} of {what} is empty in every row: no node has it, "
        f"so it tells the model nothing; fill it or drop it from 'modalities.{modality}'",
        UserWarning,
        stacklevel=5,
    )


def _read_text(table: pd.DataFrame, columns: list[str]) -> list[str | list[str] | None]:
    out: list[str | list[str] | None] = []
    cells = [table[c].tolist() for c in columns]
    for row in range(len(table)):
        texts = [t for col in cells for t in _split_texts(col[row])]
        if not texts:
            out.append(None)
        elif len(columns) == 1 and not _is_json_list(cells[0][row]):
            out.append(texts[0])
        else:
            out.append(texts)
    return out


def _read_images(
    table: pd.DataFrame,
    columns: list[str],
    folder: Path,
    ids: list[str],
    where: str,
    allow_outside: bool,
    what: str,
) -> list[str | None]:
    if len(columns) != 1:
        raise ValueError(
            f"Expected one image column under 'modalities.image' in {where} (got {columns}): "
            "a node has at most one image"
        )
    paths: list[str | None] = []
    for row, value in enumerate(table[columns[0]].tolist()):
        if is_missing(value):
            paths.append(None)
            continue
        rel = str(value).strip()
        cell = f"the image column {columns[0]!r} of {what}, data row {row + 1} (node {ids[row]!r})"
        if re.match(r"[a-z][a-z0-9+.-]*://", rel, flags=re.IGNORECASE):
            raise InputError(
                f"{cell[0].upper()}{cell[1:]} holds the address {rel!r}: image cells are paths "
                "to files, relative to the card's folder (nothing is downloaded); download the "
                "images into the folder and give their paths"
            )
        check_inside(folder, rel, cell, allow_outside)
        paths.append(rel)
    return paths  # files not there are refused, or marked missing, when images are encoded


def _read_numeric(table: pd.DataFrame, columns: list[str], ids: list[str], what: str) -> Tensor:
    data = []
    for column in columns:
        values = table[column].tolist()
        try:
            data.append([to_float(v, column, row, ids[row]) for row, v in enumerate(values)])
        except ValueError as error:  # name the file as well as the column and row
            raise InputError(f"In {what}: {error}") from None
        if len(values) > 1 and all(math.isnan(v) for v in data[-1]):  # "nan" cells too
            _warn_of_empty_column(column, "numeric", what)
    return torch.tensor(data, dtype=torch.float).t().contiguous()


CATEGORY_SHARE = 0.5
"""A categorical column whose distinct values outnumber this share of its filled cells
(and 20) is warned about: most values are seen once, so their embeddings learn little."""


def _read_categorical(
    table: pd.DataFrame, columns: list[str], what: str = "the node table"
) -> tuple[Tensor, list[list[str]]]:
    codes = []
    vocabs = []
    for column in columns:
        values = [None if is_missing(v) else to_text(v) for v in table[column].tolist()]
        vocab = sorted({v for v in values if v is not None})
        filled = sum(v is not None for v in values)
        if len(vocab) > max(20, CATEGORY_SHARE * filled):
            numbers = all(_as_number(v) is not None for v in vocab)
            warnings.warn(
                f"The categorical column {column!r} of {what} has {len(vocab)} distinct values "
                f"in {filled} filled rows: most are seen once, and a category seen once "
                "teaches its embedding little"
                + (
                    "; its values are numbers: list it under 'modalities.numeric'"
                    if numbers
                    else "; group rare values, or leave the column out"
                ),
                UserWarning,
                stacklevel=4,
            )
        index = {v: i + 1 for i, v in enumerate(vocab)}
        codes.append([MISSING_CODE if v is None else index[v] for v in values])
        vocabs.append(vocab)
    return torch.tensor(codes, dtype=torch.long).t().contiguous(), vocabs


def _warn_of_missing_markers(values: Sequence[str | None], column: str, what: str) -> None:
    """Warn when a label such as ``NA`` (R's missing value) is about to become a class."""
    markers = sorted({v for v in values if v is not None and v.strip().lower() in MISSING_MARKERS})
    for marker in markers:
        count = sum(v == marker for v in values)
        warnings.warn(
            f"The label {marker!r} in column {column!r} of {what} ({count} nodes) is read as a "
            "class, not as a missing label: leave those cells empty to mark the nodes "
            f"unlabelled, or list {marker!r} under 'classes' in the card to keep it as a class",
            UserWarning,
            stacklevel=3,
        )


def _read_labels(
    table: pd.DataFrame, card: dict[str, Any], what: str, where: str
) -> dict[str, Any]:
    if card.get("label") is None:
        for key in ("positive", "classes"):
            if card.get(key) is not None:
                raise ValueError(
                    f"'{key}' is set in {where} but 'label' is not: name the label column"
                )
        return {}
    column = _column(card, "label", where)
    require_columns(table, [column], f"{what} (named by 'label')")
    texts = [None if is_missing(v) else to_text(v) for v in table[column].tolist()]
    given = None if card.get("classes") is None else _class_list(card["classes"], where)
    positive = card.get("positive")
    extra = [*(given or []), *([] if positive is None else [to_text(positive)])]
    normalise, sort_key = label_normaliser([t for t in texts if t is not None] + extra)
    values = [None if t is None else normalise(t) for t in texts]
    if given is not None:
        classes = [normalise(c) for c in given]
        if len(set(classes)) != len(classes):
            raise ValueError(
                f"Expected distinct class names in 'classes' of {where} (got {classes})"
            )
        unknown = sorted({v for v in values if v is not None and v not in classes})
        if unknown:
            raise ValueError(
                f"Label value{'s' if len(unknown) > 1 else ''} {unknown} in column {column!r} "
                f"not among 'classes' {classes} of {where}: add them to 'classes' or fix the "
                "labels"
            )
    else:
        classes = sorted({v for v in values if v is not None}, key=sort_key)
        _warn_of_missing_markers(values, column, what)
    if not classes:
        raise ValueError(
            f"The label column {column!r} of {what} is empty: fill it or drop 'label' from the card"
        )
    index = {c: i for i, c in enumerate(classes)}
    y = torch.tensor([UNLABELLED if v is None else index[v] for v in values], dtype=torch.long)
    out: dict[str, Any] = {"y": y, "class_names": classes}
    if positive is not None:
        pos = normalise(to_text(positive))
        if pos not in index:
            raise ValueError(
                f"The positive class {pos!r} in {where} is not a class: valid classes are {classes}"
            )
        out["positive_class"] = index[pos]
    elif len(classes) == 2:
        out["positive_class"] = minority_class(y, 2)
    return out


def _class_list(value: Any, where: str) -> list[str]:
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [to_text(v) for v in value]
    raise InputError(
        f"Expected 'classes' in {where} to be a list of class names or numbers (got {value!r})"
    )


def label_normaliser(texts: Sequence[str]) -> tuple[Callable[[str], str], Callable[[str], Any]]:
    """How to compare the label texts ``texts`` by value (see the module docstring).

    Returns:
        ``(normalise, sort_key)``: the text each label becomes, and the key to sort those
        (numeric for numeric labels).
    """
    numbers = [_as_number(t) for t in texts]
    if texts and all(v is not None for v in numbers):
        if all(isinstance(v, int) for v in numbers):
            return (lambda t: str(_as_number(t))), int
        return (lambda t: str(float(t))), float
    if texts and all(t.strip().lower() in ("true", "false") for t in texts):
        return (lambda t: t.strip().lower()), str
    return (lambda t: t), str


def _as_number(text: str) -> int | float | None:
    """A label text as an int (whole numbers, ``1.0`` too), a float, or None."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() else value


def minority_class(y: Tensor, num_classes: int) -> int:
    """The least frequent class among labelled nodes (ties: the larger class id)."""
    counts = torch.bincount(y[y >= 0], minlength=num_classes)
    best = 0
    for c in range(num_classes):
        if counts[c] <= counts[best]:
            best = c
    return best


def _read_split(table: pd.DataFrame, column: str, what: str, ids: list[str]) -> dict[str, Any]:
    require_columns(table, [column], f"{what} (named by 'split')")
    splits = [
        parse_split(v, f"column {column!r} of {what}, data row {row + 1} (node {ids[row]!r})")
        for row, v in enumerate(table[column].tolist())
    ]
    return {
        f"{name}_mask": torch.tensor([s == name for s in splits], dtype=torch.bool)
        for name in SPLIT_NAMES
    }


def _not_a_bool(key: str, value: Any, where: str) -> str:
    """The message for a card key that takes true or false but holds ``value``."""
    said = f"Expected {key!r} in {where} to be true or false (got {value!r}"
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
        bare = value.strip().lower()
        return f"{said}, a quoted string): write it without quotes, `{key}: {bare}`"
    return f"{said})"


def _read_edges(
    folder: Path, card: dict[str, Any], index: dict[str, int], where: str
) -> dict[str, Any]:
    if card.get("edges") is None:
        for key in ("relation", "weight"):
            if card.get(key) is not None:
                raise ValueError(
                    f"'{key}' is set in {where} but 'edges' is not: name the edge table"
                )
        return {"edge_index": torch.empty(2, 0, dtype=torch.long)}
    path = _card_file(folder, card, "edges", where)
    table = read_table(path, "edge table", allow_empty=True)
    what = f"the edge table '{path.name}'"
    require_columns(
        table,
        ["src", "dst"],
        what,
        fix="rename its columns of edge ends to 'src' and 'dst' (a card reads its edges from "
        "these two columns; no card key names them)",
    )
    ends = []
    for column in ("src", "dst"):
        out = []
        for row, value in enumerate(table[column].tolist()):
            if is_missing(value):
                raise ValueError(
                    f"Edge row {row + 1} of {what} has an empty cell in column {column!r}: "
                    "every edge needs the ids of both its nodes; fill it or drop the row"
                )
            node = to_text(value)
            if node not in index:
                fix = "fix the id or add the node"
                whole = node[:-2] if node.endswith(".0") else None
                if whole is not None and whole in index:  # an int column saved as floats
                    fix = (
                        f"the node table has the id {whole!r}: ids are compared as text, so "
                        "write the edge table's ids as whole numbers (a column with an empty "
                        "cell is saved as floats by pandas; fill it or save it with "
                        "dtype='Int64')"
                    )
                raise ValueError(
                    f"Edge row {row + 1} of {what} names node {node!r} in column {column!r}, "
                    f"which is not a node id of the node table: {fix}"
                )
            out.append(index[node])
        ends.append(out)
    edge_index = torch.tensor(ends, dtype=torch.long).view(2, -1)
    out_kwargs: dict[str, Any] = {}
    edge_type = edge_weight = None
    if card.get("relation") is not None:
        column = _column(card, "relation", where)
        require_columns(table, [column], f"{what} (named by 'relation')")
        rels = []
        for row, value in enumerate(table[column].tolist()):
            if is_missing(value):
                raise ValueError(
                    f"Empty relation in column {column!r} of {what}, edge row {row + 1}: every "
                    "edge needs a relation when 'relation' is set"
                )
            rels.append(to_text(value))
        names = sorted(set(rels))
        rel_index = {r: i for i, r in enumerate(names)}
        edge_type = torch.tensor([rel_index[r] for r in rels], dtype=torch.long)
        out_kwargs["relation_names"] = names
    if card.get("weight") is not None:
        column = _column(card, "weight", where)
        require_columns(table, [column], f"{what} (named by 'weight')")
        weights = []
        for row, value in enumerate(table[column].tolist()):
            try:
                w = to_float(value, column, row, "")
            except ValueError:
                raise ValueError(
                    f"Edge weight {value!r} in column {column!r} of {what}, edge row "
                    f"{row + 1}, is not a finite number: a weight is a number >= 0; fix it, or "
                    "drop 'weight' from the card (a kind of edge can be a 'relation' column)"
                ) from None
            if math.isnan(w):
                raise ValueError(
                    f"Missing (NaN) edge weight in column {column!r} of {what}, edge row "
                    f"{row + 1}: give every edge a weight"
                )
            if w < 0:  # an infinite value is refused as a number already
                raise ValueError(
                    f"Edge weight {value!r} in column {column!r} of {what}, edge row "
                    f"{row + 1}: a weight is how much a neighbour counts in its average and "
                    "how likely a walk takes the edge, a number >= 0; fix it, or drop "
                    "'weight' from the card (a signed relation can be a 'relation' column)"
                )
            weights.append(w)
        edge_weight = torch.tensor(weights, dtype=torch.float)
    directed = card.get("directed", False)
    if not isinstance(directed, bool):
        raise ValueError(_not_a_bool("directed", directed, where))
    repeats = count_duplicate_edges(edge_index, len(index), edge_type)
    if repeats:
        same = "source, target and relation" if edge_type is not None else "source and target"
        rows = f"{repeats} row{'s' if repeats > 1 else ''} of {what} repeat an earlier edge"
        effect = (
            "with 'directed: true' each row is an edge of its own, so those neighbours count "
            "more in message passing: remove the repeated rows to count each edge once"
            if directed
            else "an undirected card keeps each edge once"
            f"{', their weights averaged' if edge_weight is not None else ''}. Remove the "
            "repeated rows, or set 'directed: true' if they are separate edges"
        )
        warnings.warn(f"{rows} (the same {same}); {effect}", stacklevel=2)
    if not directed:
        edge_index, edge_type, edge_weight = make_undirected(
            edge_index, len(index), edge_type, edge_weight
        )
    out_kwargs["edge_index"] = edge_index
    if edge_type is not None:
        out_kwargs["edge_type"] = edge_type
    if edge_weight is not None:
        out_kwargs["edge_weight"] = edge_weight
    return out_kwargs


__all__ = [
    "CARD_KEYS",
    "CARD_NAME",
    "check_inside",
    "find_card",
    "label_normaliser",
    "load_card",
    "minority_class",
]
