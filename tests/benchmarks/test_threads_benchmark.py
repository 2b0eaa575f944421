"""Smoke test of benchmarks/threads.py: a timed run in a fresh process beside a busy loop."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType


def test_a_run_beside_a_busy_loop_is_timed_with_its_environment(
    load_benchmark: Callable[[str], ModuleType],
) -> None:
    bench = load_benchmark("threads")
    row = bench.measure(60, 3, {"GOMP_SPINCOUNT": "2000"}, "busy loop")
    assert row["policy"] == "GOMP_SPINCOUNT=2000"
    assert 0 < row["epoch_ms"] / 1000 < row["run_s"] < row["process_s"]
    rows = [
        {"nodes": 60, "setting": name, "threads": 2, "policy": ""}
        | dict.fromkeys(bench.BESIDE, dict.fromkeys(bench.TIMES, 10.0 * (i + 1)))
        for i, (name, _) in enumerate(bench.SETTINGS)
    ]
    lines = bench.table(rows).splitlines()
    assert len(lines) == 2 + len(bench.SETTINGS)
    assert lines[-1].endswith(f"| {len(bench.SETTINGS):.1f} |")  # worst / best alone
