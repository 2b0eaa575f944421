from __future__ import annotations

import pytest
import torch

from mmgraph.nn import RelationalConv, check_graph_inputs


def _ok(**overrides):
    args = dict(
        x=torch.randn(4, 3),
        edge_index=torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]]),
        edge_type=torch.tensor([0, 1, 0, 1, 0, 1]),
        edge_weight=torch.rand(6),
    )
    args.update(overrides)
    return args


def _check(num_relations=2, nonnegative_weights=False, **overrides):
    a = _ok(**overrides)
    return check_graph_inputs(
        a["x"],
        a["edge_index"],
        a["edge_type"],
        a["edge_weight"],
        in_channels=3,
        num_relations=num_relations,
        nonnegative_weights=nonnegative_weights,
        layer="TestConv",
    )


def test_canonical_forms():
    edge_index, edge_type, edge_weight = _check(
        edge_index=torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]], dtype=torch.int32),
        edge_type=torch.tensor([0, 1, 0, 1, 0, 1], dtype=torch.int16),
        edge_weight=torch.rand(6, dtype=torch.float64),
    )
    assert edge_index.dtype == torch.int64 and edge_type is not None
    assert edge_type.dtype == torch.int64
    assert edge_weight is not None and edge_weight.dtype == torch.float32
    # With one relation the (all-zero) types are checked, then dropped.
    _, edge_type, _ = _check(num_relations=1, edge_type=torch.zeros(6, dtype=torch.long))
    assert edge_type is None
    # No edges at all is fine.
    edge_index, _, _ = _check(
        num_relations=1,
        edge_index=torch.empty(2, 0, dtype=torch.long),
        edge_type=None,
        edge_weight=torch.empty(0),
    )
    assert edge_index.shape == (2, 0)


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"x": [[1.0, 2.0, 3.0]]}, TypeError, "Expected 'x' of TestConv to be a torch.Tensor"),
        ({"x": torch.ones(4, 3, dtype=torch.long)}, TypeError, "floating point type"),
        ({"x": torch.randn(4, 5)}, ValueError, r"shape \[N, 3\] \(got \[4, 5\]\)"),
        ({"x": torch.randn(4)}, ValueError, r"shape \[N, 3\]"),
        ({"edge_index": [[0, 1], [1, 0]]}, TypeError, "'edge_index' of TestConv to be a torch"),
        (  # not "convert it with .long()", which led to a shape error next
            {"edge_index": torch.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 1.0], (4, 4))},
            TypeError,
            r"dense \[2, E\] tensor of node ids \(got a sparse_coo \[4, 4\] adjacency matrix\)"
            r".*to_edge_index\(adj\)",
        ),
        (
            {"edge_index": torch.tensor([[0.0, 1.0], [1.0, 0.0]])},
            TypeError,
            "Expected 'edge_index' of TestConv to be of integer type \\(got 'torch.float32'\\)",
        ),
        ({"edge_index": torch.tensor([0, 1, 2])}, ValueError, r"shape \[2, E\] \(got \[3\]\)"),
        ({"edge_index": torch.zeros(3, 6, dtype=torch.long)}, ValueError, r"shape \[2, E\]"),
        (
            {"edge_index": torch.tensor([[0, 0, 0, 1, 2, 4], [1, 2, 3, 0, 0, 0]])},
            ValueError,
            r"node indices in \[0, 4\) as 'x' has 4 rows \(got values in \[0, 4\]\)",
        ),
        (
            {"edge_index": torch.tensor([[0, 0, 0, 1, 2, -1], [1, 2, 3, 0, 0, 0]])},
            ValueError,
            r"got values in \[-1, 3\]",
        ),
        ({"edge_type": None}, ValueError, "Expected 'edge_type' for TestConv with num_relations=2"),
        (
            {"edge_type": torch.zeros(6)},
            TypeError,
            "'edge_type' of TestConv to be an integer.*; an edge weight goes in edge_weight=",
        ),
        ({"edge_type": torch.zeros(5, dtype=torch.long)}, ValueError, r"shape \[6\]"),
        (
            {"edge_type": torch.tensor([0, 1, 2, 1, 0, 1])},
            ValueError,
            r"in \[0, 2\) for num_relations=2 \(got values in \[0, 2\]\)",
        ),
        ({"edge_weight": torch.ones(6, dtype=torch.long)}, TypeError, "floating point tensor"),
        ({"edge_weight": torch.ones(6, 1)}, ValueError, r"shape \[6\], one weight per edge"),
        (
            {"edge_weight": torch.tensor([1.0, float("nan"), 1, 1, 1, 1])},
            ValueError,
            "finite 'edge_weight'",
        ),
    ],
)
def test_check_errors(overrides, error, match):
    with pytest.raises(error, match=match):
        _check(**overrides)


def test_negative_weights_only_rejected_when_asked():
    weight = torch.tensor([1.0, -0.5, 1, 1, 1, 1])
    _check(edge_weight=weight)
    with pytest.raises(ValueError, match=r"non-negative 'edge_weight' .* minimum -0.5"):
        _check(edge_weight=weight, nonnegative_weights=True)


@pytest.mark.parametrize(("fin", "fout"), [(5, 3), (3, 5)])  # transform first / aggregate first
@pytest.mark.parametrize("num_relations", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_relational_sum_matches_dense(dense, awkward, fin, fout, num_relations, weighted):
    toy = awkward(fin)
    edge_type = toy.edge_type if num_relations == 3 else None
    edge_weight = toy.edge_weight if weighted else None
    weight = torch.randn(num_relations, fout, fin)  # stored like nn.Linear: [R, out, in]
    conv = RelationalConv(fin, fout, num_relations)
    out = conv.relational_sum(toy.x, toy.edge_index, edge_type, edge_weight, weight)
    adj = dense(toy.edge_index, toy.num_nodes, edge_type, edge_weight, num_relations)
    expected = sum(adj[r] @ toy.x.double() @ weight[r].double().T for r in range(num_relations))
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["gcn", "mean", "ggnn", "gin"])
def test_an_input_of_another_float_dtype_is_named_with_both_fixes(name: str) -> None:
    from mmgraph.nn import AGGREGATORS

    layer = AGGREGATORS[name](3, 2)
    x, edges = torch.randn(4, 3, dtype=torch.float64), torch.tensor([[0, 1, 2], [1, 2, 3]])
    cls = type(layer).__name__
    with pytest.raises(
        TypeError, match=rf"x of {cls} in torch.float32, .* x.float\(\), or the {cls} with .double"
    ):
        layer(x, edges)
    assert layer.double()(x, edges).dtype == torch.float64
