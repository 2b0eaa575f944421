"""Subgraph batches: fields per subgraph, base fields shared, seeded loaders, fold splits."""

from __future__ import annotations

import pytest
import torch

from mmgraph.data import SubgraphDataset
from mmgraph.subgraph import SubgraphLoader, make_subgraph_batch, with_split
from mmgraph.subgraph.neighborhood import NeighborhoodCache


def test_batch_fields(overlapping: SubgraphDataset) -> None:
    graph = overlapping.graph
    graph.y = torch.zeros(40, dtype=torch.long)  # node labels must not leak into the batch
    batch = make_subgraph_batch(overlapping, [2, 0])
    assert batch.edge_index is graph.edge_index  # shared, not copied
    assert batch.num_nodes == 40 and batch.batch_size == 2 and batch.num_subgraphs == 2
    assert batch.subgraph_nodes.tolist() == [10, 11, 12, 13, 14, 0, 1, 2, 3]
    assert batch.subgraph_index.tolist() == [0] * 5 + [1] * 4
    assert batch.y.tolist() == [0, 0] and batch.subgraph_id.tolist() == [2, 0]
    assert batch.train_mask.tolist() == [True, True] and batch.num_classes == 2
    assert not batch.whole_graphs and "neighborhoods" not in batch


def test_batch_leaves_out_node_ids(overlapping: SubgraphDataset) -> None:
    overlapping.graph.node_id = [f"n{i}" for i in range(40)]
    batch = make_subgraph_batch(overlapping, [1])
    assert "node_id" not in batch and batch.edge_index is overlapping.graph.edge_index


def test_loader_covers_each_training_subgraph_once(overlapping: SubgraphDataset) -> None:
    loader = SubgraphLoader(overlapping, batch_size=2, seed=0)
    assert len(loader) == 2
    first = [b.subgraph_id.tolist() for b in loader]
    second = [b.subgraph_id.tolist() for b in loader]
    assert sorted(sum(first, [])) == [0, 1, 2] == sorted(sum(second, []))
    again = [b.subgraph_id.tolist() for b in SubgraphLoader(overlapping, batch_size=2, seed=0)]
    assert again == first
    cache = NeighborhoodCache(overlapping, 1)
    batches = list(SubgraphLoader(overlapping, [4, 5], batch_size=None, neighborhoods=cache))
    assert len(batches) == 1 and batches[0].neighborhoods is cache
    assert bool(batches[0].train_mask.all())
    assert "batch_size=2" in repr(loader)


def test_with_split(overlapping: SubgraphDataset) -> None:
    batch = make_subgraph_batch(overlapping)
    folded = with_split(batch, torch.tensor([0, 1]), torch.tensor([5]))
    assert folded.train_mask.tolist() == [True, True, False, False, False, False]
    assert folded.test_mask.tolist() == [False] * 5 + [True]
    assert not bool(folded.val_mask.any())
    assert folded.edge_index is batch.edge_index
    assert batch.train_mask.tolist() == [True, True, True, False, False, False]  # untouched
    mask = torch.tensor([True, False, True, False, False, False])
    assert with_split(batch, mask, ~mask).train_mask.tolist() == mask.tolist()


def test_errors(overlapping: SubgraphDataset) -> None:
    with pytest.raises(TypeError, match="Expected a SubgraphDataset"):
        make_subgraph_batch(overlapping.graph)  # type: ignore[arg-type]
    small = overlapping.graph.subgraph(torch.arange(10))
    with pytest.raises(ValueError, match="the 40 nodes"):
        make_subgraph_batch(overlapping, graph=small)
    other = SubgraphDataset.from_lists(overlapping.graph, [[0]], ["a"])
    with pytest.raises(ValueError, match="built for this data set"):
        make_subgraph_batch(overlapping, neighborhoods=NeighborhoodCache(other, 1))
    with pytest.raises(ValueError, match="'batch_size'"):
        SubgraphLoader(overlapping, batch_size=0)
    with pytest.raises(ValueError, match="at least one subgraph"):
        SubgraphLoader(overlapping, index=[])
    with pytest.raises(ValueError, match="no 'train_mask'"):
        SubgraphLoader(other)
    batch = make_subgraph_batch(overlapping)
    with pytest.raises(ValueError, match="'train_mask' of shape \\[6\\]"):
        with_split(batch, torch.tensor([True]), torch.tensor([1]))
