"""The sequence modality of MultimodalGraph: padding, lengths, masks, checks, conversions."""

from __future__ import annotations

import pytest
import torch

from mmgraph.data import (
    MultimodalGraph,
    from_networkx,
    pad_sequences,
    step_mask,
    summarize,
    to_networkx,
)
from mmgraph.data.schema import GraphSchema, conform


def ragged_graph() -> MultimodalGraph:
    steps = [[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]], [], [[5.0, 50.0]]]
    return MultimodalGraph(
        num_nodes=3, sequence=steps, sequence_names=["posts", "likes"], node_id=["a", "b", "c"]
    )


def test_ragged_lists_are_padded_with_their_lengths() -> None:
    graph = ragged_graph()
    assert graph.sequence.shape == (3, 3, 2)
    assert graph.sequence_length.tolist() == [3, 0, 1]
    assert graph.sequence_present.tolist() == [True, False, True]
    assert graph.sequence[2].tolist() == [[5.0, 50.0], [0.0, 0.0], [0.0, 0.0]]
    assert graph.sequence_mask().tolist() == [
        [True, True, True],
        [False, False, False],
        [True, False, False],
    ]
    assert graph.sequence_views == {"posts": 1, "likes": 1}
    assert graph.modalities == ["sequence"]


def test_a_tensor_without_lengths_has_all_its_steps_and_default_view_names() -> None:
    graph = MultimodalGraph(sequence=torch.ones(4, 5, 3))
    assert graph.sequence_length.tolist() == [5] * 4
    assert graph.sequence_views == {"sequence_0": 1, "sequence_1": 1, "sequence_2": 1}
    expected = torch.tensor([[0, 0, 0], [1, 1, 0]]).bool()
    assert torch.equal(step_mask(torch.tensor([0, 2]), 3), expected)


def test_pad_sequences_refuses_steps_of_different_sizes() -> None:
    with pytest.raises(ValueError, match="same size d"):
        pad_sequences([torch.ones(2, 3), torch.ones(1, 2)])
    with pytest.raises(ValueError, match=r"shape \[T, d\]"):
        pad_sequences([torch.ones(2)])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sequence": torch.ones(3, 4)}, ValueError, r"\[N, T, d\]"),
        ({"sequence": torch.ones(3, 4, 2, dtype=torch.long)}, TypeError, "float tensor"),
        (
            {"sequence": torch.ones(3, 4, 2), "sequence_length": torch.tensor([1, 5, 0])},
            ValueError,
            r"length 5 but the sequence has 4 steps",
        ),
        (
            {"sequence": torch.ones(3, 4, 2), "sequence_length": torch.tensor([1.0, 2.0, 0.0])},
            TypeError,
            "integer tensor",
        ),
        (
            {"sequence": torch.ones(3, 4, 2), "sequence_names": ["a"], "sequence_sizes": [1]},
            ValueError,
            "hold the 2 values",
        ),
        (
            {"sequence": torch.ones(3, 4, 2), "sequence_names": ["a", "a"]},
            ValueError,
            "distinct",
        ),
        (
            {
                "sequence": torch.ones(3, 4, 2),
                "sequence_length": torch.tensor([1, 0, 2]),
                "presence": {"sequence": torch.tensor([True, True, True])},
            },
            ValueError,
            "Node 1 is marked present",
        ),
    ],
)
def test_bad_sequences_are_refused(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        MultimodalGraph(num_nodes=3, **kwargs)


def test_nan_is_refused_in_steps_but_not_in_padding() -> None:
    x = torch.ones(2, 3, 1)
    x[0, 2, 0] = float("nan")
    MultimodalGraph(sequence=x, sequence_length=torch.tensor([2, 3]))  # padding: never read
    with pytest.raises(ValueError, match="node 0, step 2"):
        MultimodalGraph(sequence=x)


def test_subgraph_networkx_summary_and_schema_keep_the_steps() -> None:
    graph = ragged_graph()
    sub = graph.subgraph(torch.tensor([0, 2]))
    assert sub.sequence_length.tolist() == [3, 1] and sub.sequence_names == ["posts", "likes"]
    back = from_networkx(to_networkx(graph))
    assert back.sequence_length.tolist() == [3, 0, 1]
    assert torch.equal(back.sequence[back.sequence_mask()], graph.sequence[graph.sequence_mask()])
    info = summarize(graph)["modalities"]["sequence"]
    assert info == {"nodes": 2, "views": {"posts": 1, "likes": 1}, "steps": {"min": 1, "max": 3}}
    schema = GraphSchema.of(graph)
    swapped = MultimodalGraph(
        num_nodes=3, sequence=graph.sequence.flip(2), sequence_names=["likes", "posts"]
    )
    assert torch.equal(conform(swapped, schema).sequence, graph.sequence)
    without = conform(MultimodalGraph(numeric=torch.ones(3, 1)), schema)
    assert without.sequence.shape == (3, 1, 2) and not bool(without.sequence_present.any())
    with pytest.raises(ValueError, match="lack the views"):
        conform(MultimodalGraph(num_nodes=3, sequence=torch.ones(3, 2, 2)), schema)
