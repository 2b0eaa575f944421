"""SubGNN folder loader (mmgraph.data.loaders.subgnn)."""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from pathlib import Path

import pytest
from torch_geometric.utils import is_undirected

from mmgraph.data.loaders import load_subgnn
from mmgraph.data.subgraphs import SubgraphDataset


def read_subgnn(folder: Path) -> list[list[str]]:
    return [
        line.rstrip("\n").split("\t") for line in open(folder / "subgraphs.pth") if line.strip()
    ]


@pytest.mark.parametrize(
    ("name", "nodes", "classes"), [("density", 4998, 3), ("component", 17260, 2)]
)
def test_subgnn_sets(shared_data: Path, name: str, nodes: int, classes: int) -> None:
    folder = shared_data / "subgnn-synthetic" / name
    ds = load_subgnn(folder)
    assert isinstance(ds, SubgraphDataset)
    assert ds.name == name
    assert len(ds) == 250
    assert ds.graph.num_nodes == nodes
    assert ds.num_classes == classes
    rows = read_subgnn(folder)
    assert [ds.class_names[c] for c in ds.y.tolist()] == [r[1] for r in rows]
    splits = Counter(r[2] for r in rows)
    assert int(ds.train_mask.sum()) == splits["train"]
    assert int(ds.val_mask.sum()) == splits["val"]
    assert int(ds.test_mask.sum()) == splits["test"]
    assert ds.subgraphs[0].tolist() == [int(v) for v in rows[0][0].split("-")]
    pairs = {tuple(sorted(map(int, line.split()))) for line in open(folder / "edge_list.txt")}
    assert is_undirected(ds.graph.edge_index)
    assert ds.graph.edge_index.size(1) == 2 * len(pairs)
    assert not ds.whole_graphs and ds.folds is None


def test_subgnn_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="SubGNN data set folder not found"):
        load_subgnn(tmp_path / "none")
    (tmp_path / "edge_list.txt").write_text("0 1\n1 2\n")
    with pytest.raises(FileNotFoundError, match="SubGNN file 'subgraphs.pth' not found"):
        load_subgnn(tmp_path)
    cases = [
        ("0-1\tA\ttrain\tx\n", "got 4 tab-separated fields\\): one tab between"),
        ("0-x\tA\ttrain\n", "non-negative integer node id on line 1"),
        ("0,1\tA\ttrain\n", r"node ids joined by '-' on line 1 .*\(got '0,1'\): write them"),
        ("0 1\tA\ttrain\n", r"node ids joined by '-' on line 1"),
        # a split on every line or on none
        ("0-1\tA\ttrain\n1-2\tB\n", r"Line 2 of .* has no split and earlier lines have one"),
        ("0-1\tA\n1-2\tB\ttest\n", r"Line 2 of .* has a split and earlier lines none"),
        (
            "0-1\tA\tholdout\n",
            r"Unknown split 'holdout' on line 1.*'val' \(or 'valid'\) or 'test'$",
        ),
        ("0-7\tA\ttrain\n", "names node 7, which is not in the base graph"),
        ("", "lists no subgraphs"),
    ]
    for text, message in cases:
        (tmp_path / "subgraphs.pth").write_text(text)
        with pytest.raises(ValueError, match=message):
            load_subgnn(tmp_path)
    (tmp_path / "subgraphs.pth").write_text("0-1\tA\ttrain\n")
    (tmp_path / "edge_list.txt").write_text("0\n")
    with pytest.raises(ValueError, match="Expected 'u v' .* on line 1"):
        load_subgnn(tmp_path)
    (tmp_path / "edge_list.txt").write_text("0 b\n")
    with pytest.raises(ValueError, match="integer node id on line 1"):
        load_subgnn(tmp_path)


def test_a_file_without_splits_and_trailing_tabs_are_read(tmp_path: Path) -> None:
    """No split column on any line: the data set has none (a split is drawn for it)."""
    (tmp_path / "edge_list.txt").write_text("0 1\n1 2\n2 3\n")
    (tmp_path / "subgraphs.pth").write_text("0-1\tA\t\n1-2\tB \t\n2-3\tA\n")
    dataset = load_subgnn(tmp_path)
    assert dataset.class_names == ["A", "B"] and dataset.y.tolist() == [0, 1, 0]
    assert getattr(dataset, "train_mask", None) is None or not dataset.train_mask.any()


def test_subgraphs_numbered_otherwise_than_the_edge_list_are_warned_of(tmp_path: Path) -> None:
    """An edge list written 1-based beside 0-based subgraphs: every id is valid."""
    edges = [(k, k + 1) for k in range(1, 40)]  # a path 1-2-...-40
    (tmp_path / "edge_list.txt").write_text("".join(f"{u} {v}\n" for u, v in edges))
    lines = [f"{k}-{k + 2}\tA\ttrain\n" for k in range(0, 30, 3)]  # no edge inside any
    (tmp_path / "subgraphs.pth").write_text("".join(lines))
    with pytest.warns(UserWarning, match=r"10 of the 10 subgraphs .* have no edge between"):
        load_subgnn(tmp_path)
    lines = [f"{k}-{k + 1}\tA\ttrain\n" for k in range(1, 30, 3)]  # an edge in each
    (tmp_path / "subgraphs.pth").write_text("".join(lines))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_subgnn(tmp_path)


