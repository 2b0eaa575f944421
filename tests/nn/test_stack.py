from __future__ import annotations

import pytest
import torch

from mmgraph.errors import InputError
from mmgraph.nn import (
    AGGREGATORS,
    GCNConv,
    GGNNConv,
    GNNStack,
    MeanConv,
    RelationalConv,
    build_aggregator,
)
from mmgraph.resolver import InputTypeError


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _layer_by_layer(stack, toy, edge_type, edge_weight):
    h = toy.x
    for i in range(stack.num_layers):
        h = stack.forward_layer(i, h, toy.edge_index, edge_type, edge_weight)
    return h


@pytest.mark.parametrize("aggregator", ["mean", "gcn", "ggnn"])
@pytest.mark.parametrize("num_relations", [1, 3])
@pytest.mark.parametrize("training", [False, True])
def test_forward_equals_layer_by_layer(awkward, aggregator, num_relations, training):
    toy = awkward(5)
    stack = GNNStack(aggregator, 5, 8, num_layers=3, num_relations=num_relations, dropout=0.3)
    stack.train(training)
    edge_type = toy.edge_type if num_relations > 1 else None
    torch.manual_seed(0)  # the same dropout masks in both passes
    out = stack(toy.x, toy.edge_index, edge_type, toy.edge_weight)
    torch.manual_seed(0)
    layered = _layer_by_layer(stack, toy, edge_type, toy.edge_weight)
    torch.testing.assert_close(layered, out)
    assert out.shape == (toy.num_nodes, stack.out_channels) == (toy.num_nodes, 8)


def test_gcn_stack_is_composition_of_layers(star):
    toy = star(5)
    stack = GNNStack("gcn", 5, 8, num_layers=3, act="tanh")
    h = toy.x
    for i, conv in enumerate(stack.convs):
        h = conv(h, toy.edge_index)
        h = torch.tanh(h) if i < 2 else h  # no activation after the last layer
    torch.testing.assert_close(stack(toy.x, toy.edge_index), h)
    assert [type(c) for c in stack.convs] == [GCNConv] * 3
    assert [(c.in_channels, c.out_channels) for c in stack.convs] == [(5, 8), (8, 8), (8, 8)]


def test_ggnn_stack_is_one_ggnn_with_k_steps(star):
    toy = star(5)
    stack = GNNStack("ggnn", 5, 8, num_layers=4, num_relations=2)
    assert len(stack.convs) == 1 and isinstance(stack.convs[0], GGNNConv)
    assert stack.convs[0].num_steps == 4
    out = stack(toy.x, toy.edge_index, toy.edge_type)
    torch.testing.assert_close(out, stack.convs[0](toy.x, toy.edge_index, toy.edge_type))
    untied = GNNStack("ggnn", 5, 8, num_layers=4, tie_weights=False)
    assert not untied.convs[0].tie_weights


def test_layer_class_and_layer_kwargs(star):
    toy = star(5)
    stack = GNNStack(MeanConv, 5, 8, num_layers=2, root_weight=False, bias=False)
    assert stack.aggregator == "MeanConv"
    assert _count(stack) == 5 * 8 + 8 * 8
    assert stack(toy.x, toy.edge_index).shape == (4, 8)


def test_eval_mode_is_deterministic_and_dropout_acts_in_training(star):
    toy = star(5)
    stack = GNNStack("mean", 5, 8, num_layers=2, dropout=0.5).eval()
    torch.testing.assert_close(stack(toy.x, toy.edge_index), stack(toy.x, toy.edge_index))
    stack.train()
    torch.manual_seed(1)
    a = stack(toy.x, toy.edge_index)
    torch.manual_seed(2)
    assert not torch.allclose(a, stack(toy.x, toy.edge_index))


def test_build_aggregator():
    assert sorted(AGGREGATORS) == ["gcn", "ggnn", "gin", "mean"]
    conv = build_aggregator("GCN", 5, 3, num_relations=2, bias=False)
    assert isinstance(conv, GCNConv) and conv.num_relations == 2 and conv.bias is None
    ggnn = build_aggregator("ggnn", 5, 3, num_steps=4)
    assert isinstance(ggnn, GGNNConv) and ggnn.num_steps == 4
    assert isinstance(build_aggregator("mean", 5, 3), MeanConv)
    with pytest.raises(ValueError, match=r"Unknown aggregator 'gat'; expected one of \['gcn', "):
        build_aggregator("gat", 5, 3)


@pytest.mark.parametrize("option", [{"aggr": "max"}, {"flow": "target_to_source"}])
@pytest.mark.parametrize("aggregator", ["mean", "gcn", "ggnn", "gin"])
def test_message_passing_options_the_layers_would_not_follow_are_refused(aggregator, option):
    """The layers sum with their own coefficients: an `aggr` or a `flow` taken and ignored
    gave other outputs than PyG's layer with the same option, without a word."""
    cls = AGGREGATORS[aggregator]
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{next(iter(option))}'"):
        cls(4, 4, **option)
    with pytest.raises(InputTypeError, match=f"Unknown option \\['{next(iter(option))}'\\] of"):
        build_aggregator(aggregator, 4, 4, **option)
    with pytest.raises(InputTypeError, match=f"of the aggregator {cls.__name__}: its options"):
        GNNStack(aggregator, 4, 4, num_layers=2, **option)


def test_a_stack_names_the_options_it_sets_and_those_a_layer_takes():
    with pytest.raises(InputTypeError, match=r"its options are \['bias'\]"):
        GNNStack("gcn", 4, 4, num_layers=2, add_self_loops=False)
    with pytest.raises(InputTypeError, match="set by GNNStack from 'num_layers'"):
        GNNStack("ggnn", 4, 4, num_layers=2, num_steps=5)
    assert GNNStack("mean", 4, 4, num_layers=2, root_weight=False).convs[0].root is None


