from __future__ import annotations

import pytest
import torch
from torch_geometric.utils import scatter

from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.subgraphs import SubgraphDataset, parse_split, sort_labels


def base_graph(n: int = 6) -> MultimodalGraph:
    edge_index = torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    return MultimodalGraph(edge_index, num_nodes=n)


def make_dataset() -> SubgraphDataset:
    return SubgraphDataset.from_lists(
        base_graph(),
        [[0, 1], [2, 3, 4], [5]],
        ["b", "a", ""],
        split=["train", "valid", None],
        name="toy",
    )


def test_from_lists() -> None:
    ds = make_dataset()
    assert len(ds) == 3
    assert ds.class_names == ["a", "b"]
    assert ds.y.tolist() == [1, 0, -1]
    assert ds.train_mask.tolist() == [True, False, False]
    assert ds.val_mask.tolist() == [False, True, False]
    assert ds.test_mask.tolist() == [False, False, False]
    assert ds.sizes().tolist() == [2, 3, 1]
    assert ds.num_classes == 2
    assert all(s.dtype == torch.long for s in ds.subgraphs)
    assert repr(ds) == "SubgraphDataset(name='toy', num_subgraphs=3, num_classes=2, num_nodes=6)"


def test_node_ids_are_never_rounded() -> None:
    import numpy as np

    graph = base_graph()
    exact = SubgraphDataset.from_lists(graph, [[0.0, 2.0], [3]], ["a", "b"])  # read from a CSV
    assert exact.subgraphs[0].tolist() == [0, 2] and exact.subgraphs[0].dtype == torch.long
    for ids in ([0.0, 1.5, 2.9], torch.tensor([0.5, 1.7]), np.array([0.9, 1.1])):
        with pytest.raises(TypeError, match=r"whole node ids in subgraph 0 .*rounding one"):
            SubgraphDataset.from_lists(graph, [ids, [3]], ["a", "b"])
    with pytest.raises(TypeError, match=r"subgraph 1 \(got a boolean mask\).*mask.nonzero"):
        SubgraphDataset.from_lists(graph, [[0], [True, False, True]], ["a", "b"])
    with pytest.raises(TypeError, match="subgraph 0 to be a 1-D integer tensor"):
        SubgraphDataset(graph=graph, subgraphs=[torch.tensor([True, False])], y=torch.tensor([0]))


def test_integer_labels_sort_numerically_and_class_names_fix_order() -> None:
    ds = SubgraphDataset.from_lists(base_graph(), [[0], [1], [2]], [10, 2, -1])
    assert ds.class_names == ["-1", "2", "10"]
    assert ds.y.tolist() == [2, 1, 0]
    fixed = SubgraphDataset.from_lists(
        base_graph(), [[0], [1]], ["x", "y"], class_names=["y", "x", "z"]
    )
    assert fixed.y.tolist() == [1, 0] and fixed.num_classes == 3
    assert sort_labels(["b", "a", "10"]) == ["10", "a", "b"]


def test_subgraph_index_pools_like_a_loop() -> None:
    ds = make_dataset()
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(6, 4, generator=gen)
    nodes, batch = ds.subgraph_index()
    assert nodes.tolist() == [0, 1, 2, 3, 4, 5]
    assert batch.tolist() == [0, 0, 1, 1, 1, 2]
    pooled = scatter(h[nodes], batch, dim=0, reduce="mean")
    expected = torch.stack([h[s].mean(0) for s in ds.subgraphs])
    torch.testing.assert_close(pooled, expected)
    nodes, batch = ds.subgraph_index(torch.tensor([2, 0]))
    assert nodes.tolist() == [5, 0, 1] and batch.tolist() == [0, 1, 1]
    nodes, batch = ds.subgraph_index([])
    assert nodes.numel() == 0 and batch.numel() == 0
    with pytest.raises(IndexError, match="Subgraph index 3 out of range for 3 subgraphs"):
        ds.subgraph_index([3])


def test_folds_and_summary() -> None:
    ds = SubgraphDataset.from_lists(
        base_graph(),
        [[0], [1], [2], [3]],
        ["a", "b", "a", "b"],
        folds=[
            (torch.tensor([0, 1]), torch.tensor([2, 3])),
            (torch.tensor([2, 3]), torch.tensor([0, 1])),
        ],
        whole_graphs=True,
    )
    assert "folds=2" in repr(ds) and "whole_graphs=True" in repr(ds)
    summary = ds.summary()
    assert summary["subgraphs"] == 4
    assert summary["folds"] == {"count": 2, "train_sizes": [2], "test_sizes": [2]}


