"""benchmarks/text_selection.py: each rule's pick, the report's table, the comparison."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture()
def bench(
    load_benchmark: Callable[[str], ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ModuleType:
    module = load_benchmark("text_selection")
    monkeypatch.setattr(module, "RESULTS", tmp_path)
    monkeypatch.setattr(module, "RUNS", tmp_path / "text_selection.jsonl")
    monkeypatch.setattr(module, "REPORT", tmp_path / "report.md")
    return module


def row(
    text: int, design: int, val_loss: float, test: float, val: float = 0.5, data: str = "texas"
) -> dict:
    return {"data": data, "seed": 0, "text": text, "design": design, "val_loss": val_loss,
            "val": val, "val_macro_f1": 1.0 - val, "test": test, "seconds": 1.0}  # fmt: skip


def test_rules_pick_on_their_criterion_within_their_candidates(bench: ModuleType) -> None:
    rows = [
        row(0, 0, 0.9, 0.70),
        row(0, 1, 0.8, 0.75),  # the previous rule's pick
        row(0, 2, 0.7, 0.80, val=0.6),  # the three designs' pick
        row(1, 2, 0.6, 0.90),  # the lowest loss of all
        row(1, 1, 0.65, 0.85, val=0.7),  # accuracy's pick with TF-IDF; of all three texts too (the
        # loss breaks its tie with the bag of words)
        row(1, 0, 0.95, 0.99, val=0.1),  # best on test; macro-F1's pick (0.9)
        row(2, 1, 0.66, 0.88, val=0.7),  # the bag of words: the default rule's pick
    ]
    bench.RUNS.write_text("".join(json.dumps(r) + "\n" for r in rows))
    picks = {name: bench._pick(rows, *rule)["test"] for name, rule in bench.RULES.items()}
    assert list(picks.values()) == [0.75, 0.80, 0.90, 0.85, 0.99, 0.88, 0.85]
    text = bench.report()
    assert (
        "| MiniLM or bag of words + designs, on accuracy (the default rule) | 88.0 ± 0.0 (21) |"
        in text
    )
    assert "| bag of words, design 1 alone | 88.0 ± 0.0 (21) |" in text
    assert "| oracle (test) | 99.0 ± 0.0 (10) |" in text
    assert bench.REPORT.read_text() == text


def test_compare_ranks_optimizer_and_criterion_and_leaves_each_set_out(bench: ModuleType) -> None:
    def grid(good: float, data: list[str]) -> str:  # the lowest loss picks `good`, accuracy 0.5
        return "".join(
            json.dumps(r) + "\n"
            for name in data
            for r in (row(0, 0, 0.5, good, val=0.9, data=name), row(0, 1, 0.9, 0.6, data=name))
        )

    (bench.RESULTS / "text_selection.jsonl").write_text(grid(0.8, ["cora", "texas"]))
    (bench.RESULTS / "text_selection_adamw.jsonl").write_text(
        grid(0.7, ["cora", "texas", "cornell"])
    )
    text = bench.compare()
    assert "| cora | texas |" in text  # only the data sets both grids ran
    assert "| adam, loss | 80.0 (1.5) | 80.0 (1.5) | 1.50 |" in text  # ties with accuracy
    assert "| adam, macro-F1 | 60.0 (5.5) | 60.0 (5.5) | 5.50 |" in text  # 0.1 < 0.5: design 1
    assert "Best average rank: **adam, loss**." in text
    assert "| cora | adam, loss | 80.0 | 80.0 |" in text
    assert (bench.RESULTS / "text_selection_compare.md").read_text() == text
