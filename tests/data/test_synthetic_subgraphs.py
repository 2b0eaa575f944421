"""The synthetic tasks: seeded, labels that follow their property, SubGNN file round trip."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import networkx as nx
import pytest
import torch

from mmgraph.data import SubgraphDataset, load_subgnn
from mmgraph.data.synthetic_subgraphs import (
    SYNTHETIC_TASKS,
    make_component,
    make_coreness,
    make_cut_ratio,
    make_density,
    make_position,
    make_position_multilabel,
    make_synthetic_subgraphs,
    quantile_labels,
    save_subgnn,
    subgraph_components,
    subgraph_coreness,
    subgraph_cut_ratio,
    subgraph_density,
)

_BLOCKS = {
    "num_blocks": 6,
    "block_size": 30,
    "p_in": 0.3,
    "p_out": 0.01,
    "num_subgraphs": 40,
    "min_size": 4,
    "max_size": 8,
}
SMALL = {
    "density": {"num_nodes": 300, "num_subgraphs": 40, "subgraph_size": 10},
    "cut_ratio": {"num_nodes": 300, "num_subgraphs": 40, "subgraph_size": 10},
    "coreness": {"num_nodes": 400, "subgraphs_per_core": 6, "subgraph_size": 8},
    "component": {"num_nodes": 100, "num_subgraphs": 30, "component_size": 6, "m": 2},
    "position": _BLOCKS,
    "position_multilabel": {**_BLOCKS, "num_classes": 3},
}

PROPERTY = {
    "density": subgraph_density,
    "cut_ratio": subgraph_cut_ratio,
    "coreness": subgraph_coreness,
}


def to_nx(dataset: SubgraphDataset) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(int(dataset.graph.num_nodes)))
    graph.add_edges_from(dataset.graph.edge_index.t().tolist())
    return graph


def majority_class(dataset: SubgraphDataset, nodes: list[int]) -> int:
    """The class of the block most of ``nodes`` lie in (ties: the seed's, ``nodes[0]``)."""
    blocks = dataset.graph.block[nodes].tolist()
    # Blocks in order of first appearance, the seed's first; max keeps the first of a tie.
    winner = max(dict.fromkeys(blocks), key=blocks.count)
    return int(dataset.graph.block_class[nodes[blocks.index(winner)]])


def label_rows(dataset: SubgraphDataset) -> list[list[int]]:
    """The 0/1 label rows of the multi-label rule, recomputed from the block fields.

    A subgraph's labels: the classes of the blocks holding at least a quarter of its nodes,
    and the class of its majority block (ties: the first seed's block, ``nodes[0]``).
    """
    rows = []
    for s in dataset.subgraphs:
        nodes = s.tolist()
        blocks = dataset.graph.block[nodes].tolist()
        chosen = {max(dict.fromkeys(blocks), key=blocks.count)}
        chosen |= {b for b in blocks if 4 * blocks.count(b) >= len(blocks)}
        classes = {int(dataset.graph.block_class[nodes[blocks.index(b)]]) for b in chosen}
        rows.append([int(k in classes) for k in range(dataset.num_classes)])
    return rows


def fingerprint(dataset: SubgraphDataset) -> str:
    """A digest of the subgraphs, labels, split, edges and block fields of a position task."""
    digest = hashlib.sha256()
    parts = [
        [s.tolist() for s in dataset.subgraphs],
        dataset.y.tolist(),
        [getattr(dataset, f"{k}_mask").tolist() for k in ("train", "val", "test")],
        dataset.graph.edge_index.tolist(),
        dataset.graph.block.tolist(),
        dataset.graph.block_class.tolist(),
    ]
    for part in parts:
        digest.update(repr(part).encode())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="module", params=SYNTHETIC_TASKS)
def generated(request: pytest.FixtureRequest) -> tuple[str, SubgraphDataset]:
    task = request.param
    return task, make_synthetic_subgraphs(task, seed=3, **SMALL[task])


def test_seeded_and_valid(generated: tuple[str, SubgraphDataset]) -> None:
    task, dataset = generated
    again = make_synthetic_subgraphs(task, seed=3, **SMALL[task])
    other = make_synthetic_subgraphs(task, seed=4, **SMALL[task])
    assert torch.equal(dataset.graph.edge_index, again.graph.edge_index)
    assert all(torch.equal(a, b) for a, b in zip(dataset.subgraphs, again.subgraphs))
    assert torch.equal(dataset.y, again.y)
    assert not torch.equal(dataset.graph.edge_index, other.graph.edge_index)
    dataset.validate()
    assert dataset.name == task
    graph = to_nx(dataset)
    assert nx.is_connected(graph)  # cut to the largest component, relabelled 0..N-1
    # An 80/10/10 split covering every subgraph once.
    masks = torch.stack([dataset.train_mask, dataset.val_mask, dataset.test_mask])
    assert bool((masks.sum(0) == 1).all())
    assert int(dataset.train_mask.sum()) == int(len(dataset) * 0.8)


