"""Smoke test of benchmarks/word_epochs.py: both paths train every design, the table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from mmgraph.encoders import PrecomputedEncoder
from mmgraph.models.auto import DESIGNS


def test_generated_graph_and_table(
    load_benchmark: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    bench = load_benchmark("word_epochs")
    graph = bench.make_graph(40, 30, seed=0)
    assert len(graph.text) == 40 and all(len(t.split()) == 30 for t in graph.text)
    assert int(graph.train_mask.sum() + graph.val_mask.sum() + graph.test_mask.sum()) == 40
    encoder = PrecomputedEncoder(200, 4)
    with bench.dense_text():
        assert not encoder.takes_sparse
    assert encoder.takes_sparse  # restored
    out = tmp_path / "word_epochs.md"
    argv = ["--nodes", "60", "--words", "40", "--epochs", "2", "--threads", "1"]
    assert bench.main([*argv, "--out", str(out)]) == 0
    text = out.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "layer" in line]
    assert len(rows) == len(DESIGNS)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert float(cells[1]) > 0 and float(cells[2]) > 0
    assert "word columns" in text
