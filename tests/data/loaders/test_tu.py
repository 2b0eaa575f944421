"""TU graph classification loader (mmgraph.data.loaders.tu)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch
from torch_geometric.utils import is_undirected

from mmgraph.data import load_dataset
from mmgraph.data.loaders import load_tu
from mmgraph.data.loaders.tu import is_tu_folder


def parse_tu(path: Path) -> tuple[list[int], list[str]]:
    lines = [line.split() for line in path.read_text().split("\n") if line.strip()]
    sizes, labels, i = [], [], 1
    for _ in range(int(lines[0][0])):
        n, label = int(lines[i][0]), lines[i][1]
        sizes.append(n)
        labels.append(label)
        i += n + 1
    return sizes, labels


@pytest.mark.parametrize(("name", "graphs"), [("MUTAG", 188), ("PTC", 344)])
def test_tu_sets(shared_data: Path, name: str, graphs: int) -> None:
    ds = load_tu(shared_data / "tu", name)
    assert len(ds) == graphs
    assert ds.whole_graphs
    assert ds.num_classes == 2
    sizes, labels = parse_tu(shared_data / "tu" / name / f"{name}.txt")
    assert ds.sizes().tolist() == sizes
    assert ds.graph.num_nodes == sum(sizes)
    assert Counter(ds.class_names[c] for c in ds.y.tolist()) == Counter(labels)
    # Subgraphs tile the base graph and no edge crosses two graphs.
    nodes, batch = ds.subgraph_index()
    assert torch.equal(nodes, torch.arange(ds.graph.num_nodes))
    src, dst = ds.graph.edge_index
    assert torch.equal(batch[src], batch[dst])
    assert is_undirected(ds.graph.edge_index)
    assert ds.graph.categorical_names == ["tag"]
    assert bool(ds.graph.categorical_present.all())
    # Ten 0-based folds whose parts are disjoint and cover every graph.
    assert ds.folds is not None and len(ds.folds) == 10
    for train_idx, test_idx in ds.folds:
        assert train_idx.numel() + test_idx.numel() == graphs
        assert int(torch.cat([train_idx, test_idx]).min()) == 0
    fold1 = (shared_data / "tu" / name / "10fold_idx" / "test_idx-1.txt").read_text().split()
    assert ds.folds[0][1].tolist() == [int(v) for v in fold1]


def test_tu_root_variants(shared_data: Path) -> None:
    a = load_tu(shared_data / "tu" / "MUTAG")
    b = load_tu(shared_data / "tu" / "MUTAG" / "MUTAG.txt")
    assert a.name == b.name == "MUTAG"
    assert len(a) == len(b) == 188


TINY_TU = """2
2 1
3 1 1 0.5
4 1 0 1.5
3 -1
3 2 1 2 2.0
3 1 0 1.0
5 1 0 0.0
"""


def test_tu_features_and_one_based_folds(tmp_path: Path) -> None:
    folder = tmp_path / "TINY"
    (folder / "10fold_idx").mkdir(parents=True)
    (folder / "TINY.txt").write_text(TINY_TU)
    (folder / "10fold_idx" / "train_idx-1.txt").write_text("1\n")
    (folder / "10fold_idx" / "test_idx-1.txt").write_text("2\n")
    ds = load_tu(folder)
    assert ds.class_names == ["-1", "1"]
    assert ds.y.tolist() == [1, 0]
    assert ds.graph.numeric.view(-1).tolist() == [0.5, 1.5, 2.0, 1.0, 0.0]
    assert ds.graph.categorical_vocabs == [["3", "4", "5"]]
    assert ds.graph.categorical.view(-1).tolist() == [1, 2, 1, 1, 3]
    assert ds.folds is not None
    assert ds.folds[0][0].tolist() == [0] and ds.folds[0][1].tolist() == [1]
    assert ds.graph.node_id[2] == "1:0"
    assert ds.graph.edge_index.tolist() == [[0, 1, 2, 2, 3, 4], [1, 0, 3, 4, 2, 2]]


def _two_class_set(graphs: int = 20) -> str:
    """``graphs`` two-node graphs, labels alternating 0 and 1, in the DGCNN format."""
    lines = [str(graphs)]
    for g in range(graphs):
        lines += [f"2 {g % 2}", "0 1 1", "0 1 0"]
    return "\n".join(lines) + "\n"


def test_a_renamed_folder_is_read_by_its_one_file(tmp_path: Path) -> None:
    """`cp -r TRI TRI_v2` made the set unreadable: the folder's name must have named the file."""
    folder = tmp_path / "TINY_v2"
    folder.mkdir()
    (folder / "TINY.txt").write_text(TINY_TU)
    assert is_tu_folder(folder)
    ds = load_dataset(folder)
    assert ds.name == "TINY" and len(ds) == 2
    (folder / "notes.txt").write_text("not a set\n")  # two text files: no guess
    assert not is_tu_folder(folder)


