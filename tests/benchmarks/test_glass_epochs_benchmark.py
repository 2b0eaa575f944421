"""Smoke test of benchmarks/glass_epochs.py's measurement on a small set (loaded by path)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from mmgraph.data.synthetic_subgraphs import make_synthetic_subgraphs


@pytest.fixture(scope="module")
def bench(load_benchmark: Callable[[str], ModuleType]) -> ModuleType:
    return load_benchmark("glass_epochs")


def test_both_computations_timed_and_equal(bench: ModuleType) -> None:
    data = make_synthetic_subgraphs("cut_ratio", seed=0, num_nodes=300, num_subgraphs=70)
    row = bench.measure(data, 2, repeats=1, batches=2)
    assert row["layers"] == 2 and row["edges"] > 0
    for key in ("batch", "frozen", "eval"):
        assert row[f"{key}_fields"] > 0 and row[f"{key}_own"] > 0
    assert row["max_diff"] < 1e-4  # the unlabelled pass gives the fields' embeddings
