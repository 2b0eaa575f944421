"""The sequence modality of a data set card: read from list cells or a long table, and written.

A card declares the sequence under ``modalities`` in one of two forms. **Wide**: node-table
columns whose cells are JSON lists, one entry per step: a number (a view of one value per
step) or a list of numbers (a view of several)::

    modalities:
      sequence: [posts, replies, likes]   # cells such as [3, 0, 5, 2]; empty: no steps

**Long**: a table with one row per node and step, in any order::

    modalities:
      sequence:
        table: activity.csv   # CSV or Parquet, relative to the card
        id: node_id           # optional (default: node_id): the node of the row
        time: t               # optional (default: t): numbers, or dates such as 2024-03-01
        values: [posts, likes]  # optional (default: every other column), one value each

Steps keep time order (the long table is sorted by ``time``; gaps are not filled: a step is
a row), nodes may have different numbers of steps (the graph holds them padded, with a
length per node; a node without steps lacks the modality), and each column is a view named
after it. A value that is not a finite number, a duplicate ``(node, time)`` row or a row of
an unknown node stops the loading with an error naming the file, the row and the fix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor

from mmgraph.data.graph import MultimodalGraph, pad_sequences
from mmgraph.data.loaders._common import is_missing, read_table, require_columns, to_text
from mmgraph.errors import InputError

LONG_KEYS: tuple[str, ...] = ("table", "id", "time", "values")
"""The keys of the long form of ``modalities.sequence``."""


def read_sequence(
    spec: Any,
    table: pd.DataFrame,
    ids: list[str],
    what: str,
    where: str,
    open_file: Any,
) -> dict[str, Any]:
    """The graph fields of the card's ``modalities.sequence``.

    Args:
        spec: The card's value: a column name or list (wide) or a mapping (long).
        table (pandas.DataFrame): The node table.
        ids (list[str]): The node ids, in table order.
        what (str): The node table, for messages.
        where (str): The card, for messages.
        open_file (Callable[[str, str], Path]): Resolves a path the card names (checked to
            stay inside the card's folder).

    Returns:
        ``sequence`` (padded ``[N, T, d]``), ``sequence_length`` and ``sequence_names``,
        ``sequence_sizes``, for :class:`~mmgraph.data.MultimodalGraph`.
    """
    if isinstance(spec, Mapping):
        return _read_long(spec, ids, where, open_file)
    columns = [spec] if isinstance(spec, str) else spec
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
        raise InputError(
            f"Expected 'modalities.sequence' in {where} to be a list of node-table columns of "
            f"JSON lists, or a mapping with 'table' naming a long table (got {spec!r})"
        )
    require_columns(table, columns, f"{what} (listed under 'modalities.sequence')")
    return _read_wide(table, columns, ids, what)


def _read_wide(
    table: pd.DataFrame, columns: list[str], ids: list[str], what: str
) -> dict[str, Any]:
    views: list[list[Tensor | None]] = []
    sizes: list[int] = []
    for column in columns:
        cells = []
        width: int | None = None
        for row, value in enumerate(table[column].tolist()):
            cell = f"column {column!r} of {what}, data row {row + 1} (node {ids[row]!r})"
            steps = _parse_cell(value, cell)
            if steps is not None and steps.numel():
                if width is not None and steps.size(1) != width:
                    raise InputError(
                        f"The steps in {cell} have {steps.size(1)} values where earlier rows "
                        f"of the column have {width}: give every step of a column the same "
                        "number of values"
                    )
                width = steps.size(1)
            cells.append(steps)
        views.append(cells)
        sizes.append(width or 1)
    rows = []
    for row in range(len(table)):
        lengths = {c: _num_steps(v[row]) for c, v in zip(columns, views)}
        if len(set(lengths.values())) > 1:
            raise InputError(
                f"Node {ids[row]!r} (data row {row + 1} of {what}) has steps of different "
                f"lengths in the sequence columns {lengths}: give every column the same steps "
                "(one entry per step), or leave all of its cells empty"
            )
        parts: list[Tensor] = []
        for v, d in zip(views, sizes):
            steps = v[row]
            parts.append(steps if steps is not None and steps.numel() else torch.zeros(0, d))
        rows.append(torch.cat(parts, dim=1))
    sequence, length = pad_sequences(rows, dim=sum(sizes))
    return {
        "sequence": sequence,
        "sequence_length": length,
        "sequence_names": list(columns),
        "sequence_sizes": sizes,
    }


def _num_steps(steps: Tensor | None) -> int:
    return 0 if steps is None else steps.size(0)


def _parse_cell(value: Any, cell: str) -> Tensor | None:
    """The steps ``[T, w]`` of one list cell, :obj:`None` when empty."""
    if _is_array(value):
        items = value.tolist() if hasattr(value, "tolist") else list(value)
    elif is_missing(value):
        return None
    else:
        text = str(value).strip()
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            items = None
        if not isinstance(items, list):
            raise InputError(
                f"Expected a JSON list of numbers (one per step) or of lists of numbers in "
                f"{cell} (got {text[:60]!r}): write the steps as [1, 0, 3] or [[1, 2], [0, 5]], "
                "or leave the cell empty for no steps"
            )
    if not items:
        return torch.zeros(0, 1)
    nested = [_is_array(item) for item in items]
    if any(nested) and not all(nested):
        raise InputError(
            f"The list in {cell} mixes numbers and lists: every step must be a number, or "
            "every step a list of numbers"
        )
    steps = [list(item) for item in items] if all(nested) else [[item] for item in items]
    if len({len(s) for s in steps}) > 1:
        raise InputError(
            f"The steps in {cell} have different numbers of values "
            f"({sorted({len(s) for s in steps})}): give every step the same number"
        )
    for t, step in enumerate(steps):
        for v in step:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise InputError(
                    f"Step {t} in {cell} holds {v!r}, not a finite number: sequence values "
                    "must be numbers; drop the step or fill in a value"
                )
    return torch.tensor(steps, dtype=torch.float).reshape(len(steps), -1)


def _is_array(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or (
        hasattr(value, "tolist") and getattr(value, "ndim", 0) >= 1
    )


def _read_long(
    spec: Mapping[str, Any], ids: list[str], where: str, open_file: Any
) -> dict[str, Any]:
    unknown = [k for k in spec if k not in LONG_KEYS]
    if unknown or "table" not in spec:
        raise InputError(
            f"Expected 'modalities.sequence' in {where} to hold 'table' (a long table: one row "
            f"per node and step) and optionally 'id', 'time', 'values' (got keys {list(spec)})"
        )
    path: Path = open_file(spec["table"], "modalities.sequence.table")
    frame = read_table(path, "sequence table", allow_empty=True)
    what = f"the sequence table '{path.name}'"
    id_col, time_col = str(spec.get("id", "node_id")), str(spec.get("time", "t"))
    values = spec.get("values")
    if values is None:
        values = [str(c) for c in frame.columns if str(c) not in (id_col, time_col)]
    elif isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise InputError(
            f"Expected 'values' under 'modalities.sequence' in {where} to list the value columns "
            f"of {what} (got {values!r})"
        )
    require_columns(frame, [id_col, time_col, *values], what)
    index = {node: i for i, node in enumerate(ids)}
    nodes: list[int] = []
    for row, value in enumerate(frame[id_col].tolist()):
        node = None if is_missing(value) else to_text(value)
        if node is None or node not in index:
            raise InputError(
                f"Data row {row + 1} of {what} names node {node!r} in column {id_col!r}, which "
                "is not a node id of the node table: fix the id or drop the row"
            )
        nodes.append(index[node])
    times = _times(frame[time_col].tolist(), time_col, what)
    data = torch.tensor(
        [
            [_value(v, column, row, what) for row, v in enumerate(frame[column].tolist())]
            for column in values
        ],
        dtype=torch.float,
    ).reshape(len(values), len(frame))
    first: dict[tuple[int, float], int] = {}
    for row, key in enumerate(zip(nodes, times)):
        if key in first:
            raise InputError(
                f"Node {ids[key[0]]!r} has two steps at {time_col} = "
                f"{frame[time_col].iloc[row]!r} in {what} (data rows {first[key] + 1} and "
                f"{row + 1}): keep one row per node and time"
            )
        first[key] = row
    per_node: list[list[int]] = [[] for _ in ids]
    for row in sorted(range(len(frame)), key=lambda r: (nodes[r], times[r])):
        per_node[nodes[row]].append(row)
    steps = [data[:, rows].t() for rows in per_node]
    sequence, length = pad_sequences(steps, dim=len(values))
    return {
        "sequence": sequence,
        "sequence_length": length,
        "sequence_names": list(values),
        "sequence_sizes": [1] * len(values),
    }


def _times(cells: list[Any], column: str, what: str) -> list[float]:
    """The time of each row: numbers as they are, or dates (all of one kind)."""
    out: list[float] = []
    kinds = set()
    for row, value in enumerate(cells):
        if is_missing(value):
            raise InputError(
                f"Empty time in column {column!r} of {what}, data row {row + 1}: every step "
                "needs a time (a number or a date)"
            )
        try:
            t = float(value)
            kinds.add("number")
        except (TypeError, ValueError):
            try:
                t = float(pd.Timestamp(str(value).strip()).value)
                kinds.add("date")
            except (TypeError, ValueError):
                raise InputError(
                    f"Column {column!r} of {what} holds {value!r} in data row {row + 1}, "
                    "neither a number nor a date: give times as numbers (such as day indices) "
                    "or dates (such as 2024-03-01)"
                ) from None
        if math.isnan(t):
            raise InputError(f"NaN time in column {column!r} of {what}, data row {row + 1}")
        if len(kinds) > 1:
            raise InputError(
                f"Column {column!r} of {what} mixes numbers and dates (data row {row + 1}): "
                "give every time in one form"
            )
        out.append(t)
    return out


def _value(value: Any, column: str, row: int, what: str) -> float:
    try:
        out = float(value) if not isinstance(value, bool) and not is_missing(value) else None
    except (TypeError, ValueError):
        out = None
    if out is None or not math.isfinite(out):
        raise InputError(
            f"Column {column!r} of {what} holds {value!r} in data row {row + 1}, not a finite "
            "number: sequence values must be numbers; fix the value or drop the row"
        )
    return out


def sequence_columns(graph: MultimodalGraph) -> dict[str, list[str | None]]:
    """The wide columns of ``graph``'s sequence: one per view, cells JSON lists.

    A view of one value per step is a list of numbers, a wider one a list of lists; a node
    without the modality gets an empty cell. Whole numbers are written without ``.0``.
    """
    sequence, length = graph.sequence, graph.sequence_length
    present = graph.presence_mask("sequence")
    out: dict[str, list[str | None]] = {}
    start = 0
    for view, size in graph.sequence_views.items():
        cells: list[str | None] = []
        for i in range(graph.num_nodes):
            if not bool(present[i]) or int(length[i]) == 0:
                cells.append(None)
                continue
            steps = sequence[i, : int(length[i]), start : start + size].tolist()
            cells.append(json.dumps([_compact(s[0]) if size == 1 else _compact(s) for s in steps]))
        out[view] = cells
        start += size
    return out


def _compact(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_compact(v) for v in value]
    return int(value) if float(value).is_integer() else value


__all__ = ["LONG_KEYS", "read_sequence", "sequence_columns"]