def test_without_a_fold_folder_ten_seeded_stratified_folds_are_drawn(tmp_path: Path) -> None:
    """As for TU Dortmund files; it was one 80/10/10 split, printed as the set's own."""
    from sklearn.model_selection import StratifiedKFold

    folder = tmp_path / "PAIRS"
    folder.mkdir()
    (folder / "PAIRS.txt").write_text(_two_class_set())
    ds = load_tu(folder)
    assert ds.folds is not None and len(ds.folds) == 10
    labels = [g % 2 for g in range(20)]
    expected = StratifiedKFold(10, shuffle=True, random_state=0).split([[0]] * 20, labels)
    for (train, test), (want_train, want_test) in zip(ds.folds, expected, strict=True):
        assert train.tolist() == want_train.tolist() and test.tolist() == want_test.tolist()
    assert load_tu(folder).folds[3][1].tolist() == ds.folds[3][1].tolist()  # seeded


def test_tu_errors(tmp_path: Path) -> None:
    folder = tmp_path / "BAD"
    folder.mkdir()
    with pytest.raises(FileNotFoundError, match="No 'BAD.txt' found"):
        load_tu(folder)
    cases = [
        ("2\n1 0\n0 0\n", "ends early"),
        ("1\n2 0\n0 1 5\n0 0\n", "names neighbour 5 but the graph has 2 nodes"),
        ("1\n1 0\n0 2 0\n", "has degree 2 but lists 1 values"),
        ("1\n1 0\n0\n", "Expected 'tag degree neighbours...'"),
        ("1\nx 0\n", "Expected integers for the node count"),
        ("1\n2 0\n0 0 1.0\n0 0\n", "Node feature counts differ"),
    ]
    for text, message in cases:
        (folder / "BAD.txt").write_text(text)
        with pytest.raises(ValueError, match=message):
            load_tu(folder)
    (folder / "BAD.txt").write_text("2\n1 0\n0 0\n1 1\n0 0\n")
    (folder / "10fold_idx").mkdir()
    (folder / "10fold_idx" / "train_idx-1.txt").write_text("0\n")
    with pytest.raises(FileNotFoundError, match="Fold 1 has no 'test_idx-1.txt'"):
        load_tu(folder)
    (folder / "10fold_idx" / "test_idx-1.txt").write_text("5\n")
    with pytest.raises(ValueError, match="Fold indices .* run 0..5 but there are 2 graphs"):
        load_tu(folder)
    (folder / "10fold_idx" / "test_idx-1.txt").write_text("0\n")
    with pytest.raises(ValueError, match="Fold 0 has 1 subgraphs in both its train and test"):
        load_tu(folder)
    (folder / "10fold_idx" / "test_idx-1.txt").write_text("one\n")
    with pytest.raises(ValueError, match="Expected one graph index a line"):
        load_tu(folder)


def test_a_class_with_one_graph_is_warned_of_on_folds(tmp_path: Path) -> None:
    """The README promises the warning for `subgraph train`; folds skipped it."""
    from mmgraph.tasks.subgraph import _warn_of_rare_classes_in_folds

    folder = tmp_path / "STRAY"
    (folder / "10fold_idx").mkdir(parents=True)
    lines = _two_class_set(8).splitlines()
    lines[-3] = "2 yes"  # the last graph's label
    (folder / "STRAY.txt").write_text("\n".join(lines) + "\n")
    for k, test in enumerate([[0, 1], [2, 3], [4, 5], [6, 7]], start=1):
        train = [i for i in range(8) if i not in test]
        (folder / "10fold_idx" / f"train_idx-{k}.txt").write_text("\n".join(map(str, train)))
        (folder / "10fold_idx" / f"test_idx-{k}.txt").write_text("\n".join(map(str, test)))
    ds = load_tu(folder)
    assert ds.class_names == ["0", "1", "yes"]
    with pytest.warns(UserWarning) as caught:
        _warn_of_rare_classes_in_folds(ds, ds.labelled)
    said = {str(w.message) for w in caught}  # one sentence a kind, however many folds
    assert {m.split(":")[0] for m in said} == {
        "In 'STRAY', in some folds, class 'yes' has one training graph",
        "In 'STRAY', in some folds, class 'yes' has no training graph, so it is never "
        "predicted. Label more graphs of it, or merge it into another class",
    }
