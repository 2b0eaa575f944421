"""WebKB loader (mmgraph.data.loaders.webkb)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from torch_geometric.utils import is_undirected

from mmgraph.data.loaders import load_webkb


def webkb_edges(csv: Path) -> set[tuple[int, int]]:
    table = pd.read_csv(csv)
    return {
        (int(u), int(v)) for u, nb in zip(table.node_id, table.neighbor_ids) for v in json.loads(nb)
    }


@pytest.mark.parametrize(("name", "pages"), [("Cornell", 191), ("Texas", 187)])
def test_webkb_counts_classes_and_links(shared_data: Path, name: str, pages: int) -> None:
    csv = shared_data / "webkb" / f"{name}.csv"
    g = load_webkb(csv, undirected=False)
    assert g.num_nodes == pages
    assert g.class_names == ["student", "faculty", "course", "project", "staff"]
    table = pd.read_csv(csv)
    assert [g.class_names[c] for c in g.y.tolist()] == table.category.tolist()
    assert g.text[0] == table.raw_text[0]
    links = webkb_edges(csv)
    assert {tuple(e) for e in g.edge_index.t().tolist()} == links
    assert g.edge_index.size(1) == len(links)
    sym = load_webkb(shared_data / "webkb", name.lower())
    assert is_undirected(sym.edge_index)
    assert {tuple(e) for e in sym.edge_index.t().tolist()} == links | {(v, u) for u, v in links}


def test_webkb_label_codes_differ_but_classes_agree(shared_data: Path) -> None:
    cornell = pd.read_csv(shared_data / "webkb" / "Cornell.csv")
    texas = pd.read_csv(shared_data / "webkb" / "Texas.csv")
    code = dict(zip(cornell.category, cornell.label))
    assert any(code[c] != lbl for c, lbl in zip(texas.category, texas.label))
    g = load_webkb(shared_data / "webkb" / "Texas.csv")
    assert Counter(g.label_name(c) for c in g.y.tolist()) == Counter(texas.category)


def test_webkb_errors(shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"is a folder: pass `name`.*'Cornell'"):
        load_webkb(shared_data / "webkb")
    with pytest.raises(FileNotFoundError, match="No 'Wisconsin.csv'"):
        load_webkb(shared_data / "webkb", "Wisconsin")
    header = "url,raw_text,category,node_id,label,len,neighbor_ids\n"
    cases = {
        "missing.csv": ("url,raw_text,node_id,neighbor_ids\nu,t,0,[]\n", r"'category'.* not found"),
        "cat.csv": (header + 'u,t,professor,0,0,1,"[]"\n', "Unknown category 'professor'"),
        "nb.csv": (header + "u,t,student,0,0,1,oops\n", "Expected 'neighbor_ids' .* row 1"),
        "unknown.csv": (header + 'u,t,student,0,0,1,"[7]"\n', "links to node id '7'"),
        "dup.csv": (
            header + 'u,t,student,0,0,1,"[]"\nv,t,staff,0,0,1,"[]"\n',
            "Duplicate node id '0'",
        ),
    }
    for file, (text, message) in cases.items():
        (tmp_path / file).write_text(text)
        with pytest.raises(ValueError, match=message):
            load_webkb(tmp_path / file)
