from __future__ import annotations

import pytest
import torch
from torch_geometric.nn import RGCNConv, SAGEConv

from mmgraph.nn import MeanConv, mean_coefficients


def _dense_mean(dense, toy, conv, edge_type, edge_weight):
    """Closed form: sum_r rownorm(A_r) X W_r + X B + b, zero rows for empty neighbourhoods."""
    adj = dense(toy.edge_index, toy.num_nodes, edge_type, edge_weight, conv.num_relations)
    total = adj.sum(2, keepdim=True)
    mean = torch.where(total > 0, adj / total.clamp_min(1e-30), torch.zeros_like(adj))
    x = toy.x.double()
    out = sum(mean[r] @ x @ conv.weight[r].double().T for r in range(conv.num_relations))
    if conv.root is not None:
        out = out + x @ conv.root.double().T
    if conv.bias is not None:
        out = out + conv.bias.double()
    return out


@pytest.mark.parametrize("num_relations", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("fin", "fout"), [(6, 4), (4, 6)])
@pytest.mark.parametrize("root_weight", [True, False])
def test_matches_dense_closed_form(dense, awkward, num_relations, weighted, fin, fout, root_weight):
    toy = awkward(fin)
    conv = MeanConv(fin, fout, num_relations=num_relations, root_weight=root_weight)
    torch.nn.init.normal_(conv.bias)
    edge_type = toy.edge_type if num_relations > 1 else None
    edge_weight = toy.edge_weight if weighted else None
    out = conv(toy.x, toy.edge_index, edge_type, edge_weight)
    expected = _dense_mean(dense, toy, conv, edge_type, edge_weight)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("graph", ["star", "awkward"])
@pytest.mark.parametrize(("fin", "fout"), [(6, 4), (4, 6)])
def test_equals_pyg_sageconv_mean(request, graph, fin, fout):
    toy = request.getfixturevalue(graph)(fin)
    conv = MeanConv(fin, fout)
    torch.nn.init.normal_(conv.bias)
    ref = SAGEConv(fin, fout, aggr="mean")
    with torch.no_grad():
        ref.lin_l.weight.copy_(conv.weight[0])
        ref.lin_l.bias.copy_(conv.bias)
        ref.lin_r.weight.copy_(conv.root)
    out = conv(toy.x, toy.edge_index)
    torch.testing.assert_close(out, ref(toy.x, toy.edge_index))
    typed = conv(toy.x, toy.edge_index, torch.zeros_like(toy.edge_type))
    torch.testing.assert_close(typed, out)


@pytest.mark.parametrize(("fin", "fout"), [(6, 4), (4, 6)])
def test_relational_equals_pyg_rgcnconv_mean(awkward, fin, fout):
    toy = awkward(fin)
    conv = MeanConv(fin, fout, num_relations=3)
    torch.nn.init.normal_(conv.bias)
    ref = RGCNConv(fin, fout, num_relations=3, aggr="mean")
    with torch.no_grad():
        ref.weight.copy_(conv.weight.transpose(1, 2))  # PyG stores [R, in, out]
        ref.root.copy_(conv.root.T)
        ref.bias.copy_(conv.bias)
    torch.testing.assert_close(
        conv(toy.x, toy.edge_index, toy.edge_type), ref(toy.x, toy.edge_index, toy.edge_type)
    )


def test_isolated_node_and_zero_weights():
    x = torch.randn(4, 3)
    conv = MeanConv(3, 2)
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 2]])
    out = conv(x, edge_index, edge_weight=torch.tensor([1.0, 0.0, 0.0]))
    alone = x @ conv.root.T + conv.bias
    torch.testing.assert_close(out[0], alone[0])  # no in-edges
    torch.testing.assert_close(out[2], alone[2])  # in-edges whose weights sum to zero
    torch.testing.assert_close(out[3], alone[3])  # isolated
    torch.testing.assert_close(out[1], x[0] @ conv.weight[0].T + alone[1])


def test_weighted_mean_is_scale_invariant(star):
    toy = star(6)
    conv = MeanConv(6, 4, num_relations=2)
    a = conv(toy.x, toy.edge_index, toy.edge_type, toy.edge_weight)
    b = conv(toy.x, toy.edge_index, toy.edge_type, 10 * toy.edge_weight)
    torch.testing.assert_close(a, b)


