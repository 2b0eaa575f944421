"""Smoke test of benchmarks/temporal.py on a tiny data set (loaded by path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType


def test_temporal_benchmark_writes_its_tables(
    load_benchmark: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    module = load_benchmark("temporal")
    out = tmp_path / "temporal.md"
    module.main(["--seeds", "0", "--num-nodes", "40", "--epochs", "1", "--out", str(out)])
    text = out.read_text()
    assert "| mvlstm hybrid, learned gates |" in text and "like bursts on post bursts" in text
    assert "Command: `.venv/bin/python benchmarks/temporal.py --seeds 0" in text
