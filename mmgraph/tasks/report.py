"""Plain-text tables of metrics for the command line and the benchmarks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

METRIC_ORDER = ("accuracy", "macro_f1", "f1", "precision", "recall", "mcc", "roc_auc")


def format_value(value: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals, ``-`` for missing or NaN, anything else as text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        # round first, then add 0.0: a score of -0.0001 prints 0.000, not -0.000
        return f"{round(value, digits) + 0.0:.{digits}f}"
    return str(value)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """An aligned text table of ``rows`` (dicts), with the given column order."""
    if not rows:
        return "(no rows)"
    if columns is None:
        columns = []
        for row in rows:
            columns += [k for k in row if k not in columns]
    cells = [[format_value(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    return "\n".join([line, rule, *body])


def format_markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A Markdown table of ``rows`` with the given columns."""
    head = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(format_value(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def format_split_metrics(metrics: Mapping[str, Mapping[str, float]]) -> str:
    """The ``{"val": {...}, "test": {...}}`` metrics as a table, one row per split."""
    rows = [{"split": split, **values} for split, values in metrics.items()]
    return format_table(rows, ["split", *METRIC_ORDER])