def test_labels_follow_the_property(generated: tuple[str, SubgraphDataset]) -> None:
    task, dataset = generated
    graph = to_nx(dataset)
    if task == "component":
        counts = [subgraph_components(graph, s.tolist()) for s in dataset.subgraphs]
        assert dataset.class_names == ["A", "B"]
        assert [int(c > 1) for c in counts] == dataset.y.tolist()
        assert {1} < set(counts) and max(counts) <= 10
        return
    if task == "position":
        assert dataset.y.tolist() == [
            majority_class(dataset, s.tolist()) for s in dataset.subgraphs
        ]
        assert dataset.class_names == ["A", "B", "C"]
        return
    if task == "position_multilabel":
        assert dataset.multi_label and dataset.y.tolist() == label_rows(dataset)
        assert dataset.class_names == ["A", "B", "C"]
        return
    values = [PROPERTY[task](graph, s.tolist()) for s in dataset.subgraphs]
    assert dataset.y.tolist() == quantile_labels(values, 3)
    assert dataset.class_names == ["A", "B", "C"]
    # Classes are ordered by the property: every value of class k is below class k + 1's.
    for k in range(2):
        low = max(v for v, y in zip(values, dataset.y.tolist()) if y == k)
        high = min(v for v, y in zip(values, dataset.y.tolist()) if y == k + 1)
        assert low < high


def test_recipes_shape_the_subgraphs() -> None:
    # Without edits, density's subgraphs are BFS balls: connected.
    density = make_density(num_nodes=300, num_subgraphs=20, subgraph_size=10, max_tries=0, seed=0)
    graph = to_nx(density)
    assert all(
        len(s) == 10 and nx.is_connected(graph.subgraph(s.tolist())) for s in density.subgraphs
    )
    cut = make_cut_ratio(num_nodes=300, num_subgraphs=10, subgraph_size=8, max_tries=0, seed=0)
    graph = to_nx(cut)
    assert all(subgraph_density(graph, s.tolist()) == 1.0 for s in cut.subgraphs)  # cliques
    core = make_coreness(num_nodes=300, subgraphs_per_core=2, subgraph_size=6, seed=0)
    assert all(len(set(s.tolist())) == 6 for s in core.subgraphs)
    comp = make_component(
        num_nodes=80, num_subgraphs=12, component_size=5, m=2, component_counts=(3,), seed=0
    )
    graph = to_nx(comp)
    for s in comp.subgraphs:  # three components of 5 nodes, each stapled by one edge
        nodes = set(s.tolist())
        assert len(nodes) == 15 and subgraph_components(graph, s.tolist()) == 3
        boundary = sum(1 for v in nodes for u in graph.neighbors(v) if u not in nodes)
        # Later subgraphs may be stapled onto this one's nodes (as in SubGNN's generator).
        assert boundary >= 3
    last = set(comp.subgraphs[-1].tolist())
    assert sum(1 for v in last for u in graph.neighbors(v) if u not in last) == 3
    assert set(comp.y.tolist()) == {1}


def test_position_defaults_make_a_blocky_base_graph() -> None:
    dataset = make_position(seed=0)
    graph = dataset.graph
    src, dst = graph.edge_index
    assert 4400 <= graph.num_nodes <= 4500  # 30 blocks of 150, cut to the largest component
    assert 9.0 < src.numel() / graph.num_nodes < 11.0  # average degree about 10
    leaving = float((graph.block[src] != graph.block[dst]).double().mean())
    assert 0.2 < leaving < 0.3
    # Every block has one class; the 30 blocks are dealt 10 to each of the 3 classes.
    block_class = {}
    for b, k in zip(graph.block.tolist(), graph.block_class.tolist()):
        assert block_class.setdefault(b, k) == k
    assert sorted(block_class) == list(range(30))
    assert [list(block_class.values()).count(k) for k in range(3)] == [10, 10, 10]
    assert block_class != {b: b % 3 for b in range(30)}  # dealt in a random order
    assert len(dataset) == 250 and set(dataset.y.tolist()) == {0, 1, 2}
    sizes = [len(s) for s in dataset.subgraphs]
    assert min(sizes) >= 10 and max(sizes) <= 20 and len(set(sizes)) > 5
    # Mostly, not fully, inside the seed's block.
    inside = [
        float((graph.block[s] == graph.block[s[0]]).double().mean()) for s in dataset.subgraphs
    ]
    assert 0.6 < sum(inside) / len(inside) < 0.95


