from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.registry import DATA_ROOT_ENV, DATASETS, _builtin_loaders, load_dataset
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.errors import InputError


def test_every_builtin_name_has_a_loader_and_its_files(shared_data: Path) -> None:
    loaders = _builtin_loaders()
    assert set(loaders) | {"synthetic", "synthetic-activity"} == set(DATASETS)
    for name, (rel, _) in loaders.items():
        assert (shared_data / rel).exists(), name
    assert all(isinstance(d, str) and d for d in DATASETS.values())


@pytest.mark.parametrize(
    ("name", "kind", "size"),
    [
        ("Cornell", MultimodalGraph, 191),
        ("TEXAS", MultimodalGraph, 187),
        ("country-flags", MultimodalGraph, 250),
        ("twibot20-sample", MultimodalGraph, 100),
        ("MUTAG", SubgraphDataset, 188),
        ("enzymes", SubgraphDataset, 600),
        ("IMDB-MULTI", SubgraphDataset, 1500),
    ],
)
def test_builtin_names(shared_data: Path, name: str, kind: type, size: int) -> None:
    data = load_dataset(name, root=shared_data)
    assert isinstance(data, kind)
    assert (data.num_nodes if isinstance(data, MultimodalGraph) else len(data)) == size


def test_root_from_environment(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_ROOT_ENV, str(shared_data))
    assert len(load_dataset("mutag")) == 188
    directed = load_dataset("cornell", undirected=False)  # kwargs reach the loader
    assert directed.edge_index.size(1) < load_dataset("cornell").edge_index.size(1)


def test_root_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(DATA_ROOT_ENV, raising=False)
    with pytest.raises(ValueError, match=r"pass `root=` \(`--root` on the command line\)"):
        load_dataset("cora")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_dataset("cora", root=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"Data set 'mutag' not found at .*tu/MUTAG"):
        load_dataset("mutag", root=tmp_path)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(
        ValueError,
        match=r"Unknown data set 'coraa' \(did you mean 'cora'\?\): valid names are \['synthetic'",
    ):
        load_dataset("coraa")
    with pytest.raises(ValueError, match=r"Unknown data set 'zzzz': valid names are"):
        load_dataset("zzzz")  # nothing close: no guess
    # a synthetic subgraph task is drawn, not shipped (coreness is not cornell)
    with pytest.raises(ValueError, match="'coreness' is a synthetic subgraph task .* generate"):
        load_dataset("coreness", root="/nonexistent-root")
    with pytest.raises(FileNotFoundError, match="No data set file or folder at"):
        load_dataset("some/missing/folder")


def test_paths_are_detected_by_their_files(shared_data: Path, tmp_path: Path) -> None:
    assert load_dataset(shared_data / "country-flags" / "dataset.yaml").num_nodes == 250
    assert load_dataset(str(shared_data / "country-flags")).num_nodes == 250
    subgnn = tmp_path / "subs"
    subgnn.mkdir()
    (subgnn / "edge_list.txt").write_text("0 1\n1 2\n")
    (subgnn / "subgraphs.pth").write_text("0-1\tA\ttrain\n2\tB\ttest\n")
    assert len(load_dataset(subgnn)) == 2
    assert len(load_dataset(shared_data / "tu" / "MUTAG")) == 188
    assert load_dataset(shared_data / "planetoid" / "Cora").num_nodes == 2708
    assert load_dataset(shared_data / "webkb" / "Cornell.csv").num_nodes == 191
    sample = shared_data / "twibot20-sample" / "TwiBot-20_sample.json"
    assert load_dataset(sample).num_nodes == 100
    tb22 = tmp_path / "tb22"
    tb22.mkdir()
    (tb22 / "user.json").write_text(json.dumps([{"id": "u1", "description": "hi"}]))
    assert load_dataset(tb22).node_id == ["u1"]
    with pytest.raises(ValueError, match="Cannot tell the format of the folder"):
        load_dataset(tmp_path)
    (tmp_path / "graph.bin").write_bytes(b"\0")
    with pytest.raises(ValueError, match=r"Cannot tell the format of .*graph.bin"):
        load_dataset(tmp_path / "graph.bin")


