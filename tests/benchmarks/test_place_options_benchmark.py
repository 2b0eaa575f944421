"""Smoke test of benchmarks/place_options.py on a small multi-label set (loaded by path)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from mmgraph.data.synthetic_subgraphs import make_position_multilabel


@pytest.fixture(scope="module")
def bench(load_benchmark: Callable[[str], ModuleType]) -> ModuleType:
    return load_benchmark("place_options")


def test_variants_score_validation_and_test_and_the_report_reads_them(
    bench: ModuleType, tmp_path: Path
) -> None:
    data = make_position_multilabel(
        num_blocks=6, block_size=20, p_in=0.3, p_out=0.01, num_subgraphs=40, seed=0
    )
    rows = [
        {"data": "tiny:0", **bench.run_variant(data, name, {"epochs": 2, **opts}, [0], ids)}
        for name, opts, ids in (
            ("ids, 2 layers", bench.VARIANTS["ids, 2 layers"], True),
            ("default command, no positive weights", {"class_weights": False}, False),
        )
    ]
    for row in rows:
        assert len(row["val"]) == len(row["test"]) == 1 and 0.0 <= row["val"][0] <= 1.0
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = bench.report(path, tmp_path / "report.md")
    assert "| ids, 2 layers | " in text and "1 seeds)" in text
    assert (tmp_path / "report.md").read_text() == text
