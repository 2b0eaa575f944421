from __future__ import annotations

import pytest
import torch
from torch_geometric.nn import GatedGraphConv

from mmgraph.nn import GGNNConv


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _gru_by_hand(gru: torch.nn.GRUCell, m: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """PyTorch's GRU equations written out (gate order r, z, n)."""
    w_ir, w_iz, w_in = gru.weight_ih.double().chunk(3)
    w_hr, w_hz, w_hn = gru.weight_hh.double().chunk(3)
    b_ir, b_iz, b_in = gru.bias_ih.double().chunk(3)
    b_hr, b_hz, b_hn = gru.bias_hh.double().chunk(3)
    r = torch.sigmoid(m @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
    z = torch.sigmoid(m @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
    n = torch.tanh(m @ w_in.T + b_in + r * (h @ w_hn.T + b_hn))
    return (1 - z) * n + z * h


def _unrolled(dense, toy, conv, edge_type, edge_weight):
    adj = dense(toy.edge_index, toy.num_nodes, edge_type, edge_weight, conv.num_relations)
    x = toy.x.double()
    h = x if conv.lin is None else x @ conv.lin.weight.double().T + conv.lin.bias.double()
    for t in range(conv.num_steps):
        k = 0 if conv.tie_weights else t
        weight = conv.weight[k].double()
        m = sum(adj[r] @ h @ weight[r].T for r in range(conv.num_relations))
        h = _gru_by_hand(conv.grus[k], m, h)
    return h


@pytest.mark.parametrize("tie_weights", [True, False])
@pytest.mark.parametrize("num_relations", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fin", [5, 4])  # projected / used as is
def test_matches_hand_unrolled_gru(dense, awkward, tie_weights, num_relations, weighted, fin):
    toy = awkward(fin)
    conv = GGNNConv(fin, 4, num_steps=3, num_relations=num_relations, tie_weights=tie_weights)
    edge_type = toy.edge_type if num_relations > 1 else None
    edge_weight = toy.edge_weight if weighted else None
    out = conv(toy.x, toy.edge_index, edge_type, edge_weight)
    expected = _unrolled(dense, toy, conv, edge_type, edge_weight)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)


def test_untied_steps_differ_from_tied(star):
    toy = star(4)
    conv = GGNNConv(4, 4, num_steps=2, tie_weights=False)
    tied = GGNNConv(4, 4, num_steps=2)
    with torch.no_grad():
        tied.weight.copy_(conv.weight[:1])
    tied.grus[0].load_state_dict(conv.grus[0].state_dict())
    # Step 0 agrees, the second step uses different weights.
    h0 = conv.step(0, toy.x, toy.edge_index)
    torch.testing.assert_close(h0, tied.step(0, toy.x, toy.edge_index))
    assert not torch.allclose(conv(toy.x, toy.edge_index), tied(toy.x, toy.edge_index))


@pytest.mark.parametrize("weighted", [False, True])
def test_equals_pyg_gated_graph_conv(star, weighted):
    toy = star(4)
    conv = GGNNConv(4, 4, num_steps=3)
    ref = GatedGraphConv(4, num_layers=3)
    with torch.no_grad():
        ref.weight.copy_(conv.weight[0, 0].T.expand(3, -1, -1))  # PyG stores [in, out]
    ref.rnn.load_state_dict(conv.grus[0].state_dict())
    edge_weight = toy.edge_weight if weighted else None
    torch.testing.assert_close(
        conv(toy.x, toy.edge_index, edge_weight=edge_weight),
        ref(toy.x, toy.edge_index, edge_weight),
    )


def test_forward_equals_project_then_steps(awkward):
    toy = awkward(5)
    conv = GGNNConv(5, 4, num_steps=3, num_relations=3, tie_weights=False)
    h = conv.project(toy.x)
    for t in range(3):
        h = conv.step(t, h, toy.edge_index, toy.edge_type, toy.edge_weight)
    torch.testing.assert_close(h, conv(toy.x, toy.edge_index, toy.edge_type, toy.edge_weight))


def test_negative_edge_weights_scale_messages(star):
    toy = star(4)
    conv = GGNNConv(4, 4, num_steps=1)
    zero = conv(toy.x, toy.edge_index, edge_weight=torch.zeros(6))
    # With zero weights the message is 0: the GRU sees only the state.
    torch.testing.assert_close(zero, conv.grus[0](torch.zeros(4, 4), toy.x))
    out = conv(toy.x, toy.edge_index, edge_weight=-toy.edge_weight)
    assert torch.isfinite(out).all()


def test_permutation_equivariance(awkward, permute):
    toy = awkward(5)
    conv = GGNNConv(5, 4, num_steps=2, num_relations=3)
    perm = torch.randperm(toy.num_nodes, generator=torch.Generator().manual_seed(9))
    ptoy = permute(toy, perm)
    out = conv(toy.x, toy.edge_index, toy.edge_type, toy.edge_weight)
    pout = conv(ptoy.x, ptoy.edge_index, ptoy.edge_type, ptoy.edge_weight)
    torch.testing.assert_close(pout, out[perm])


def test_parameter_counts():
    c = 4
    gru = 2 * 3 * c * c + 2 * 3 * c  # weight_ih, weight_hh, bias_ih, bias_hh
    assert _count(GGNNConv(c, c, num_steps=3)) == c * c + gru
    assert _count(GGNNConv(c, c, num_steps=3, num_relations=2)) == 2 * c * c + gru
    projection = 7 * c + c
    assert _count(GGNNConv(7, c, num_steps=3, num_relations=2)) == projection + 2 * c * c + gru
    untied = GGNNConv(7, c, num_steps=3, num_relations=2, tie_weights=False)
    assert _count(untied) == projection + 3 * (2 * c * c + gru)


def test_state_dict_round_trip(awkward):
    toy = awkward(5)
    conv = GGNNConv(5, 4, num_steps=2, num_relations=3, tie_weights=False)
    fresh = GGNNConv(5, 4, num_steps=2, num_relations=3, tie_weights=False)
    fresh.load_state_dict(conv.state_dict())
    args = (toy.x, toy.edge_index, toy.edge_type, toy.edge_weight)
    torch.testing.assert_close(fresh(*args), conv(*args))


def test_reset_parameters_reinitialises():
    conv = GGNNConv(5, 4, num_steps=2)
    for p in conv.parameters():
        torch.nn.init.constant_(p, 3.0)
    conv.reset_parameters()
    assert all(not torch.any(p == 3.0) for p in conv.parameters())


def test_to_moves_everything(star):
    toy = star(5)
    conv = GGNNConv(5, 4, num_steps=2, num_relations=2).to(torch.float64)
    assert all(p.dtype == torch.float64 for p in conv.parameters())
    assert conv(toy.x.double(), toy.edge_index, toy.edge_type).dtype == torch.float64


def test_repr():
    assert repr(GGNNConv(64, 64, num_steps=3, num_relations=2)) == (
        "GGNNConv(64, num_steps=3, num_relations=2)"
    )
    assert repr(GGNNConv(32, 64, num_steps=5, tie_weights=False)) == (
        "GGNNConv(32, 64, num_steps=5, tie_weights=False)"
    )


def test_errors(star):
    toy = star(4)
    conv = GGNNConv(4, 4, num_steps=2, num_relations=2)
    with pytest.raises(ValueError, match=r"step 't' in \[0, 2\) \(got 2\)"):
        conv.step(2, toy.x, toy.edge_index, toy.edge_type)
    with pytest.raises(ValueError, match=r"'edge_type' of GGNNConv in \[0, 2\)"):
        conv(toy.x, toy.edge_index, toy.edge_type + 1)
    with pytest.raises(ValueError, match="finite 'edge_weight' for GGNNConv"):
        conv(toy.x, toy.edge_index, toy.edge_type, torch.full((6,), float("inf")))
    with pytest.raises(ValueError, match="'num_steps' to be an int >= 1 \\(got 0\\)"):
        GGNNConv(4, 4, num_steps=0)
    with pytest.raises(ValueError, match="'num_relations' to be an int >= 1"):
        GGNNConv(4, 4, num_relations=0)
