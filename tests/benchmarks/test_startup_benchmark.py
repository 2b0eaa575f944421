"""Smoke test of benchmarks/startup.py: the table, and no command line imports torch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType


def test_the_table_lists_every_command_line_without_torch(
    load_benchmark: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    bench = load_benchmark("startup")
    out = tmp_path / "startup.md"
    assert bench.main(["--repeats", "1", "--out", str(out)]) == 0
    rows = [line for line in out.read_text().splitlines() if line.startswith("| `mmgraph ")]
    assert len(rows) == len(bench.COMMAND_LINES)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[3] in ("0", "2"), row  # help: 0; a typo: 2
        assert cells[4] == "no", row  # no torch
