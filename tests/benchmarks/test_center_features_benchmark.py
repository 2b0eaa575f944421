"""benchmarks/center_features.py: its generated block models load as the cards they claim."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import torch

from mmgraph.data import load_card


def test_a_block_model_card_has_its_blocks_edges_and_bios(
    load_benchmark: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    bench = load_benchmark("center_features")
    folder = bench.block_card(tmp_path / "sbm", 200, 4, 0.1, 0.005, 1.0, 0)
    graph = load_card(folder / "dataset.yaml")
    assert graph.num_nodes == 200 and int(graph.y.unique().numel()) == 4
    src, dst = graph.edge_index
    inside = float((graph.y[src] == graph.y[dst]).float().mean())
    assert inside > 0.8  # p_in 0.1 against 0.005: nearly every edge within a block
    # a text share of 1: a bio's words are its block's own, b<block>'s word list t<block>_*
    first = graph.text[0] if isinstance(graph.text[0], str) else graph.text[0][0]
    label = graph.class_names[int(graph.y[0])]
    assert all(w.startswith(f"t{label[1:]}_") for w in first.split())
    again = load_card(
        bench.block_card(tmp_path / "again", 200, 4, 0.1, 0.005, 1.0, 0) / "dataset.yaml"
    )
    assert torch.equal(again.edge_index, graph.edge_index)  # seeded
