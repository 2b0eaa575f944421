"""TU Dortmund format (PyG's TUDataset files): the same graphs as the DGCNN files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mmgraph.data import load_dataset, load_tu, load_tu_dortmund
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.errors import InputError


def write_dortmund(ds: SubgraphDataset, folder: Path, name: str, attributes: bool = False) -> Path:
    """Write a whole-graph set in the TU Dortmund format, nodes shuffled across graphs."""
    folder.mkdir(parents=True, exist_ok=True)
    n = ds.graph.num_nodes
    graph_of = torch.empty(n, dtype=torch.long)
    for g, nodes in enumerate(ds.subgraphs):
        graph_of[nodes] = g
    # a file order unlike the union's: interleave the graphs' nodes
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    position = torch.empty(n, dtype=torch.long)
    position[order] = torch.arange(n)
    src, dst = ds.graph.edge_index
    lines = [f"{int(a) + 1}, {int(b) + 1}" for a, b in zip(position[src], position[dst])]
    (folder / f"{name}_A.txt").write_text("\n".join(lines) + "\n")
    indicator = [str(int(graph_of[v]) + 1) for v in order]
    (folder / f"{name}_graph_indicator.txt").write_text("\n".join(indicator) + "\n")
    labels = [ds.class_names[int(y)] for y in ds.y]
    (folder / f"{name}_graph_labels.txt").write_text("\n".join(labels) + "\n")
    vocab = ds.graph.categorical_vocabs[0]
    tags = [vocab[int(ds.graph.categorical[v, 0]) - 1] for v in order]
    (folder / f"{name}_node_labels.txt").write_text("\n".join(tags) + "\n")
    if attributes:
        values = [f"{0.5 * int(v)}, {-float(int(v))}" for v in order]
        (folder / f"{name}_node_attributes.txt").write_text("\n".join(values) + "\n")
    return folder


@pytest.fixture(scope="module")
def mutag(shared_data: Path) -> SubgraphDataset:
    return load_tu(shared_data / "tu" / "MUTAG")


def test_the_same_graphs_as_the_dgcnn_files(mutag: SubgraphDataset, tmp_path: Path) -> None:
    folder = write_dortmund(mutag, tmp_path / "MUTAG" / "raw", "MUTAG")  # PyG's layout
    ds = load_dataset(tmp_path / "MUTAG")
    assert isinstance(ds, SubgraphDataset) and ds.whole_graphs
    assert ds.name == "MUTAG" and ds.graph.num_nodes == mutag.graph.num_nodes
    assert ds.class_names == mutag.class_names and torch.equal(ds.y, mutag.y)
    assert ds.graph.categorical_vocabs == mutag.graph.categorical_vocabs
    for g in (0, 1, 100, len(mutag.subgraphs) - 1):
        a, b = ds.subgraphs[g], mutag.subgraphs[g]
        assert len(a) == len(b)
        # each graph's nodes in the files' order: compare the multiset of tags and degrees
        assert sorted(ds.graph.categorical[a, 0].tolist()) == sorted(
            mutag.graph.categorical[b, 0].tolist()
        )
    assert ds.graph.edge_index.size(1) == mutag.graph.edge_index.size(1)
    degree = torch.bincount(ds.graph.edge_index[0], minlength=ds.graph.num_nodes)
    expected = torch.bincount(mutag.graph.edge_index[0], minlength=mutag.graph.num_nodes)
    assert sorted(degree.tolist()) == sorted(expected.tolist())
    assert ds.graph.node_id[int(ds.subgraphs[3][0])] == "3:0"
    # the folder, its raw/ folder and any of its files load the same set
    for path in (folder, folder / "MUTAG_A.txt", folder / "MUTAG_graph_labels.txt"):
        again = load_dataset(path)
        assert isinstance(again, SubgraphDataset) and torch.equal(again.y, ds.y)


def test_ten_seeded_stratified_folds(mutag: SubgraphDataset, tmp_path: Path) -> None:
    ds = load_tu_dortmund(write_dortmund(mutag, tmp_path / "MUTAG", "MUTAG"))
    assert ds.folds is not None and len(ds.folds) == 10
    tests = torch.cat([te for _, te in ds.folds])
    assert sorted(tests.tolist()) == list(range(len(ds.subgraphs)))  # a partition
    for train, test in ds.folds:
        assert not set(train.tolist()) & set(test.tolist())
        share = float(ds.y[test].float().mean())
        assert abs(share - float(ds.y.float().mean())) < 0.1  # stratified
    again = load_tu_dortmund(tmp_path / "MUTAG")
    assert all(torch.equal(a[1], b[1]) for a, b in zip(ds.folds, again.folds))  # seeded
    assert load_tu_dortmund(tmp_path / "MUTAG", folds=0).folds is None


def test_attributes_and_no_node_labels(mutag: SubgraphDataset, tmp_path: Path) -> None:
    folder = write_dortmund(mutag, tmp_path / "M", "M", attributes=True)
    (folder / "M_node_labels.txt").unlink()
    (folder / "M_edge_labels.txt").write_text("1\n")  # not read
    ds = load_tu_dortmund(folder)
    assert ds.graph.numeric is not None and ds.graph.numeric.shape == (ds.graph.num_nodes, 2)
    assert ds.graph.numeric_names == ["attribute_0", "attribute_1"]
    assert torch.equal(ds.graph.numeric[:, 1], -2 * ds.graph.numeric[:, 0])
    assert ds.graph.categorical_vocabs == [["0"]]  # one constant tag, as DGCNN files have


def test_a_class_smaller_than_the_folds_loads_without_folds(tmp_path: Path) -> None:
    folder = tmp_path / "TINY"
    folder.mkdir()
    (folder / "TINY_A.txt").write_text("1, 2\n2, 1\n3, 4\n4, 3\n")
    (folder / "TINY_graph_indicator.txt").write_text("1\n1\n2\n2\n")
    (folder / "TINY_graph_labels.txt").write_text("-1\n1\n")
    ds = load_tu_dortmund(folder)
    assert ds.folds is None and ds.class_names == ["-1", "1"]
    assert [s.tolist() for s in ds.subgraphs] == [[0, 1], [2, 3]]


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        ({"A": "1, 2\n2, 9\n"}, "names nodes 1..9 but"),
        ({"A": "1, 3\n"}, "joins nodes of two graphs"),
        ({"A": "1, x\n"}, "line 1 holds 'x'"),
        ({"A": "1, 2\n3\n"}, "Line 2 of"),
        ({"graph_indicator": "1\n1\n3\n3\n"}, "names graphs 1..3 but"),
        ({"graph_indicator": "1\n1\n1\n1\n"}, "Graph 2 of 'BAD' has no node"),
        ({"node_attributes": "1\nnan\n1\n1\n"}, "NaN or infinite"),
        ({"node_labels": "1\n1\n1\n"}, "3 lines for 4 nodes"),
        ({"graph_labels": None}, "lacks BAD_graph_labels.txt"),
    ],
)
def test_bad_files_are_named(edit: dict[str, str | None], match: str, tmp_path: Path) -> None:
    files = {
        "A": "1, 2\n2, 1\n3, 4\n4, 3\n",
        "graph_indicator": "1\n1\n2\n2\n",
        "graph_labels": "0\n1\n",
        **edit,
    }
    folder = tmp_path / "BAD"
    folder.mkdir()
    for part, text in files.items():
        if text is not None:
            (folder / f"BAD_{part}.txt").write_text(text)
    with pytest.raises(InputError, match=match):
        load_tu_dortmund(folder)


def test_a_folder_without_the_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No '<NAME>_A.txt'"):
        load_tu_dortmund(tmp_path)