def test_mean_coefficients_sum_to_one_per_group(awkward):
    toy = awkward(2)
    coef = mean_coefficients(toy.edge_index, toy.edge_weight, toy.num_nodes, toy.edge_type, 3)
    group = toy.edge_index[1] * 3 + toy.edge_type
    sums = torch.zeros(toy.num_nodes * 3).index_add(0, group, coef)
    torch.testing.assert_close(sums[group.unique()], torch.ones(group.unique().numel()))


def test_permutation_equivariance(awkward, permute):
    toy = awkward(6)
    conv = MeanConv(6, 4, num_relations=3)
    perm = torch.randperm(toy.num_nodes, generator=torch.Generator().manual_seed(5))
    ptoy = permute(toy, perm)
    out = conv(toy.x, toy.edge_index, toy.edge_type, toy.edge_weight)
    pout = conv(ptoy.x, ptoy.edge_index, ptoy.edge_type, ptoy.edge_weight)
    torch.testing.assert_close(pout, out[perm])


def test_gradients_match_finite_differences(star):
    toy = star(3)
    conv = MeanConv(3, 2, num_relations=2).double()
    x = toy.x.double().requires_grad_()
    w = toy.edge_weight.double().requires_grad_()
    assert torch.autograd.gradcheck(lambda x, w: conv(x, toy.edge_index, toy.edge_type, w), (x, w))


def test_parameter_counts():
    def count(module: torch.nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    assert count(MeanConv(5, 3)) == 5 * 3 + 5 * 3 + 3  # W, B, b
    assert count(MeanConv(5, 3, root_weight=False, bias=False)) == 5 * 3
    assert count(MeanConv(5, 3, num_relations=4)) == 4 * 5 * 3 + 5 * 3 + 3


def test_state_dict_round_trip(star):
    toy = star(6)
    conv = MeanConv(6, 4, num_relations=2)
    torch.nn.init.normal_(conv.bias)
    fresh = MeanConv(6, 4, num_relations=2)
    fresh.load_state_dict(conv.state_dict())
    args = (toy.x, toy.edge_index, toy.edge_type, toy.edge_weight)
    torch.testing.assert_close(fresh(*args), conv(*args))
    assert set(conv.state_dict()) == {"weight", "root", "bias"}


def test_reset_parameters_reinitialises():
    conv = MeanConv(6, 4)
    for p in conv.parameters():
        torch.nn.init.constant_(p, 3.0)
    conv.reset_parameters()
    assert not torch.any(conv.weight == 3.0) and not torch.any(conv.root == 3.0)
    assert torch.all(conv.bias == 0)


def test_to_moves_everything(star):
    toy = star(6)
    conv = MeanConv(6, 4, num_relations=2).to(torch.float64)
    assert all(p.dtype == torch.float64 for p in conv.parameters())
    out = conv(toy.x.double(), toy.edge_index, toy.edge_type, toy.edge_weight)
    assert out.dtype == torch.float64


def test_repr():
    assert repr(MeanConv(16, 32)) == "MeanConv(16, 32)"
    assert repr(MeanConv(16, 32, num_relations=2)) == "MeanConv(16, 32, num_relations=2)"
    assert repr(MeanConv(8, 8, root_weight=False)) == "MeanConv(8, 8, root_weight=False)"


def test_errors(star):
    toy = star(6)
    conv = MeanConv(6, 4, num_relations=2)
    with pytest.raises(ValueError, match="non-negative 'edge_weight' for MeanConv"):
        conv(toy.x, toy.edge_index, toy.edge_type, -toy.edge_weight)
    with pytest.raises(ValueError, match=r"'x' of MeanConv to have shape \[N, 6\]"):
        conv(toy.x[:, :5], toy.edge_index, toy.edge_type)
    with pytest.raises(TypeError, match="'edge_index' of MeanConv to be of integer type"):
        conv(toy.x, toy.edge_index.float(), toy.edge_type)
    with pytest.raises(ValueError, match="'num_relations' to be an int >= 1"):
        MeanConv(6, 4, num_relations=0)
