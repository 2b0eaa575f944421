"""Smoke test of benchmarks/fold_jobs.py on a tiny generated TU set (loaded by path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from mmgraph.tasks.subgraph import FOLD_JOBS_VARIABLE, fold_jobs


def test_both_ways_give_the_same_metrics_and_a_table(
    load_benchmark: Callable[[str], ModuleType], tmp_path: Path, monkeypatch
) -> None:
    bench = load_benchmark("fold_jobs")
    monkeypatch.delenv(FOLD_JOBS_VARIABLE, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)  # the command's and this process's
    generate = load_benchmark("graph_epochs").write_tu_dortmund
    spec = {"graphs": 40, "nodes": 8, "tags": 3, "dense": None}
    data = generate(tmp_path, "TINY", spec)
    out = tmp_path / "fold_jobs.md"
    argv = ["--datasets", str(data), "--extra", "--epochs 2 --hidden 4", "--out", str(out)]
    assert bench.main(argv) == 0
    text = out.read_text()
    row = next(line for line in text.splitlines() if line.startswith(f"| {data} "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == f"`mmgraph subgraph train --data {data} --epochs 2 --hidden 4`"
    assert cells[2] == str(fold_jobs(10))  # as many as the machine's cores, here as there
    assert cells[6] == "yes"
