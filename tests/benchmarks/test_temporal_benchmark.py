"""Smoke test of benchmarks/temporal.py on a tiny data set (loaded by path)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "temporal.py"


def test_temporal_benchmark_writes_its_tables(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("_bench_temporal", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module's annotations
    spec.loader.exec_module(module)
    out = tmp_path / "temporal.md"
    module.main(["--seeds", "0", "--num-nodes", "40", "--epochs", "1", "--out", str(out)])
    text = out.read_text()
    assert "| mvlstm hybrid, learned gates |" in text and "like bursts on post bursts" in text
    assert "Command: `.venv/bin/python benchmarks/temporal.py --seeds 0" in text
