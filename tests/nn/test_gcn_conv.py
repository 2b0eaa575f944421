from __future__ import annotations

import pytest
import torch
from torch_geometric.nn import GCNConv as PyGGCNConv

from mmgraph.nn import GCNConv, gcn_norm


def _pyg_copy(conv: GCNConv) -> PyGGCNConv:
    ref = PyGGCNConv(conv.in_channels, conv.out_channels, bias=conv.bias is not None)
    with torch.no_grad():
        ref.lin.weight.copy_(conv.weight[0])
        if conv.bias is not None:
            conv.bias.normal_()
            ref.bias.copy_(conv.bias)
    return ref


@pytest.mark.parametrize("graph", ["star", "awkward"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("fin", "fout"), [(6, 4), (4, 6)])
@pytest.mark.parametrize("bias", [True, False])
def test_equals_pyg_gcnconv(request, graph, weighted, fin, fout, bias):
    toy = request.getfixturevalue(graph)(fin)
    conv = GCNConv(fin, fout, bias=bias)
    ref = _pyg_copy(conv)
    edge_weight = toy.edge_weight if weighted else None
    out = conv(toy.x, toy.edge_index, edge_weight=edge_weight)
    torch.testing.assert_close(out, ref(toy.x, toy.edge_index, edge_weight))
    # Relation 0 for every edge, given explicitly, is the same layer.
    typed = conv(toy.x, toy.edge_index, torch.zeros_like(toy.edge_type), edge_weight)
    torch.testing.assert_close(typed, out)


def test_equals_pyg_gcnconv_on_cora(shared_data):
    from torch_geometric.io import read_planetoid_data

    data = read_planetoid_data(str(shared_data / "planetoid" / "Cora" / "raw"), "cora")
    conv = GCNConv(data.num_features, 16)
    ref = _pyg_copy(conv)
    weight = torch.rand(data.edge_index.size(1), generator=torch.Generator().manual_seed(3))
    for w in (None, weight):
        out = conv(data.x, data.edge_index, edge_weight=w)
        torch.testing.assert_close(out, ref(data.x, data.edge_index, w), rtol=1e-4, atol=1e-5)


def _dense_gcn(dense, toy, conv, edge_type, edge_weight):
    """Closed form: sum_r D^-1/2 A_r D^-1/2 X W_r + diag(w_vv / d_v) X W_0 + b."""
    num_rel = conv.num_relations
    adj = dense(toy.edge_index, toy.num_nodes, edge_type, edge_weight, num_rel)
    eye = torch.eye(toy.num_nodes, dtype=torch.float64)
    diag = adj.diagonal(dim1=1, dim2=2).sum(0)  # self-loop weights, summed over relations
    has_loop = torch.zeros(toy.num_nodes, dtype=torch.bool)
    has_loop[toy.edge_index[0][toy.edge_index[0] == toy.edge_index[1]]] = True
    loop_weight = torch.where(has_loop, diag, torch.ones_like(diag))
    off = adj * (1 - eye)
    deg = off.sum((0, 2)) + loop_weight
    d = deg.pow(-0.5)
    x = toy.x.double()
    root = conv.weight[0] if conv.root is None else conv.root
    out = (loop_weight / deg).view(-1, 1) * (x @ root.double().T)
    for r in range(num_rel):
        out = out + d.view(-1, 1) * off[r] * d.view(1, -1) @ x @ conv.weight[r].double().T
    return out + conv.bias.double()


@pytest.mark.parametrize("num_relations", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("fin", "fout"), [(6, 4), (4, 6)])
def test_matches_dense_closed_form(dense, awkward, num_relations, weighted, fin, fout):
    toy = awkward(fin)
    conv = GCNConv(fin, fout, num_relations=num_relations)
    torch.nn.init.normal_(conv.bias)
    edge_type = toy.edge_type if num_relations > 1 else None
    edge_weight = toy.edge_weight if weighted else None
    out = conv(toy.x, toy.edge_index, edge_type, edge_weight)
    expected = _dense_gcn(dense, toy, conv, edge_type, edge_weight)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)


def test_isolated_node_gets_own_features():
    x = torch.randn(3, 4)
    conv = GCNConv(4, 2)
    out = conv(x, torch.tensor([[0], [1]]))
    # Node 2 is isolated: its self loop has coefficient 1 / 1.
    torch.testing.assert_close(out[2], x[2] @ conv.weight[0].T + conv.bias)


def test_tied_relation_weights_reduce_to_plain_gcn(awkward):
    toy = awkward(6)
    plain = GCNConv(6, 4)
    rel = GCNConv(6, 4, num_relations=3)
    with torch.no_grad():
        rel.weight.copy_(plain.weight.expand(3, -1, -1))
        rel.root.copy_(plain.weight[0])
        rel.bias.copy_(plain.bias)
    for w in (None, toy.edge_weight):
        torch.testing.assert_close(
            rel(toy.x, toy.edge_index, toy.edge_type, w), plain(toy.x, toy.edge_index, None, w)
        )


