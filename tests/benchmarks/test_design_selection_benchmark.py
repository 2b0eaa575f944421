"""benchmarks/design_selection.py: the criteria score the curves a run recorded."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark: Callable[[str], ModuleType]) -> ModuleType:
    return load_benchmark("design_selection")


CURVE = {
    "accuracy": [0.5, 0.9, 0.7, 0.8],
    "macro_f1": [0.4, 0.6, 0.8, 0.8],
    "loss": [0.9, 1.2, 0.7, 0.6],
}


def test_the_kept_epoch_is_the_one_each_family_monitors(bench: ModuleType) -> None:
    # subgraphs keep the lowest validation loss; node sets the best macro-F1, ties to the
    # lower loss (the trainer's rule)
    assert bench._kept_epoch(CURVE, "subgraph") == 3
    assert bench._kept_epoch(CURVE, "node") == 3
    assert bench._kept_epoch({**CURVE, "loss": [0.9, 1.2, 0.5, 0.6]}, "node") == 2
    assert bench._score(CURVE, "kept_accuracy", "subgraph") == 0.8
    assert bench._score(CURVE, "best_accuracy", "subgraph") == 0.9
    assert bench._score(CURVE, "loss", "subgraph") == -0.6


def test_the_report_ranks_the_kept_epochs_accuracy(bench: ModuleType) -> None:
    def run(seed: int, design: int, kept: float, best: float, test: float) -> dict:
        curve = {"accuracy": [best, kept], "macro_f1": [0.5, 0.5], "loss": [0.9, 0.1]}
        return {"data": "d", "seed": seed, "design": design, "test": test, "val_curve": curve}

    # design 0 has the better best epoch, design 1 the better kept one and test score
    rows = [run(0, 0, kept=0.6, best=0.95, test=0.5), run(0, 1, kept=0.8, best=0.9, test=0.9)]
    table = "\n".join(bench._family_table(rows, ["d"], "subgraph"))
    assert "| kept_accuracy | 90.0 ± 0.0 (1) |" in table
    assert "| best_accuracy | 50.0 ± 0.0 (0) |" in table