def test_a_cards_node_table_given_as_data_names_the_card(tmp_path: Path) -> None:
    """A .csv is read as a WebKB CSV; a card's table beside its card is pointed to the card."""
    card = tmp_path / "mine"
    card.mkdir()
    (card / "nodes.csv").write_text("id,x,y\na,1,p\nb,2,q\n")
    (card / "dataset.yaml").write_text("nodes: nodes.csv\nid: id\nlabel: y\n")
    with pytest.raises(InputError, match=r"not a WebKB CSV .* pass the card or its folder"):
        load_dataset(card / "nodes.csv")
    assert load_dataset(card).num_nodes == 2
    (card / "dataset.yaml").unlink()  # no card beside it: the WebKB loader says what lacks
    with pytest.raises(ValueError, match=r"not found in the WebKB CSV 'nodes.csv'"):
        load_dataset(card / "nodes.csv")


def test_a_builtin_name_that_is_also_a_folder_here_says_which_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = tmp_path / "synthetic"
    card.mkdir()
    (card / "nodes.csv").write_text("id,x,y\na,1,p\nb,2,q\n")
    (card / "dataset.yaml").write_text("nodes: nodes.csv\nid: id\nlabel: y\n")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match=r"'synthetic' names the built-in .* give './synthetic'"):
        assert load_dataset("synthetic", num_nodes=40, seed=0).num_nodes == 40
    assert load_dataset("./synthetic").num_nodes == 2  # the folder, as the warning says


def test_synthetic_passes_kwargs() -> None:
    g = load_dataset("Synthetic", num_nodes=40, seed=0)
    assert isinstance(g, MultimodalGraph) and g.num_nodes == 40


def test_synthetic_activity_is_synthetic_with_the_sequences() -> None:
    plain = load_dataset("synthetic", num_nodes=40, image_size=8, seed=0)
    active = load_dataset("synthetic-activity", num_nodes=40, image_size=8, seed=0)
    assert "sequence" not in plain.modalities and active.modalities[-1] == "sequence"
    assert active.sequence_names == ["posts", "replies", "likes"]
    assert torch.equal(plain.y, active.y) and torch.equal(plain.edge_index, active.edge_index)


def test_enzymes_and_imdb_multi_folds_and_classes(shared_data: Path) -> None:
    """The two held-out TU sets: their 10 folds partition the graphs; 6 and 3 classes."""
    for name, classes in (("enzymes", 6), ("imdb-multi", 3)):
        data = load_dataset(name, root=shared_data)
        assert data.whole_graphs and len(data.folds) == 10
        assert int(data.y.max()) + 1 == classes
        tests = torch.cat([test for _, test in data.folds])
        assert torch.equal(tests.sort().values, torch.arange(len(data)))


def test_a_name_that_is_not_built_in_is_found_under_the_root(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data laid out as the built-in sets are (planetoid/, tu/, webkb/) load by name."""
    import shutil

    root = tmp_path / "root"
    (root / "webkb").mkdir(parents=True)
    shutil.copy(shared_data / "webkb" / "Cornell.csv", root / "webkb" / "Wisconsin.csv")
    shutil.copytree(shared_data / "planetoid" / "Cora", root / "planetoid" / "PubMed-copy")
    shutil.copytree(shared_data / "tu" / "IMDBMULTI", root / "tu" / "IMDBBINARY")
    (root / "tu" / "IMDBBINARY" / "IMDBMULTI.txt").rename(
        root / "tu" / "IMDBBINARY" / "IMDBBINARY.txt"
    )
    wisconsin = load_dataset("wisconsin", root=root)
    assert isinstance(wisconsin, MultimodalGraph) and wisconsin.num_nodes == 191
    # case, '-' and '_' do not matter; the format comes from the files
    cora = load_dataset("PUBMED_copy", root=root)
    assert isinstance(cora, MultimodalGraph) and cora.num_nodes == 2708
    tu = load_dataset("imdb-binary", root=root)
    assert isinstance(tu, SubgraphDataset) and tu.whole_graphs and len(tu) == 1500
    monkeypatch.setenv(DATA_ROOT_ENV, str(root))  # the environment's root is searched too
    assert load_dataset("wisconsin").num_nodes == 191
    # two entries of one name: refused, naming both
    shutil.copy(shared_data / "webkb" / "Texas.csv", root / "Wisconsin.csv")
    with pytest.raises(ValueError, match=r"matches 2 entries under the data root: .*Wisconsin"):
        load_dataset("wisconsin", root=root)
    with pytest.raises(ValueError, match=r"Unknown data set 'nci1': .*tu/NCI1"):
        load_dataset("nci1", root=root)
