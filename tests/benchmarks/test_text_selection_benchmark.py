"""benchmarks/text_selection.py: the rules pick on validation loss; the report's table."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "text_selection.py"


@pytest.fixture()
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bench_text_selection", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RUNS", tmp_path / "runs.jsonl")
    monkeypatch.setattr(module, "REPORT", tmp_path / "report.md")
    return module


def row(text: int, design: int, val_loss: float, test: float, seed: int = 0) -> dict:
    return {"data": "texas", "seed": seed, "text": text, "design": design,
            "val_loss": val_loss, "val": 0.5, "test": test, "seconds": 1.0}  # fmt: skip


def test_rules_pick_the_lowest_validation_loss_within_their_candidates(bench: ModuleType) -> None:
    rows = [
        row(0, 0, 0.9, 0.70),
        row(0, 1, 0.8, 0.75),  # the previous rule's pick
        row(0, 2, 0.7, 0.80),  # the three designs' pick
        row(1, 2, 0.6, 0.90),  # the default's pick
        row(1, 0, 0.95, 0.99),  # best on test, never picked on validation
    ]
    bench.RUNS.write_text("".join(json.dumps(r) + "\n" for r in rows))
    picks = {name: bench._pick(rows, rule)["test"] for name, rule in bench.RULES.items()}
    assert list(picks.values()) == [0.75, 0.80, 0.90]
    text = bench.report()
    assert "| text + designs (the default) | 90.0 ± 0.0 (12) |" in text
    assert "| oracle (test) | 99.0 ± 0.0 (10) |" in text
    assert bench.REPORT.read_text() == text
