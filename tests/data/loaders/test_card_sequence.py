"""Sequences in data set cards: list cells (wide), a long table, time order, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from mmgraph.data.loaders.card import load_card, save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.errors import InputError

NODES = """\
id,label,posts,likes,emb
a,bot,"[3, 0, 5]","[1, 1, 2]","[[0.5, 1], [0, 2], [1, 1]]"
b,human,[],[],
c,human,[7],[4],"[[2, 2]]"
"""


def card(folder: Path, sequence: Any, nodes: str = NODES, files: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nodes.csv").write_text(nodes)
    for name, text in (files or {}).items():
        (folder / name).write_text(text)
    doc = {"nodes": "nodes.csv", "id": "id", "label": "label", "modalities": {"sequence": sequence}}
    path = folder / "dataset.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_wide_columns_give_views_with_ragged_lengths(tmp_path: Path) -> None:
    graph = load_card(card(tmp_path, ["posts", "likes", "emb"]))
    assert graph.sequence_views == {"posts": 1, "likes": 1, "emb": 2}
    assert graph.sequence_length.tolist() == [3, 0, 1]
    assert graph.sequence_present.tolist() == [True, False, True]
    assert graph.sequence[0].tolist() == [[3, 1, 0.5, 1], [0, 1, 0, 2], [5, 2, 1, 1]]
    assert graph.sequence[2, 0].tolist() == [7, 4, 2, 2]


LONG = """\
user,day,posts,likes
c,2024-03-02,1,9
a,2024-03-03,5,2
a,2024-03-01,3,1
c,2024-03-01,7,4
a,2024-03-02,0,1
"""


def test_a_long_table_is_sorted_by_time_per_node(tmp_path: Path) -> None:
    spec = {"table": "activity.csv", "id": "user", "time": "day"}
    graph = load_card(card(tmp_path, spec, files={"activity.csv": LONG}))
    assert graph.sequence_views == {"posts": 1, "likes": 1}
    assert graph.sequence_length.tolist() == [3, 0, 2]
    assert graph.sequence[0].tolist() == [[3, 1], [0, 1], [5, 2]]  # 03-01, 03-02, 03-03
    assert graph.sequence[2].tolist() == [[7, 4], [1, 9], [0, 0]]  # padded after 2 steps
    numbers = LONG.replace("2024-03-0", "")  # day numbers 1, 2, 3 sort the same way
    spec = {"table": "activity.csv", "id": "user", "time": "day", "values": ["likes"]}
    again = load_card(card(tmp_path / "n", spec, files={"activity.csv": numbers}))
    assert again.sequence_views == {"likes": 1}
    assert again.sequence[0, :, 0].tolist() == [1, 1, 2]


@pytest.mark.parametrize(
    ("spec", "files", "nodes", "match"),
    [
        ("posts", None, NODES.replace("[7]", "[seven]"), r"JSON list .*posts.*data row 3"),
        ("posts", None, NODES.replace("[7]", '["7"]'), r"Step 0 .*'7', not a finite number"),
        ("posts", None, NODES.replace("[7]", "[NaN]"), "not a finite number"),
        (["posts", "likes"], None, NODES.replace("[4]", '"[4, 5]"'), "different lengths"),
        ("emb", None, NODES.replace("[[2, 2]]", "[[2, 2, 2]]"), "earlier rows"),
        ("emb", None, NODES.replace("[[2, 2]]", "[[2, 2], 3]"), "mixes numbers and lists"),
        (
            {"table": "a.csv", "id": "user", "time": "day"},
            {"a.csv": LONG + "a,2024-03-01,9,9\n"},
            NODES,
            r"two steps at day = '2024-03-01' .*data rows 3 and 6",
        ),
        (
            {"table": "a.csv", "id": "user", "time": "day"},
            {"a.csv": LONG.replace("5,2", "five,2")},
            NODES,
            r"Column 'posts' of the sequence table 'a.csv' holds 'five' in data row 2",
        ),
        (
            {"table": "a.csv", "id": "user", "time": "day"},
            {"a.csv": LONG.replace("c,2024-03-02", "z,2024-03-02")},
            NODES,
            r"names node 'z'",
        ),
        (
            {"table": "a.csv", "id": "user", "time": "day"},
            {"a.csv": LONG.replace("2024-03-02,0", "2,0")},
            NODES,
            "mixes numbers and dates",
        ),
        ({"file": "a.csv"}, None, NODES, "'table'"),
    ],
)
def test_bad_sequences_name_the_file_row_and_fix(
    tmp_path: Path, spec: Any, files: dict | None, nodes: str, match: str
) -> None:
    with pytest.raises(InputError, match=match):
        load_card(card(tmp_path, spec, nodes=nodes, files=files))


def test_a_long_table_outside_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.csv").write_text(LONG)
    with pytest.raises(InputError, match="outside the card's folder"):
        load_card(card(tmp_path / "card", {"table": "../outside.csv", "id": "user"}))


def test_save_card_round_trips_the_steps(tmp_path: Path) -> None:
    graph = load_card(card(tmp_path, ["posts", "likes", "emb"]))
    back = load_card(save_card(graph, tmp_path / "copy"))
    assert back.sequence_views == graph.sequence_views
    assert torch.equal(back.sequence_length, graph.sequence_length)
    assert torch.equal(back.sequence, graph.sequence)
    synthetic = make_social_graph(20, image_size=8, seed=0, with_activity=True, activity_days=4)
    again = load_card(save_card(synthetic, tmp_path / "synthetic", nodes_format="parquet"))
    assert torch.equal(again.sequence, synthetic.sequence)
    assert again.sequence_names == ["posts", "replies", "likes"]