def test_permutation_equivariance(awkward, permute):
    toy = awkward(6)
    conv = GCNConv(6, 4, num_relations=3)
    perm = torch.randperm(toy.num_nodes, generator=torch.Generator().manual_seed(7))
    ptoy = permute(toy, perm)
    out = conv(toy.x, toy.edge_index, toy.edge_type, toy.edge_weight)
    pout = conv(ptoy.x, ptoy.edge_index, ptoy.edge_type, ptoy.edge_weight)
    torch.testing.assert_close(pout, out[perm])


def test_gradients_match_finite_differences(star):
    toy = star(3)
    conv = GCNConv(3, 2, num_relations=2).double()
    x = toy.x.double().requires_grad_()
    w = toy.edge_weight.double().requires_grad_()
    assert torch.autograd.gradcheck(lambda x, w: conv(x, toy.edge_index, toy.edge_type, w), (x, w))


def test_gcn_norm_self_loops_and_degrees():
    # Node 0: two self loops (weights add up), node 1: none (weight 1), node 2: isolated.
    edge_index = torch.tensor([[0, 0, 1, 0], [0, 1, 0, 0]])
    weight = torch.tensor([0.5, 2.0, 3.0, 1.5])
    ei, coef, edge_type, self_coef = gcn_norm(edge_index, weight, 3, torch.tensor([0, 1, 1, 0]))
    assert ei.tolist() == [[0, 1], [1, 0]] and edge_type is not None
    assert edge_type.tolist() == [1, 1]
    deg = torch.tensor([2.0 + 3.0, 1.0 + 2.0, 1.0])
    torch.testing.assert_close(self_coef, torch.tensor([2.0, 1.0, 1.0]) / deg)
    torch.testing.assert_close(coef, torch.tensor([2.0, 3.0]) / (deg[0] * deg[1]).sqrt())


def test_parameter_counts():
    assert sum(p.numel() for p in GCNConv(5, 3).parameters()) == 5 * 3 + 3
    assert sum(p.numel() for p in GCNConv(5, 3, bias=False).parameters()) == 5 * 3
    # Three neighbour weights, one self-loop weight, one bias.
    assert sum(p.numel() for p in GCNConv(5, 3, num_relations=3).parameters()) == 4 * 5 * 3 + 3


def test_state_dict_round_trip(star):
    toy = star(6)
    conv = GCNConv(6, 4, num_relations=2)
    torch.nn.init.normal_(conv.bias)
    fresh = GCNConv(6, 4, num_relations=2)
    fresh.load_state_dict(conv.state_dict())
    args = (toy.x, toy.edge_index, toy.edge_type, toy.edge_weight)
    torch.testing.assert_close(fresh(*args), conv(*args))
    assert set(conv.state_dict()) == {"weight", "root", "bias"}


def test_reset_parameters_reinitialises():
    conv = GCNConv(6, 4)
    torch.nn.init.constant_(conv.weight, 3.0)
    torch.nn.init.constant_(conv.bias, 3.0)
    conv.reset_parameters()
    assert not torch.any(conv.weight == 3.0) and torch.all(conv.bias == 0)


def test_to_moves_everything(star):
    toy = star(6)
    conv = GCNConv(6, 4, num_relations=2).to(torch.float64)
    assert all(p.dtype == torch.float64 for p in conv.parameters())
    out = conv(toy.x.double(), toy.edge_index, toy.edge_type, toy.edge_weight)
    assert out.dtype == torch.float64


def test_repr():
    assert repr(GCNConv(16, 32)) == "GCNConv(16, 32)"
    assert repr(GCNConv(16, 32, num_relations=2)) == "GCNConv(16, 32, num_relations=2)"


def test_errors(star):
    toy = star(6)
    conv = GCNConv(6, 4, num_relations=2)
    with pytest.raises(ValueError, match="non-negative 'edge_weight' for GCNConv"):
        conv(toy.x, toy.edge_index, toy.edge_type, -toy.edge_weight)
    with pytest.raises(ValueError, match=r"'edge_type' of GCNConv in \[0, 2\)"):
        conv(toy.x, toy.edge_index, toy.edge_type + 1)
    with pytest.raises(ValueError, match="Expected 'edge_type' for GCNConv"):
        conv(toy.x, toy.edge_index)
    with pytest.raises(ValueError, match="'num_relations' to be an int >= 1 \\(got 0\\)"):
        GCNConv(6, 4, num_relations=0)