def test_position_subgraphs_are_grown_along_edges() -> None:
    kwargs = {"num_blocks": 4, "block_size": 25, "p_in": 0.4, "p_out": 0.02, "num_subgraphs": 30}
    dataset = make_position(min_size=5, max_size=9, seed=2, num_classes=2, **kwargs)
    graph = to_nx(dataset)
    for s in dataset.subgraphs:
        nodes = s.tolist()
        assert 5 <= len(nodes) <= 9 and len(set(nodes)) == len(nodes)
        assert nx.is_connected(graph.subgraph(nodes))
    assert dataset.y.tolist() == [majority_class(dataset, s.tolist()) for s in dataset.subgraphs]
    assert dataset.class_names == ["A", "B"]
    # stay=1 never leaves the seed's block (each block is connected at p_in=0.4).
    home = make_position(min_size=5, max_size=9, stay=1.0, seed=2, **kwargs)
    for s, y in zip(home.subgraphs, home.y.tolist()):
        assert len(set(home.graph.block[s].tolist())) == 1
        assert y == int(home.graph.block_class[s[0]])
    # Disjoint triangles: the frontier runs out at 3 nodes, short of the 5 asked for.
    short = make_position(
        num_blocks=3, block_size=3, p_in=1.0, p_out=0.0, min_size=5, max_size=5, seed=0
    )
    assert short.graph.num_nodes == 3 and all(len(s) == 3 for s in short.subgraphs)


def test_quantile_labels_match_subgnn_binning() -> None:
    values = [0.1, 0.5, 0.2, 0.9, 0.7, 0.3]
    # Sorted: 0.1 0.2 0.3 0.5 0.7 0.9; thresholds at positions 1 and 3: 0.2 and 0.5.
    assert quantile_labels(values, 3) == [0, 2, 1, 2, 2, 1]
    assert quantile_labels([1.0, 1.0, 1.0], 3) == [1, 1, 1]  # ties merge thresholds
    assert quantile_labels([], 3) == []


def test_save_subgnn_round_trip(tmp_path: Path) -> None:
    dataset = make_density(num_nodes=120, num_subgraphs=15, subgraph_size=6, seed=1)
    folder = save_subgnn(dataset, tmp_path / "density")
    loaded = load_subgnn(folder)
    assert torch.equal(loaded.graph.edge_index, dataset.graph.edge_index)
    assert loaded.class_names == dataset.class_names
    assert torch.equal(loaded.y, dataset.y)
    assert all(torch.equal(a, b) for a, b in zip(loaded.subgraphs, dataset.subgraphs))
    for key in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(getattr(loaded, key), getattr(dataset, key))


def test_save_subgnn_round_trip_position(tmp_path: Path) -> None:
    dataset = make_synthetic_subgraphs("position", seed=5, **SMALL["position"])
    loaded = load_subgnn(save_subgnn(dataset, tmp_path / "position"))
    assert torch.equal(loaded.graph.edge_index, dataset.graph.edge_index)
    assert loaded.class_names == dataset.class_names == ["A", "B", "C"]
    assert torch.equal(loaded.y, dataset.y)
    assert all(torch.equal(a, b) for a, b in zip(loaded.subgraphs, dataset.subgraphs))
    for key in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(getattr(loaded, key), getattr(dataset, key))


