"""Smoke test of benchmarks/graph_epochs.py on tiny generated sets (loaded by path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from mmgraph.tasks.subgraph import load_subgraph_dataset
from mmgraph.tune import options


@pytest.fixture(scope="module")
def bench(load_benchmark: Callable[[str], ModuleType]) -> ModuleType:
    return load_benchmark("graph_epochs")


def test_generated_sets_are_tu_dortmund_folders_with_their_labels(
    bench: ModuleType, tmp_path: Path
) -> None:
    sparse = {"graphs": 40, "nodes": 12, "tags": 5, "dense": None}
    data = load_subgraph_dataset(bench.write_tu_dortmund(tmp_path, "SPARSE", sparse))
    assert len(data) == 40 and data.whole_graphs and data.num_classes == 2
    assert data.graph.edge_index.size(1) % 2 == 0  # both directions
    dense = {"graphs": 20, "nodes": 20, "tags": 0, "dense": (0.1, 0.9)}
    data = load_subgraph_dataset(bench.write_tu_dortmund(tmp_path, "DENSE", dense))
    assert data.y.tolist() == [0, 1] * 10  # the class of each graph's edge density


def test_fit_recovers_known_costs(bench: ModuleType) -> None:
    rows = [
        {
            "batches": b,
            "train_nodes": n,
            "train_edges": e,
            "epoch_s": 0.005 * b + 3e-6 * n + 4e-7 * e,
        }
        for b, n, e in [(6, 3000, 7000), (40, 20000, 200000), (116, 110000, 220000), (30, 9e4, 2e6)]
    ]
    per_batch, per_node, per_edge = bench.fit(rows)
    assert per_batch == pytest.approx(0.005) and per_node == pytest.approx(3e-6)
    assert per_edge / per_node == pytest.approx(0.4 / 3)


def test_main_writes_the_timing_and_accuracy_tables(
    bench: ModuleType, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny = {"graphs": 80, "nodes": 10, "tags": 3, "dense": None}
    monkeypatch.setattr(bench, "DATA_ROOT", shared_data)
    monkeypatch.setattr(
        bench, "GENERATED", {"nci1-sized": tiny, "dense": {**tiny, "tags": 0, "dense": (0.2, 0.6)}}
    )
    # the tiny sets count as large: ten epochs (the floor) rather than 300
    monkeypatch.setattr(options, "WHOLE_GRAPH_WORK", 1.0)
    monkeypatch.setitem(options.WHOLE_GRAPH_DEFAULTS, "epochs", 12)
    out = tmp_path / "graph_epochs.md"
    argv = ["--sets", "mutag", "nci1-sized", "dense", "--epochs", "1", "--accuracy", "1"]
    assert bench.main([*argv, "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# The default whole-graph command on sets of every size")
    assert "Command: `python benchmarks/graph_epochs.py --sets mutag nci1-sized dense" in text
    lines = text.splitlines()
    for name in ("mutag", "nci1-sized", "dense"):
        row = next(line for line in lines if line.startswith(f"| {name} | "))
        assert "| 10 (2) |" in row  # the floor, and the step shrunk with it
    assert "Least-squares fit of the epoch times" in text
    assert "| 1 | 12 (50) |" in text and "| 1 | 10 (2) |" in text  # the accuracy check
    assert "Mean test accuracy with 12 epochs" in text