def test_a_layer_of_yours_may_pass_aggr_but_not_another_flow():
    class MaxConv(RelationalConv):
        def __init__(self, in_channels, out_channels, num_relations=1, **kwargs):
            super().__init__(in_channels, out_channels, num_relations, aggr="max", **kwargs)

    assert MaxConv(3, 3).aggr == "max"
    with pytest.raises(InputError, match=r"from edge_index\[0\] to edge_index\[1\] only"):
        MaxConv(3, 3, flow="target_to_source")


def test_parameter_counts():
    gcn = GNNStack("gcn", 5, 8, num_layers=3, num_relations=2)
    per_hidden = 3 * 8 * 8 + 8  # two relation weights, a self-loop weight, a bias
    assert _count(gcn) == (3 * 5 * 8 + 8) + 2 * per_hidden
    mean = GNNStack("mean", 5, 8, num_layers=2)
    assert _count(mean) == (2 * 5 * 8 + 8) + (2 * 8 * 8 + 8)
    ggnn = GNNStack("ggnn", 5, 8, num_layers=6)
    assert _count(ggnn) == (5 * 8 + 8) + 8 * 8 + (2 * 3 * 8 * 8 + 2 * 3 * 8)
    assert _count(GNNStack("gcn", 5, 8, num_layers=2, act="leaky_relu")) == (5 * 8 + 8) + (
        8 * 8 + 8
    )


def test_state_dict_round_trip(awkward):
    toy = awkward(5)
    for aggregator in AGGREGATORS:
        stack = GNNStack(aggregator, 5, 8, num_layers=2, num_relations=3).eval()
        fresh = GNNStack(aggregator, 5, 8, num_layers=2, num_relations=3).eval()
        fresh.load_state_dict(stack.state_dict())
        args = (toy.x, toy.edge_index, toy.edge_type, toy.edge_weight)
        torch.testing.assert_close(fresh(*args), stack(*args))


def test_reset_parameters_resets_every_layer():
    stack = GNNStack("gcn", 5, 8, num_layers=2)
    for p in stack.parameters():
        torch.nn.init.constant_(p, 3.0)
    stack.reset_parameters()
    assert all(not torch.all(p == 3.0) for p in stack.parameters())


def test_to_moves_everything(star):
    toy = star(5)
    stack = GNNStack("ggnn", 5, 8, num_layers=2).to(torch.float64)
    assert all(p.dtype == torch.float64 for p in stack.parameters())
    assert stack(toy.x.double(), toy.edge_index).dtype == torch.float64


def test_repr():
    stack = GNNStack("gcn", 1433, 64, num_layers=2, num_relations=2, dropout=0.5)
    assert repr(stack) == (
        "GNNStack('gcn', 1433, 64, num_layers=2, num_relations=2, dropout=0.5, act='relu')"
    )
    ggnn = GNNStack("ggnn", 5, 8, num_layers=3, act=None)
    assert repr(ggnn).endswith("act='identity')")
    assert repr(ggnn.convs[0]) == "GGNNConv(5, 8, num_steps=3)"


def test_errors(star):
    toy = star(5)
    with pytest.raises(ValueError, match=r"Unknown aggregator 'sage'; expected one of"):
        GNNStack("sage", 5, 8, num_layers=2)
    with pytest.raises(TypeError, match="Expected 'aggregator' to be a name in"):
        GNNStack(3, 5, 8, num_layers=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'num_layers' to be a positive int \\(got 0\\)"):
        GNNStack("gcn", 5, 8, num_layers=0)
    with pytest.raises(ValueError, match=r"'dropout' in \[0, 1\) \(got 1.0\)"):
        GNNStack("gcn", 5, 8, num_layers=2, dropout=1.0)
    with pytest.raises(ValueError, match=r"Unknown activation 'swish'; expected one of \['elu'"):
        GNNStack("gcn", 5, 8, num_layers=2, act="swish")
    stack = GNNStack("ggnn", 5, 8, num_layers=2)
    with pytest.raises(ValueError, match=r"layer 'i' in \[0, 2\) \(got 2\)"):
        stack.forward_layer(2, toy.x, toy.edge_index)
    with pytest.raises(ValueError, match=r"input of layer 0 to have shape \[N, 5\]"):
        stack.forward_layer(0, toy.x[:, :4], toy.edge_index)
    with pytest.raises(ValueError, match="Expected 'edge_type' for GCNConv with num_relations=2"):
        GNNStack("gcn", 5, 8, num_layers=2, num_relations=2)(toy.x, toy.edge_index)


@pytest.mark.parametrize("num_relations", [1, 2])
def test_graph_without_edges(num_relations):
    x = torch.randn(3, 5)
    edge_index = torch.empty(2, 0, dtype=torch.long)
    edge_type = torch.empty(0, dtype=torch.long) if num_relations > 1 else None
    gcn = GCNConv(5, 4, num_relations=num_relations)
    root = gcn.weight[0] if gcn.root is None else gcn.root
    torch.testing.assert_close(gcn(x, edge_index, edge_type), x @ root.T + gcn.bias)
    mean = MeanConv(5, 4, num_relations=num_relations)
    torch.testing.assert_close(mean(x, edge_index, edge_type), x @ mean.root.T + mean.bias)
    ggnn = GGNNConv(5, 5, num_steps=1, num_relations=num_relations)
    expected = ggnn.grus[0](torch.zeros(3, 5), x)
    torch.testing.assert_close(ggnn(x, edge_index, edge_type), expected)
