"""Helpers shared by the loaders: finding files, reading tables, parsing cells."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

from mmgraph.errors import InputError, read_text

TRUE_STRINGS = frozenset({"true", "t", "yes"})
FALSE_STRINGS = frozenset({"false", "f", "no"})


def as_path(path: str | Path, what: str) -> Path:
    """``path`` as a :class:`~pathlib.Path`, raising :class:`FileNotFoundError` if absent."""
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"{what} not found at '{p}': check the path")
    return p


def is_missing(value: Any) -> bool:
    """Whether a table cell is empty: :obj:`None`, NaN, or a blank string."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def read_table(path: Path, what: str, allow_empty: bool = False) -> pd.DataFrame:
    """Read a CSV/TSV (every cell as text, nothing turned into NaN) or a Parquet table.

    Args:
        path (Path): The table file (``.csv``, ``.tsv``, ``.txt``, ``.parquet``, ``.pq``).
        what (str): What the table is (``"node table"``), for messages.
        allow_empty (bool, optional): Accept a table with a header and no rows (an edge
            table of a graph without edges). (default: :obj:`False`)

    Raises:
        InputError: The file is empty (no header; or no rows unless ``allow_empty``), not
            UTF-8, not parseable, or repeats a column name; the message names the file.
    """
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            table = pd.read_parquet(path)
        except (ValueError, OSError) as error:  # pyarrow.ArrowInvalid is a ValueError
            if isinstance(error, FileNotFoundError):
                raise
            raise InputError(
                f"The {what} '{path}' is not a readable Parquet file "
                f"({' '.join(str(error).split())[:200]}): write it again or use a CSV"
            ) from None
    elif suffix in (".csv", ".tsv", ".txt"):
        sep = "\t" if suffix == ".tsv" else ","
        text = read_text(path, what)
        if not text.strip():
            raise InputError(
                f"The {what} '{path}' is empty: it needs a header row naming the columns"
                + ("" if allow_empty else " and one row per entry")
            )
        try:
            _check_fields(text, sep, path, what)
            table = pd.read_csv(
                io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, index_col=False
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as error:
            raise InputError(
                f"The {what} '{path}' is not a readable {suffix[1:].upper()} table "
                f"({' '.join(str(error).split())[:200]}): fix the file"
            ) from None
    else:
        raise InputError(
            f"Unknown table format '{path.suffix}' for the {what} '{path}': use a .csv, .tsv "
            "or .parquet file"
        )
    if len(table) == 0 and not allow_empty:
        raise InputError(
            f"The {what} '{path}' is empty: it has a header but no rows; add one row per entry"
        )
    return table


def _check_fields(text: str, sep: str, path: Path, what: str) -> None:
    """Refuse a repeated column name, or a row with more or fewer fields than the header.

    pandas would rename a repeated column (``x.1``), take the extra leading fields of a
    long row for an index, and fill a short row with empty cells, all silently.
    """
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, len(text) + 1))  # a cell may be a long web page
    try:
        reader = csv.reader(io.StringIO(text), delimiter=sep)
        header = next(reader, [])
        repeated = sorted({c for c in header if header.count(c) > 1})
        if repeated:
            raise InputError(
                f"The {what} '{path}' repeats the column name{'s' if len(repeated) > 1 else ''} "
                f"{', '.join(map(repr, repeated))}: give every column its own name"
            )
        for row in reader:
            if row and len(row) != len(header):
                raise InputError(
                    f"Line {reader.line_num} of the {what} '{path}' has {len(row)} fields but "
                    f"the header has {len(header)}: fix the row (quote cells that hold "
                    f"{sep!r}) or the header"
                )
    finally:
        csv.field_size_limit(old)


def require_columns(
    table: pd.DataFrame,
    columns: list[str],
    what: str,
    fix: str = "fix the name or add the column",
) -> None:
    """Raise a :class:`ValueError` naming the columns of ``columns`` that ``table`` lacks.

    ``fix`` says what to do (a card's name for a column can be fixed; a fixed name cannot).
    """
    missing = [c for c in columns if c not in table.columns]
    if missing and len(table.columns) == 1:
        header = str(table.columns[0])
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in header and any(c in header.split(sep) for c in missing):
                fix = (
                    f"the table's fields are separated by {name}, not commas: save it as "
                    "comma-separated CSV (or as Parquet)"
                )
                break
    if missing:
        raise ValueError(
            f"Column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)} not "
            f"found in {what} (its columns: {list(map(str, table.columns))}); {fix}"
        )


def to_float(value: Any, column: str, row: int, node: str) -> float:
    """Parse a numeric cell: empty -> NaN, ``true``/``false`` -> 1/0, else a float."""
    if is_missing(value):
        return math.nan
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    low = text.lower()
    if low in TRUE_STRINGS:
        return 1.0
    if low in FALSE_STRINGS:
        return 0.0
    try:
        out = float(text)
    except ValueError:
        raise ValueError(
            f"Numeric column {column!r} holds the non-numeric value {text!r} in data row "
            f"{row + 1} (node {node!r}): fix the value, leave it empty for missing, or list the "
            "column under 'categorical' or 'text' instead"
        ) from None
    if math.isinf(out):
        raise ValueError(
            f"Numeric column {column!r} holds an infinite value in data row {row + 1} (node "
            f"{node!r}): clip it or leave the cell empty for missing"
        )
    return out


def to_text(value: Any) -> str:
    """A categorical or label cell as a stripped string (floats like ``1.0`` stay ``'1.0'``)."""
    return str(value).strip()
