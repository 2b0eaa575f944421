"""Smoke tests of the aggregator benchmarks (benchmarks/ is not a package: load by path)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

import torch
from torch_geometric.data import Data

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny() -> Data:
    gen = torch.Generator().manual_seed(0)
    edge_index = torch.randint(30, (2, 80), generator=gen)
    train_mask = torch.zeros(30, dtype=torch.bool)
    train_mask[:10] = True
    return Data(
        x=torch.rand(30, 12, generator=gen),
        edge_index=edge_index,
        y=torch.randint(3, (30,), generator=gen),
        train_mask=train_mask,
    )


def test_aggregator_speed_rows():
    bench = _load("aggregator_speed")
    rows = bench.benchmark(_tiny(), hidden=4, repeats=2, warmup=1)
    assert [r["pair"] for r in rows] == [
        "mean vs SAGEConv",
        "gcn vs GCNConv",
        "mean R=2 vs RGCNConv(mean)",
    ]
    for row in rows:
        assert row["ours_ms"] > 0 and row["pyg_ms"] > 0
        assert math.isclose(row["ratio"], row["ours_ms"] / row["pyg_ms"])
    assert bench.format_table(rows).count("\n") == len(rows) + 1


def test_depth_gradient_table():
    bench = _load("depth_gradients")
    table = bench.gradient_table(_tiny(), depths=(2, 4), hidden=4, seeds=(0, 1))
    assert set(table) == {"gcn", "mean", "ggnn"}
    for norms in table.values():
        assert list(norms) == [2, 4]
        assert all(math.isfinite(n) and n > 0 for n in norms.values())
    # Same seed, same numbers.
    again = bench.gradient_table(_tiny(), depths=(2, 4), hidden=4, seeds=(0, 1))
    assert again == table
    assert "| ratio 4 / 2 |" in bench.format_table(table)
