"""Planetoid (Cora, CiteSeer) loader (mmgraph.data.loaders.planetoid)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from torch_geometric.io import read_planetoid_data
from torch_geometric.utils import is_undirected

from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.loaders import load_planetoid


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def cora(shared_data: Path) -> MultimodalGraph:
    return load_planetoid(shared_data / "planetoid", "Cora")


def test_cora_counts_and_public_split(cora: MultimodalGraph) -> None:
    assert cora.num_nodes == 2708
    assert cora.num_classes == 7
    assert cora.edge_index.size(1) == 10556
    assert is_undirected(cora.edge_index)
    assert cora.numeric.shape == (2708, 1433)
    assert int(cora.train_mask.sum()) == 140
    assert int(cora.val_mask.sum()) == 500
    assert int(cora.test_mask.sum()) == 1000
    assert bool(cora.numeric_present.all())
    assert torch.bincount(cora.y[cora.train_mask]).tolist() == [20] * 7


def test_cora_matches_pyg_reader(cora: MultimodalGraph, shared_data: Path) -> None:
    data = read_planetoid_data(str(shared_data / "planetoid" / "Cora" / "raw"), "cora")
    assert torch.equal(cora.numeric, data.x)
    assert torch.equal(cora.y, data.y)
    assert torch.equal(cora.edge_index, data.edge_index)


def test_planetoid_root_variants_and_nothing_written(shared_data: Path) -> None:
    before = listing(shared_data / "planetoid")
    a = load_planetoid(shared_data / "planetoid" / "Cora", "cora")
    b = load_planetoid(shared_data / "planetoid" / "Cora" / "raw", "CORA")
    assert a.num_nodes == b.num_nodes == 2708
    assert listing(shared_data / "planetoid") == before


def test_citeseer_isolated_rows_are_missing(shared_data: Path) -> None:
    g = load_planetoid(shared_data / "planetoid", "citeseer")
    assert g.num_nodes == 3327
    assert g.num_classes == 6
    assert g.numeric.size(1) == 3703
    missing = ~g.numeric_present
    assert int(missing.sum()) == 15
    assert bool(torch.isnan(g.numeric[missing]).all())
    assert not bool(torch.isnan(g.numeric[~missing]).any())
    assert bool((g.y[missing] == -1).all())
    assert not bool((g.train_mask | g.val_mask | g.test_mask)[missing].any())
    # The missing rows are exactly the ids absent from the raw test index.
    raw = shared_data / "planetoid" / "CiteSeer" / "raw"
    test_index = {int(v) for v in (raw / "ind.citeseer.test.index").read_text().split()}
    span = set(range(min(test_index), max(test_index) + 1))
    assert set(missing.nonzero().view(-1).tolist()) == span - test_index
    # Other rows agree with PyG's reader.
    data = read_planetoid_data(str(raw), "citeseer")
    assert torch.equal(g.numeric[~missing], data.x[~missing])
    assert int(g.test_mask.sum()) == 1000


def test_planetoid_errors(shared_data: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"No Planetoid raw files 'ind.corra.\*'"):
        load_planetoid(shared_data / "planetoid", "corra")
    with pytest.raises(FileNotFoundError, match="Planetoid root folder not found"):
        load_planetoid(tmp_path / "nowhere", "cora")
    with pytest.raises(FileNotFoundError, match=r"No Planetoid raw files 'ind.cora.\*'"):
        load_planetoid(tmp_path, "cora")
    raw = tmp_path / "Cora" / "raw"
    shutil.copytree(shared_data / "planetoid" / "Cora" / "raw", raw)
    (raw / "ind.cora.tx").unlink()
    with pytest.raises(FileNotFoundError, match="'ind.cora.tx' not found"):
        load_planetoid(tmp_path, "cora")


def test_files_of_another_name_load_as_their_name(
    cora: MultimodalGraph, shared_data: Path, tmp_path: Path
) -> None:
    """Any set in this format loads, not only the three of the paper (sweep 6 F2)."""
    from mmgraph.data import load_dataset

    raw = tmp_path / "MyCites" / "raw"
    raw.mkdir(parents=True)
    for f in (shared_data / "planetoid" / "Cora" / "raw").iterdir():
        shutil.copy(f, raw / f.name.replace("ind.cora.", "ind.MyCites."))
    for path in (tmp_path / "MyCites", raw):
        graph = load_dataset(path)
        assert graph.name == "MyCites"
        assert torch.equal(graph.edge_index, cora.edge_index)
        assert torch.equal(graph.numeric, cora.numeric) and torch.equal(graph.y, cora.y)
        assert torch.equal(graph.test_mask, cora.test_mask)
    # by name under a root, as any other set there
    assert load_dataset("mycites", root=tmp_path).num_nodes == cora.num_nodes
