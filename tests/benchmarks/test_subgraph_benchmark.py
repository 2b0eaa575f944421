"""Smoke test of benchmarks/subgraph.py on minimal settings (loaded by path)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark: Callable[[str], ModuleType]) -> ModuleType:
    return load_benchmark("subgraph")


def test_main_writes_both_tables(bench: ModuleType, shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "subgraph.md"
    argv = ["--tasks", "density", "cut_ratio", "mutag", "--seeds", "2", "--epochs", "1"]
    argv += ["--max-folds", "2", "--nodes", "200", "--subgraphs", "30"]
    text = bench.main([*argv, "--root", str(shared_data), "--out", str(out)])
    assert out.read_text() == text
    assert text.startswith("# Subgraph and graph classification")
    assert "Command: `python benchmarks/subgraph.py --tasks density cut_ratio mutag" in text
    assert "load average at start" in text
    lines = text.splitlines()
    density = next(line for line in lines if re.match(r"\| density \| [01]\.\d{3}", line))
    assert "SubGNN 0.919, GLASS 0.930" in density and "2 seeds" in density
    assert next(line for line in lines if line.startswith("| cut_ratio | "))
    mutag = next(line for line in lines if line.startswith("| mutag | "))
    assert "GIN 89.4" in mutag and ">= 88.0" in mutag and "2 folds, seed 0" in mutag
    assert "4 GIN layers" in text and "GLASS 1 layer" in text


def test_settings_and_rows(bench: ModuleType) -> None:
    config, train = bench.task_settings("coreness", epochs=3, lr=0.1, hidden=8)
    assert (config.method, config.hidden, train.epochs, train.lr) == ("glass", 8, 3, 0.1)
    assert train.patience is None and train.monitor == "loss"
    with pytest.raises(KeyError, match="Unknown setting 'depth'"):
        bench.task_settings("density", depth=3)
    result = bench.TaskResult("ptc", [60.0, 70.0], [], 1.0, config, train, "2 folds")
    row = bench.result_row(result)
    assert row["mmgraph test"] == "65.0 ± 5.0" and row["target"] == "-" and row["met"] == "-"
    result = bench.TaskResult("component", [1.0, 1.0], [1.0, 0.96], 1.0, config, train, "")
    row = bench.result_row(result)
    assert row["met"] == "yes" and row["mmgraph val"] == "0.980 ± 0.020"
    assert set(bench.SETTINGS) == set(bench.TASKS) == set(bench.PUBLISHED)
