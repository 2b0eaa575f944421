from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.loaders import load_card, load_tu
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.data.summary import format_summary, summarize


def toy_graph() -> MultimodalGraph:
    # Node 4 is isolated; (0, 0) is a self loop; (2, 3) has no reverse.
    return MultimodalGraph(
        torch.tensor([[0, 1, 0, 2, 0], [1, 0, 0, 3, 1]]),
        text=["a", ["b", "c"], None, "", "d"],
        image=torch.zeros(5, 3, 4, 4),
        numeric=torch.tensor([[1.0], [math.nan], [2.0], [3.0], [4.0]]),
        categorical=torch.tensor([[1, 0], [2, 1], [0, 0], [1, 1], [0, 2]]),
        categorical_names=["lang", "verified"],
        categorical_vocabs=[["en", "fr"], ["no", "yes"]],
        edge_type=torch.tensor([0, 1, 1, 0, 0]),
        relation_names=["follower", "following"],
        edge_weight=torch.tensor([0.5, 1.0, 2.0, 1.0, 1.0]),
        y=torch.tensor([0, 1, 1, -1, 0]),
        class_names=["human", "bot"],
        positive_class=1,
        train_mask=torch.tensor([True, True, False, False, False]),
        val_mask=torch.tensor([False, False, True, False, False]),
        test_mask=torch.tensor([False, False, False, False, True]),
        name="toy",
    )


def test_graph_summary_matches_hand_counts() -> None:
    s = summarize(toy_graph())
    json.dumps(s)  # JSON-serialisable
    assert s["name"] == "toy"
    assert s["nodes"] == 5
    assert s["edges"] == 5
    # Distinct pairs {0-1, 1-0, 0-0, 2-3} plus the reverse 3-2.
    assert s["edges_symmetrised"] == 5
    assert s["undirected"] is False and "undirected_edges" not in s
    assert s["relations"] == {"follower": 3, "following": 2}
    assert s["self_loops"] == 1
    assert s["duplicate_edges"] == 1  # the last 0->1 "follower" repeats the first
    assert s["isolated_nodes"] == 1
    assert s["edge_weight"] == {"min": 0.5, "max": 2.0}
    assert s["modalities"]["text"] == {"nodes": 3, "texts": 4}
    assert s["modalities"]["image"] == {"nodes": 5, "shape": [3, 4, 4]}
    assert s["modalities"]["numeric"] == {"nodes": 4, "dim": 1}
    assert s["modalities"]["categorical"] == {
        "nodes": 4,
        "dim": 2,
        "vocab_sizes": {"lang": 2, "verified": 2},
    }
    assert s["num_classes"] == 2
    assert s["labels"] == {"human": 2, "bot": 2, "unlabelled": 1}
    assert s["positive_class"] == "bot"
    assert s["splits"] == {"train": 2, "val": 1, "test": 1}


def test_symmetric_graph_and_empty_edges() -> None:
    g = MultimodalGraph(torch.tensor([[0, 1], [1, 0]]), num_nodes=3)
    s = summarize(g)
    assert s["edges_symmetrised"] == 2 and s["undirected"] is True
    assert s["undirected_edges"] == 1  # the pair {0, 1}, once
    assert s["isolated_nodes"] == 1 and s["duplicate_edges"] == 0
    assert "labels" not in s and "splits" not in s and s["modalities"] == {}
    empty = summarize(MultimodalGraph(torch.empty(2, 0, dtype=torch.long), num_nodes=2))
    assert empty["edges"] == 0 and empty["isolated_nodes"] == 2 and empty["self_loops"] == 0


def test_duplicate_edges_count_per_relation() -> None:
    edges = torch.tensor([[0, 0, 0, 1], [1, 1, 1, 2]])
    plain = summarize(MultimodalGraph(edges, num_nodes=3))
    assert plain["duplicate_edges"] == 2
    typed = MultimodalGraph(edges, num_nodes=3, edge_type=torch.tensor([0, 1, 1, 0]))
    assert summarize(typed)["duplicate_edges"] == 1  # 0->1 once per relation, then again


def test_subgraph_summary() -> None:
    ds = SubgraphDataset.from_lists(
        toy_graph(),
        [[0, 1], [2, 3, 4], [4]],
        ["x", "y", "x"],
        split=["train", "test", "val"],
        name="subs",
    )
    s = summarize(ds)
    json.dumps(s)
    assert s["subgraphs"] == 3
    assert s["subgraph_sizes"] == {"min": 1, "mean": 2.0, "max": 3}
    assert s["labels"] == {"x": 2, "y": 1, "unlabelled": 0}
    assert s["splits"] == {"train": 1, "val": 1, "test": 1}
    assert "folds" not in s
    assert s["graph"]["nodes"] == 5


def test_real_data_summaries(shared_data: Path) -> None:
    flags = summarize(load_card(shared_data / "country-flags"))
    assert flags["nodes"] == 250 and flags["edges"] == 650
    assert flags["edges_symmetrised"] == 650 and flags["undirected"] is True
    assert flags["undirected_edges"] == 325  # the rows of its edges.csv (the data's README)
    assert flags["isolated_nodes"] == 85
    assert flags["relations"] == {"shares_land_border": 650}
    assert flags["labels"]["Africa"] == 59 and flags["labels"]["unlabelled"] == 0
    image = {"nodes": 250, "stored_as": "paths", "files_not_found": 0}
    assert flags["modalities"]["image"] == image
    mutag = summarize(load_tu(shared_data / "tu", "MUTAG"))
    assert mutag["subgraphs"] == 188
    assert mutag["folds"]["count"] == 10
    assert sum(v for k, v in mutag["labels"].items() if k != "unlabelled") == 188
    assert mutag["whole_graphs"] is True


def test_format_summary_is_aligned() -> None:
    text = format_summary(summarize(toy_graph()))
    lines = text.split("\n")
    top = [line for line in lines if not line.startswith(" ") and not line.endswith(":")]
    # Values of top-level scalars start in the same column.
    starts = {len(line) - len(line.split("  ")[-1].lstrip()) for line in top}
    assert len(starts) == 1
    assert any(line.startswith("nodes") and line.rstrip().endswith("5") for line in lines)
    assert "modalities:" in lines
    assert any(line.startswith("  text:") for line in lines)
    assert any(line.startswith("    nodes") for line in lines)
    assert any("undirected" in line and line.endswith("no") for line in lines)
    big = format_summary({"edges": 10556, "ratio": 0.123456, "name": None, "sizes": [1, 2]})
    assert "10,556" in big and "0.1235" in big and "name   -" in big and "1, 2" in big


def test_summarize_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="Expected a MultimodalGraph or a SubgraphDataset"):
        summarize({"nodes": 3})  # type: ignore[arg-type]