def test_validation_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Unknown synthetic subgraph task 'diameter'"):
        make_synthetic_subgraphs("diameter")
    with pytest.raises(TypeError, match="'num_nodes' to be an int"):
        make_density(num_nodes=10.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"more than 5 nodes .*--nodes on the command line"):
        make_density(num_nodes=5, m=5, subgraph_size=3)
    with pytest.raises(ValueError, match=r"'subgraph_size' <= 'num_nodes' \(got 20 > 10\)"):
        make_density(num_nodes=10, subgraph_size=20)  # would be the whole graph, 20 times
    with pytest.warns(UserWarning, match="asked for 3 classes and its 2 subgraphs make 1"):
        make_density(num_nodes=400, num_subgraphs=2, num_classes=3, seed=0)
    with pytest.raises(ValueError, match="'targets'"):
        make_cut_ratio(targets=())
    with pytest.raises(ValueError, match="'split'"):
        make_density(split=(0.9, 0.2, 0.1))
    with pytest.raises(TypeError, match="'seed' to be an int"):
        make_density(seed="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'p' in \\[0, 1\\]"):
        make_coreness(p=1.5)
    with pytest.raises(ValueError, match="No core number"):
        make_coreness(num_nodes=30, subgraph_size=40)
    with pytest.raises(ValueError, match="one attach probability per hop fraction"):
        make_component(hop_fractions=(0.5,), attach_probs=(0.1, 0.2))
    with pytest.raises(ValueError, match="'component_counts'"):
        make_component(component_counts=(0,))
    with pytest.raises(ValueError, match="'num_blocks' to be at least 3"):
        make_position(num_blocks=2)
    with pytest.raises(ValueError, match="'num_classes' to be at least 2"):
        make_position(num_classes=1)
    with pytest.raises(ValueError, match="'min_size' to be at least 2"):
        make_position(min_size=1)
    with pytest.raises(ValueError, match="'max_size' to be at least 10"):
        make_position(max_size=8)
    for name in ("p_in", "p_out", "stay"):
        with pytest.raises(ValueError, match=f"'{name}' in \\[0, 1\\]"):
            make_position(**{name: 1.5})
    with pytest.raises(ValueError, match="raise 'p_in' or 'p_out'"):
        make_position(num_blocks=3, block_size=5, p_in=0.0, p_out=0.0)
    unlabelled = make_density(
        num_nodes=60, num_subgraphs=5, subgraph_size=4, split=(0, 0, 0), seed=0
    )
    with pytest.raises(ValueError, match="no label or no split"):
        save_subgnn(unlabelled, tmp_path / "x")


def test_position_unchanged() -> None:
    # Digests recorded before make_position's walk was shared with the multi-label task.
    assert fingerprint(make_position(seed=0)) == "db1b391f808c5170"
    assert fingerprint(make_position(seed=100)) == "f42436da5df8c1d9"
    assert fingerprint(make_position(seed=3, **SMALL["position"])) == "1f4db9efbbdc33ff"


def test_position_multilabel_defaults() -> None:
    dataset = make_position_multilabel(seed=0)
    again = make_synthetic_subgraphs("position-multilabel", seed=0)
    assert fingerprint(dataset) == fingerprint(again)
    assert dataset.name == "position_multilabel" and len(dataset) == 250
    assert dataset.multi_label and list(dataset.y.shape) == [250, 6]
    assert dataset.class_names == ["A", "B", "C", "D", "E", "F"]
    assert dataset.y.tolist() == label_rows(dataset)
    counts = dataset.y.sum(dim=1).tolist()
    assert 1 in counts and 2 in counts and min(counts) == 1  # one label at least
    assert 0.4 < counts.count(1) / len(counts) < 0.8
    assert bool((dataset.y.sum(dim=0) > 0).all())  # every class occurs
    for s in dataset.subgraphs:
        assert 10 <= s.numel() <= 20 and len(set(s.tolist())) == s.numel()
    graph = to_nx(dataset)
    scattered = sum(not nx.is_connected(graph.subgraph(s.tolist())) for s in dataset.subgraphs)
    assert 0 < scattered < len(dataset)
    # make_position's base graph: same edges and blocks; the blocks dealt in the same order
    # to 6 classes instead of 3.
    position = make_position(seed=0)
    assert torch.equal(dataset.graph.edge_index, position.graph.edge_index)
    assert torch.equal(dataset.graph.block, position.graph.block)
    assert torch.equal(dataset.graph.block_class % 3, position.graph.block_class)
    masks = torch.stack([dataset.train_mask, dataset.val_mask, dataset.test_mask])
    assert bool((masks.sum(0) == 1).all()) and masks.sum(1).tolist() == [200, 25, 25]


def test_position_multilabel_parts() -> None:
    # Cliques for blocks and stay=1: each part fills its seed's block only. Size 10 over 3
    # seeds: parts of 4, 3 and 3 nodes, one after the other, each its seed first.
    dataset = make_position_multilabel(
        num_blocks=8,
        block_size=20,
        p_in=1.0,
        p_out=0.05,
        num_subgraphs=30,
        min_size=10,
        max_size=10,
        stay=1.0,
        num_classes=4,
        seed_probs=(0.0, 0.0, 1.0),
        seed=1,
    )
    block = dataset.graph.block
    for s, row in zip(dataset.subgraphs, dataset.y.tolist()):
        parts = [s[:4], s[4:7], s[7:]]
        assert s.numel() == 10 and len(set(s.tolist())) == 10
        assert all(len(set(block[part].tolist())) == 1 for part in parts)
        # Every part holds at least a quarter of 10 nodes: each seed's class is a label.
        classes = {int(dataset.graph.block_class[part[0]]) for part in parts}
        assert row == [int(k in classes) for k in range(4)]
    assert dataset.y.tolist() == label_rows(dataset)
    assert max(dataset.y.sum(dim=1).tolist()) >= 2
    # One seed and min_share=1: the majority block's class alone.
    single = make_position_multilabel(
        num_blocks=6,
        block_size=20,
        p_in=0.3,
        num_subgraphs=20,
        seed_probs=(1.0,),
        min_share=1.0,
        seed=2,
    )
    for s, row in zip(single.subgraphs, single.y.tolist()):
        assert row == [int(k == majority_class(single, s.tolist())) for k in range(6)]
    assert set(single.y.sum(dim=1).tolist()) == {1}


