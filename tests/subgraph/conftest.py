"""Small subgraph data sets shared by the subgraph tests."""

from __future__ import annotations

import pytest
import torch

from mmgraph.data import MultimodalGraph, SubgraphDataset
from mmgraph.data.edges import make_undirected
from mmgraph.data.synthetic_subgraphs import make_density


def random_graph(n: int, m: int, seed: int) -> MultimodalGraph:
    """A random undirected graph with ``m`` drawn pairs (duplicates and loops dropped)."""
    gen = torch.Generator().manual_seed(seed)
    pairs = torch.randint(0, n, (2, m), generator=gen)
    pairs = pairs[:, pairs[0] != pairs[1]]
    edge_index, _, _ = make_undirected(pairs, n)
    return MultimodalGraph(edge_index, num_nodes=n)


@pytest.fixture(scope="session")
def density_small() -> SubgraphDataset:
    """A small seeded instance of SubGNN's density task (3 classes)."""
    return make_density(num_nodes=300, num_subgraphs=60, subgraph_size=10, seed=0)


@pytest.fixture()
def overlapping() -> SubgraphDataset:
    """Six overlapping subgraphs of a random 40-node graph, with a split."""
    graph = random_graph(40, 90, seed=1)
    sets = [[0, 1, 2, 3], [3, 4, 5], [10, 11, 12, 13, 14], [2, 20], [30], [5, 6, 7, 8, 9, 10]]
    labels = ["a", "b", "a", "b", "a", "b"]
    split = ["train", "train", "train", "val", "test", "test"]
    return SubgraphDataset.from_lists(graph, sets, labels, split=split)


@pytest.fixture()
def molecules() -> SubgraphDataset:
    """Whole graphs: 8 small graphs (triangles and paths) with categorical tags and folds."""
    src: list[int] = []
    dst: list[int] = []
    sets = []
    labels = []
    tags = []
    offset = 0
    for g in range(8):
        size = 3 + g % 3
        nodes = list(range(offset, offset + size))
        for a, b in zip(nodes[:-1], nodes[1:]):
            src.append(a)
            dst.append(b)
        if g % 2 == 0:  # close the ring
            src.append(nodes[-1])
            dst.append(nodes[0])
        sets.append(nodes)
        labels.append("ring" if g % 2 == 0 else "chain")
        tags += [1 + (i + g) % 3 for i in range(size)]
        offset += size
    edge_index, _, _ = make_undirected(torch.tensor([src, dst]), offset)
    graph = MultimodalGraph(
        edge_index,
        num_nodes=offset,
        categorical=torch.tensor(tags).view(-1, 1),
        categorical_names=["tag"],
        categorical_vocabs=[["C", "N", "O"]],
    )
    folds = [
        (torch.tensor([0, 1, 2, 3, 4, 5]), torch.tensor([6, 7])),
        (torch.tensor([2, 3, 4, 5, 6, 7]), torch.tensor([0, 1])),
    ]
    return SubgraphDataset.from_lists(graph, sets, labels, folds=folds, whole_graphs=True)
