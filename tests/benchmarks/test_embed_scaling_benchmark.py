"""Smoke test of benchmarks/embed_scaling.py: the README's commands per scaling, the table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import torch
from torch_geometric.utils import coalesce

from mmgraph.data import MultimodalGraph, save_card
from mmgraph.data.synthetic import make_social_graph


def test_commands_per_scaling_and_table(
    load_benchmark: Callable[[str], ModuleType], tmp_path: Path
) -> None:
    bench = load_benchmark("embed_scaling")
    social = make_social_graph(60, seed=0, image_size=8)
    gen = torch.Generator().manual_seed(0)
    counts = torch.randint(1, 4, (60, 150), generator=gen).float()
    words = counts * (torch.rand(60, 150, generator=gen) < 0.05)
    words[:, 0] += 1  # no empty row
    graph = MultimodalGraph(coalesce(social.edge_index), numeric=words, y=social.y)  # as Cora's
    card = save_card(graph, tmp_path / "card")
    out = tmp_path / "embed_scaling.md"
    argv = ["--datasets", str(card), "--seeds", "0", "1", "--epochs", "2"]
    assert bench.main([*argv, "--root", str(tmp_path), "--out", str(out)]) == 0
    rows = [line for line in out.read_text().splitlines() if line.startswith(f"| {card} ")]
    assert [r.split("|")[2].strip() for r in rows] == list(bench.SCALINGS)
    scores = {r.split("|")[2].strip(): r.split("|")[3:8] for r in rows}
    for cells in scores.values():
        for cell in cells:
            mean, std = (float(v) for v in cell.split("±"))
            assert -1.0 <= mean <= 1.0 and std >= 0.0
    assert scores["auto"] != scores["standard"]  # auto is row here: another embedding