def test_parse_split() -> None:
    assert parse_split(" Train ", "here") == "train"
    assert parse_split("valid", "here") == "val"
    assert parse_split(float("nan"), "here") is None
    assert parse_split("", "here") is None
    with pytest.raises(ValueError, match=r"Unknown split 'dev' in here: valid values are 'train'"):
        parse_split("dev", "here")


def test_validation_errors() -> None:
    g = base_graph()
    one = [torch.tensor([0])]
    y = torch.tensor([0])
    with pytest.raises(TypeError, match="Expected 'graph' to be a MultimodalGraph"):
        SubgraphDataset(graph="g", subgraphs=one, y=y)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty list of node id tensors"):
        SubgraphDataset(graph=g, subgraphs=[], y=y)
    with pytest.raises(TypeError, match="Expected subgraph 0 to be a 1-D integer tensor"):
        SubgraphDataset(graph=g, subgraphs=[torch.tensor([0.0])], y=y)
    with pytest.raises(ValueError, match="Subgraph 0 is empty"):
        SubgraphDataset(graph=g, subgraphs=[torch.tensor([], dtype=torch.long)], y=y)
    with pytest.raises(ValueError, match=r"Subgraph 0 holds node id 6 .* \[0, 6\)"):
        SubgraphDataset(graph=g, subgraphs=[torch.tensor([6])], y=y)
    with pytest.raises(TypeError, match="Expected 'y' to be an integer tensor"):
        SubgraphDataset(graph=g, subgraphs=one, y=torch.tensor([0.0]))
    with pytest.raises(ValueError, match=r"Expected 'y' to have shape \[1\]"):
        SubgraphDataset(graph=g, subgraphs=one, y=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="Found label 2 but there are 2 classes"):
        SubgraphDataset(graph=g, subgraphs=one, y=torch.tensor([2]), class_names=["a", "b"])
    with pytest.raises(ValueError, match="Found label -3"):
        SubgraphDataset(graph=g, subgraphs=one, y=torch.tensor([-3]))
    with pytest.raises(TypeError, match="Expected 'train_mask' to be a bool tensor"):
        SubgraphDataset(graph=g, subgraphs=one, y=y, train_mask=torch.tensor([1]))
    with pytest.raises(ValueError, match=r"Expected 'val_mask' to have shape \[1\]"):
        SubgraphDataset(graph=g, subgraphs=one, y=y, val_mask=torch.tensor([True, False]))
    fold = torch.tensor([0])
    with pytest.raises(ValueError, match="Expected fold 0 to be a \\(train_idx, test_idx\\) pair"):
        SubgraphDataset(graph=g, subgraphs=one, y=y, folds=[(fold,)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="train indices of fold 0 to be a 1-D integer tensor"):
        SubgraphDataset(graph=g, subgraphs=one, y=y, folds=[(torch.tensor([0.0]), fold)])
    with pytest.raises(ValueError, match="Fold 0 has test index 4 out of range"):
        SubgraphDataset(graph=g, subgraphs=one, y=y, folds=[(fold, torch.tensor([4]))])
    with pytest.raises(ValueError, match="Fold 0 has 1 subgraphs in both"):
        SubgraphDataset(graph=g, subgraphs=one, y=y, folds=[(fold, fold)])


def test_from_lists_errors() -> None:
    g = base_graph()
    with pytest.raises(ValueError, match=r"one label per subgraph \(2\) \(got 1 labels\)"):
        SubgraphDataset.from_lists(g, [[0], [1]], ["a"])
    with pytest.raises(ValueError, match=r"one split value per subgraph \(1\) \(got 2\)"):
        SubgraphDataset.from_lists(g, [[0]], ["a"], split=["train", "test"])
    with pytest.raises(ValueError, match="Label 'c' of subgraph 0 is not one of the classes"):
        SubgraphDataset.from_lists(g, [[0]], ["c"], class_names=["a", "b"])
    with pytest.raises(ValueError, match="Unknown split 'dev' in the split of subgraph 0"):
        SubgraphDataset.from_lists(g, [[0]], ["a"], split=["dev"])
    with pytest.raises(ValueError, match="Subgraph 1 lists node 2 3 times: .*list each once"):
        SubgraphDataset.from_lists(g, [[0, 1], [2, 3, 2, 2]], ["a", "b"])
