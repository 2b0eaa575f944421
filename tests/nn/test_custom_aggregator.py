"""A user's aggregator, defined outside the package, registered with one line and stacked."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import Tensor, nn

from mmgraph.nn import AGGREGATORS, GNNStack, RelationalConv, build_aggregator


class ToyMaxConv(RelationalConv):
    r"""A max over the in-neighbours, then a linear map: :math:`W \max_{u} h_u + b`."""

    supports_edge_weight = False
    supports_edge_type = False

    def __init__(
        self, in_channels: int, out_channels: int, num_relations: int = 1, **kwargs: object
    ) -> None:
        super().__init__(in_channels, out_channels, num_relations, aggr="max", **kwargs)
        self.lin = nn.Linear(in_channels, out_channels)

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_type: Tensor | None = None,
        edge_weight: Tensor | None = None,
        *,
        num_targets: int | None = None,
        deg: Tensor | None = None,
    ) -> Tensor:
        edge_index, _, _, num_out = self.check_inputs(
            x, edge_index, edge_type, edge_weight, num_targets
        )
        agg = self.propagate(edge_index, x=x, edge_weight=None, size=(x.size(0), num_out))
        return self.lin(agg)


# x_0 = (1, -2), x_1 = (3, 0), x_2 = (-1, 5); edges 0 -> 2, 1 -> 2, 2 -> 0; node 1 has none.
X = torch.tensor([[1.0, -2.0], [3.0, 0.0], [-1.0, 5.0]])
EDGES = torch.tensor([[0, 1, 2], [2, 2, 0]])


@pytest.fixture
def toymax(monkeypatch: pytest.MonkeyPatch) -> type[ToyMaxConv]:
    monkeypatch.setitem(AGGREGATORS, "toymax", ToyMaxConv)  # the one registry line
    return ToyMaxConv


def test_build_by_name_and_hand_computed_value(toymax: type[ToyMaxConv]) -> None:
    conv = build_aggregator("toymax", 2, 1)
    assert type(conv) is toymax and (conv.in_channels, conv.out_channels) == (2, 1)
    with torch.no_grad():
        conv.lin.weight.copy_(torch.tensor([[1.0, 1.0]]))
        conv.lin.bias.fill_(0.5)
    # node 0: max(x_2) = (-1, 5) -> 4.5; node 1: no neighbour, 0 -> 0.5; node 2:
    # max(x_0, x_1) = (3, 0) -> 3.5.
    torch.testing.assert_close(conv(X, EDGES), torch.tensor([[4.5], [0.5], [3.5]]))
    # num_targets: the outputs of the first rows only (every edge into them).
    into_first = torch.tensor([[2, 1], [0, 1]])
    torch.testing.assert_close(conv(X, into_first, num_targets=2), conv(X, into_first)[:2])
    assert repr(conv) == "ToyMaxConv(2, 1)"


def test_stack_by_name(toymax: type[ToyMaxConv]) -> None:
    torch.manual_seed(0)
    stack = GNNStack("toymax", 2, 3, num_layers=2).eval()
    assert [type(c) for c in stack.convs] == [toymax, toymax]
    assert [(c.in_channels, c.out_channels) for c in stack.convs] == [(2, 3), (3, 3)]
    out = stack(X, EDGES)
    assert out.shape == (3, 3)
    first, second = stack.convs
    torch.testing.assert_close(out, second(torch.relu(first(X, EDGES)), EDGES))
    assert not stack.recurrent and not stack.needs_degree


def test_unregistered_after_teardown() -> None:
    assert "toymax" not in AGGREGATORS
    with pytest.raises(ValueError, match=r"Unknown aggregator 'toymax'; expected one of \["):
        build_aggregator("toymax", 2, 1)


def test_every_registered_conv_has_one_interface() -> None:
    reference = inspect.signature(RelationalConv.forward)
    for name, cls in AGGREGATORS.items():
        assert issubclass(cls, RelationalConv), name
        assert inspect.signature(cls.forward) == reference, name
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        assert [p.name for p in params[:3]] == ["in_channels", "out_channels", "num_relations"]
        assert params[2].default == 1, name
        # layer options, keyword-only; no **kwargs for MessagePassing, whose aggr and flow
        # these layers would not follow (they sum with relational_sum)
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[3:]), name


def test_capability_flags() -> None:
    flags = {
        name: (cls.needs_degree, cls.recurrent, cls.supports_sparse_input)
        for name, cls in AGGREGATORS.items()
    }
    assert flags == {
        "mean": (False, False, True),
        "gcn": (True, False, True),
        "ggnn": (False, True, True),
        "gin": (False, False, False),
    }
    assert all(cls.supports_edge_weight and cls.supports_edge_type for cls in AGGREGATORS.values())


def test_message_passing_kwargs_reach_a_layer_of_yours(toymax: type[ToyMaxConv]) -> None:
    """Passed on to MessagePassing by a layer that takes **kwargs; the built-in layers take
    none (tests/nn/test_stack.py)."""
    conv = build_aggregator("toymax", 4, 4, decomposed_layers=2)
    assert conv.decomposed_layers == 2 and conv.aggr == "max"


@pytest.mark.parametrize("name", ["mean", "gcn", "ggnn", "gin"])
def test_every_conv_honours_num_targets_and_reads_deg_by_its_flag(name: str) -> None:
    torch.manual_seed(0)
    conv = build_aggregator(name, 4, 4, num_relations=2).eval()
    x = torch.randn(6, 4)
    edge_index = torch.tensor([[3, 4, 5, 0, 1, 2, 5], [0, 0, 1, 1, 2, 2, 2]])  # into rows < 3
    edge_type = torch.tensor([0, 1, 0, 1, 0, 1, 1])
    edge_weight = torch.tensor([1.0, 2.0, 0.5, 1.5, 0.25, 3.0, 1.0])
    args = (x, edge_index, edge_type, edge_weight)
    full = conv(*args)
    torch.testing.assert_close(conv(*args, num_targets=3), full[:3])
    deg = torch.full((6,), 9.0)
    with_deg = conv(*args, deg=deg)
    if conv.needs_degree:  # read: other degrees, other outputs; its own, the same outputs
        assert not torch.allclose(with_deg, full)
        own = conv.degree(edge_index, edge_weight, 6)
        torch.testing.assert_close(conv(*args, deg=own), full)
    else:  # ignored
        torch.testing.assert_close(with_deg, full)


def test_the_model_takes_a_registered_aggregator_by_name(toymax: type[ToyMaxConv]) -> None:
    from mmgraph.data import MultimodalGraph
    from mmgraph.models import MultimodalGNN

    graph = MultimodalGraph(
        EDGES,
        numeric=X,
        y=torch.tensor([0, 1, 0]),
        class_names=["human", "bot"],
        train_mask=torch.tensor([True, True, False]),
    )
    torch.manual_seed(0)
    model = MultimodalGNN.from_graph(
        graph, aggregator="toymax", head="linear", modality_dim=4, hidden=5
    ).eval()
    assert isinstance(model.gnn, GNNStack)
    assert model.gnn.convs and all(type(conv) is toymax for conv in model.gnn.convs)
    logits = model(graph)
    assert isinstance(logits, Tensor) and logits.shape == (3, 2)
    assert torch.isfinite(logits).all()
