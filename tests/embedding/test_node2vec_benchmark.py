"""Smoke test of benchmarks/node2vec_clustering.py (not a package: loaded by path)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from mmgraph.data import MultimodalGraph, make_undirected

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "node2vec_clustering.py"


def tiny_graph() -> MultimodalGraph:
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(40) // 20
    edge_index, _, _ = make_undirected(torch.randint(0, 20, (2, 60), generator=gen), 40)
    edge_index = torch.cat([edge_index, edge_index + 20], dim=1)  # two components
    return MultimodalGraph(edge_index, numeric=torch.randn(40, 3, generator=gen), y=y)


def test_clustering_rows_on_a_tiny_graph() -> None:
    spec = importlib.util.spec_from_file_location("_bench_node2vec_clustering", BENCHMARK)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    graph = tiny_graph()
    embedders = {
        "shallow": lambda g, seed: bench.shallow_embedding(
            g, seed, embedding_dim=8, walk_length=6, context_size=3, walks_per_node=2, epochs=1
        ),
        "gnn": lambda g, seed: bench.gnn_embedding(
            g, seed, epochs=2, walk_length=4, context_size=2
        ),
    }
    rows = bench.clustering_rows({"tiny": graph}, [0, 1], embedders, echo=lambda line: None)
    assert [r["method"] for r in rows] == ["shallow", "gnn"]
    for row in rows:
        mean, std = row["NMI"].split(" ± ")
        assert 0.0 <= float(mean) <= 1.0 and float(std) >= 0.0
        assert 0.0 <= row["_nmi"] <= 1.0
    assert bench.mean_std([0.5]) == "0.500"
