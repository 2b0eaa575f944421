"""Tiny hand-made graphs and dense reference computations for the aggregator tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor


@dataclass
class Toy:
    """A small graph with features, relations and weights."""

    x: Tensor
    edge_index: Tensor
    edge_type: Tensor
    edge_weight: Tensor

    @property
    def num_nodes(self) -> int:
        return self.x.size(0)


def make_star(in_channels: int = 6, seed: int = 0) -> Toy:
    """The PyG test star ``[[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]]`` with two relations."""
    gen = torch.Generator().manual_seed(seed)
    return Toy(
        x=torch.randn(4, in_channels, generator=gen),
        edge_index=torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]]),
        edge_type=torch.tensor([0, 1, 0, 1, 0, 1]),
        edge_weight=torch.tensor([1.0, 2.0, 0.5, 1.5, 0.25, 3.0]),
    )


def make_awkward(in_channels: int = 6, seed: int = 1) -> Toy:
    """Star plus a self loop on node 2, a duplicated edge, a chain 4 -> 5, and isolated node 6."""
    gen = torch.Generator().manual_seed(seed)
    return Toy(
        x=torch.randn(7, in_channels, generator=gen),
        edge_index=torch.tensor(
            [[0, 0, 0, 1, 2, 3, 2, 3, 4, 5], [1, 2, 3, 0, 0, 0, 2, 0, 5, 0]],
        ),
        edge_type=torch.tensor([0, 1, 0, 1, 0, 1, 1, 0, 2, 2]),
        edge_weight=torch.tensor([1.0, 2.0, 0.5, 1.5, 0.25, 3.0, 0.7, 1.2, 2.5, 0.4]),
    )


def dense_adjacency(
    edge_index: Tensor,
    num_nodes: int,
    edge_type: Tensor | None = None,
    edge_weight: Tensor | None = None,
    num_relations: int = 1,
) -> Tensor:
    """``A[r, v, u]`` = total weight of the edges ``u -> v`` of relation ``r`` (loop-by-loop)."""
    adj = torch.zeros(num_relations, num_nodes, num_nodes, dtype=torch.float64)
    for e in range(edge_index.size(1)):
        u, v = int(edge_index[0, e]), int(edge_index[1, e])
        r = 0 if edge_type is None else int(edge_type[e])
        w = 1.0 if edge_weight is None else float(edge_weight[e])
        adj[r, v, u] += w
    return adj


@pytest.fixture
def star() -> Callable[..., Toy]:
    return make_star


@pytest.fixture
def awkward() -> Callable[..., Toy]:
    return make_awkward


@pytest.fixture
def dense() -> Callable[..., Tensor]:
    return dense_adjacency


def permute_graph(toy: Toy, perm: Tensor) -> Toy:
    """Relabel node ``perm[i]`` as node ``i`` (so ``x_new = x[perm]``)."""
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(perm.numel())
    return Toy(
        x=toy.x[perm],
        edge_index=inverse[toy.edge_index],
        edge_type=toy.edge_type,
        edge_weight=toy.edge_weight,
    )


@pytest.fixture
def permute() -> Callable[[Toy, Tensor], Toy]:
    return permute_graph