def test_labels_joined_by_dash_are_several_labels(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SubGNN's HPO-NEURO joins a subgraph's labels with '-': read as a 0/1 row each."""
    (tmp_path / "edge_list.txt").write_text("0 1\n1 2\n2 3\n")
    (tmp_path / "subgraphs.pth").write_text(
        "0-1\tA\ttrain\n1-2\tB\ttrain\n0-2\tA-B\ttest\n2-3\tC-A\tval\n"
    )
    data = load_subgnn(tmp_path)
    assert data.multi_label and data.class_names == ["A", "B", "C"]
    assert data.y.tolist() == [[1, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 1]]
    assert data.summary()["labels"] == {"A": 3, "B": 2, "C": 1, "unlabelled": 0}
    assert data.summary()["multi_label"] == {"labels_per_subgraph": 1.5, "with_several": 2}
    assert int(data.val_mask.sum()) == 1 and bool(data.labelled.all())
    # a label with '-' whose parts are not labels of the file is one class, and said so
    (tmp_path / "subgraphs.pth").write_text("0-1\tA-B\ttrain\n1-2\tA\ttest\n")
    with caplog.at_level(logging.WARNING, logger="mmgraph.data.loaders.subgnn"):
        single = load_subgnn(tmp_path)
    assert not single.multi_label and single.class_names == ["A", "A-B"]
    assert "1 labels contain '-' (e.g. 'A-B')" in caplog.text


def test_edge_list_read_at_once_equals_line_by_line(tmp_path: Path) -> None:
    """Plain digit pairs are parsed in one call; the same edges and errors as line by line."""
    from mmgraph.data.loaders import subgnn

    text = "0 1\n\n1\t2\r\n 3 0 \n2 3"
    fast = subgnn._edge_pairs(text)
    assert fast is not None and fast.tolist() == [[0, 1], [1, 2], [3, 0], [2, 3]]
    for odd in ("0 +1\n", "0 1 2\n", "0\n1\n", "0 -1\n", "0 ²\n", "0 99999999999999999999999\n"):
        assert subgnn._edge_pairs(odd) is None
    (tmp_path / "edge_list.txt").write_text(text)
    (tmp_path / "subgraphs.pth").write_text("0-1\tA\ttrain\n2-3\tB\ttest\n")
    data = load_subgnn(tmp_path)
    assert data.graph.num_nodes == 4 and data.graph.edge_index.size(1) == 8
    (tmp_path / "edge_list.txt").write_text("0 1\n\n1 5000\n")
    with pytest.raises(ValueError, match="names node 5000 on line 3 but has only 3 distinct"):
        load_subgnn(tmp_path)
    (tmp_path / "edge_list.txt").write_text("\n \n")
    with pytest.raises(ValueError, match="is empty"):
        load_subgnn(tmp_path)


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    """Windows editors start UTF-8 files with U+FEFF: the same data as without it."""
    edges, subgraphs = "0 1\r\n1 2\r\n2 3\r\n", "0-1\tA\ttrain\r\n2-3\tB\tval\r\n1-2\tA\ttest\r\n"
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "edge_list.txt").write_text(edges)
    (tmp_path / "plain" / "subgraphs.pth").write_text(subgraphs)
    (tmp_path / "bom").mkdir()
    (tmp_path / "bom" / "edge_list.txt").write_text("\ufeff" + edges, encoding="utf-8")
    (tmp_path / "bom" / "subgraphs.pth").write_text("\ufeff" + subgraphs, encoding="utf-8")
    plain, bom = load_subgnn(tmp_path / "plain"), load_subgnn(tmp_path / "bom")
    assert bom.graph.edge_index.tolist() == plain.graph.edge_index.tolist()
    assert [s.tolist() for s in bom.subgraphs] == [s.tolist() for s in plain.subgraphs]
    assert bom.y.tolist() == plain.y.tolist() and bom.class_names == plain.class_names


def test_a_repeated_edge_line_warns_and_both_directions_do_not(tmp_path: Path) -> None:
    """As a card warns of a repeated edge row; 'u v' and 'v u' are one undirected edge."""
    import warnings

    (tmp_path / "subgraphs.pth").write_text("0-1\tA\ttrain\n2-3\tB\ttest\n")
    (tmp_path / "edge_list.txt").write_text("0 1\n1 0\n1 2\n2 3\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        both = load_subgnn(tmp_path)
    (tmp_path / "edge_list.txt").write_text("0 1\n1 2\n0 1\n2 3\n1 2\n")
    with pytest.warns(UserWarning, match=r"2 lines of '.*edge_list.txt' repeat an earlier edge"):
        repeated = load_subgnn(tmp_path)
    assert repeated.graph.edge_index.tolist() == both.graph.edge_index.tolist()
