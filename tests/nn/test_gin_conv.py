"""GINConv: the closed form on a hand-written graph, relations, weights, module contract."""

from __future__ import annotations

import pytest
import torch

from mmgraph.nn import GINConv, GNNStack

EDGES = torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]])


def dense_gin(conv: GINConv, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
    """``MLP((1 + eps) x + A x)`` with ``A[v, u]`` the weight of the edge u -> v."""
    return conv.mlp((1 + conv.eps) * x + adjacency @ x)


def test_matches_the_dense_closed_form() -> None:
    torch.manual_seed(0)
    conv = GINConv(3, 5, eps=0.5).eval()
    x = torch.randn(4, 3)
    weight = torch.rand(EDGES.size(1)) + 0.5
    adjacency = torch.zeros(4, 4)
    adjacency[EDGES[1], EDGES[0]] = weight
    assert torch.allclose(conv(x, EDGES, edge_weight=weight), dense_gin(conv, x, adjacency))
    adjacency[EDGES[1], EDGES[0]] = 1.0
    assert torch.allclose(conv(x, EDGES), dense_gin(conv, x, adjacency), atol=1e-6)


def test_relations_have_their_own_maps() -> None:
    torch.manual_seed(1)
    conv = GINConv(2, 3, num_relations=2).eval()
    x = torch.randn(4, 2)
    edge_type = torch.tensor([0, 1, 0, 1, 0, 1])
    first, second = torch.zeros(4, 4), torch.zeros(4, 4)
    first[EDGES[1][edge_type == 0], EDGES[0][edge_type == 0]] = 1.0
    second[EDGES[1][edge_type == 1], EDGES[0][edge_type == 1]] = 1.0
    expected = conv.mlp(x + first @ x + conv.relations[0](second @ x))
    assert torch.allclose(conv(x, EDGES, edge_type), expected, atol=1e-6)


def test_module_contract() -> None:
    conv = GINConv(3, 4, num_relations=2, train_eps=True)
    # eps + relation map 3x3 + Linear(3, 4) + BN(4) + Linear(4, 4)
    assert sum(p.numel() for p in conv.parameters()) == 1 + 9 + (12 + 4) + 8 + (16 + 4)
    assert sum(p.numel() for p in GINConv(3, 4).parameters()) == (12 + 4) + 8 + (16 + 4)
    assert repr(conv) == "GINConv(3, 4, num_relations=2, eps=0, train_eps=True)"
    assert repr(GINConv(3, 4)) == "GINConv(3, 4, eps=0, train_eps=False)"
    twin = GINConv(3, 4, num_relations=2, train_eps=True)
    twin.load_state_dict(conv.state_dict())
    x = torch.randn(4, 3)
    edge_type = torch.tensor([0, 1, 0, 1, 0, 1])
    conv.eval(), twin.eval()
    assert torch.equal(conv(x, EDGES, edge_type), twin(x, EDGES, edge_type))
    moved = GINConv(3, 4).to(torch.float64)
    floats = [t for t in [*moved.parameters(), *moved.buffers()] if t.is_floating_point()]
    assert moved.eps.dtype == torch.float64 and all(t.dtype == torch.float64 for t in floats)
    with torch.no_grad():
        conv.eps.fill_(3.0)
    conv.reset_parameters()
    assert conv.eps.detach().tolist() == [0.0]


def test_stacks_in_gnnstack() -> None:
    stack = GNNStack(GINConv, 3, 8, 2)
    assert stack(torch.randn(4, 3), EDGES).shape == (4, 8)


def test_errors() -> None:
    with pytest.raises(ValueError, match="'out_channels' to be an int >= 1"):
        GINConv(3, 0)
    conv = GINConv(3, 4)
    with pytest.raises(ValueError, match="3"):
        conv(torch.randn(4, 2), EDGES)