def test_save_subgnn_round_trip_multilabel(tmp_path: Path) -> None:
    for seed in (0, 1, 2):
        dataset = make_position_multilabel(seed=seed)
        folder = save_subgnn(dataset, tmp_path / f"multi{seed}")
        loaded = load_subgnn(folder)
        assert loaded.multi_label and loaded.class_names == dataset.class_names
        assert torch.equal(loaded.y, dataset.y)
        assert torch.equal(loaded.graph.edge_index, dataset.graph.edge_index)
        assert all(torch.equal(a, b) for a, b in zip(loaded.subgraphs, dataset.subgraphs))
        for key in ("train_mask", "val_mask", "test_mask"):
            assert torch.equal(getattr(loaded, key), getattr(dataset, key))
    # HPO-NEURO's way: the labels joined by '-', in class order.
    lines = (folder / "subgraphs.pth").read_text().splitlines()
    names = dataset.class_names or []
    for line, row in zip(lines, dataset.y.tolist()):
        label = line.split("\t")[1]
        assert label == "-".join(name for name, on in zip(names, row) if on)
    assert any("-" in line.split("\t")[1] for line in lines)


def test_save_subgnn_multilabel_refusals(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    base = make_position_multilabel(seed=0, **SMALL["position_multilabel"]).graph
    nodes = [[0, 1], [2, 3], [4, 5]]
    split = ["train", "val", "test"]
    for labels in ([["A"], [], ["B"]], [["A"], None, ["A", "B"]]):
        dataset = SubgraphDataset.from_lists(base, nodes, labels, split=split)
        with pytest.raises(ValueError, match="no label or no split"):
            save_subgnn(dataset, tmp_path / "x")
    dashed = SubgraphDataset.from_lists(base, nodes, [["a-b"], ["c"], ["a-b", "c"]], split=split)
    with pytest.raises(ValueError, match="without '-'"):
        save_subgnn(dashed, tmp_path / "x")
    # Nothing the loader could tell multi-label by, and a class no subgraph has: warned.
    lonely = SubgraphDataset.from_lists(
        base, nodes, [["A", "B"]] * 3, split=split, class_names=["A", "B", "C"]
    )
    with caplog.at_level(logging.WARNING, logger="mmgraph.data.synthetic_subgraphs"):
        save_subgnn(lonely, tmp_path / "lonely")
    assert "read the written file as single-label" in caplog.text
    assert "Classes ['C'] label no subgraph" in caplog.text


def test_position_multilabel_errors() -> None:
    for probs in ((), (0.5, -0.1), (0.0, 0.0)):
        with pytest.raises(ValueError, match="'seed_probs'"):
            make_position_multilabel(seed_probs=probs)
    with pytest.raises(ValueError, match="'min_size' to be at least len\\('seed_probs'\\) = 3"):
        make_position_multilabel(min_size=2)
    for share in (0.0, 1.5):
        with pytest.raises(ValueError, match="'min_share' in \\(0, 1\\]"):
            make_position_multilabel(min_share=share)
    # The checks shared with make_position.
    with pytest.raises(ValueError, match="'num_blocks' to be at least 6"):
        make_position_multilabel(num_blocks=5)
    with pytest.raises(ValueError, match="'max_size' to be at least 10"):
        make_position_multilabel(max_size=8)
    with pytest.raises(ValueError, match="'stay' in \\[0, 1\\]"):
        make_position_multilabel(stay=-0.1)
    with pytest.raises(ValueError, match="'split'"):
        make_position_multilabel(split=(0.9, 0.2, 0.1))
    with pytest.raises(TypeError, match="'seed' to be an int"):
        make_position_multilabel(seed="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="raise 'p_in' or 'p_out'"):
        make_position_multilabel(num_blocks=6, block_size=5, p_in=0.0, p_out=0.0)
