"""Trimmed layers on sampled batches give the seeds exactly the untrimmed outputs."""

from __future__ import annotations

import pytest
import torch

from mmgraph import seed_everything
from mmgraph.data import MultimodalGraph
from mmgraph.models import MultimodalGNN
from mmgraph.nn import (
    GCNConv,
    GGNNConv,
    GINConv,
    GNNStack,
    MeanConv,
    apply_trimmed,
    build_aggregator,
)
from mmgraph.nn.trim import check_sampled_sizes, layer_slice
from mmgraph.sampling import NeighborLoader


def sampled_graph(n: int = 60, e: int = 400) -> MultimodalGraph:
    gen = torch.Generator().manual_seed(0)
    edge_index = torch.randint(0, n, (2, e), generator=gen)  # self loops and repeats included
    g = MultimodalGraph(
        edge_index,
        numeric=torch.randn(n, 3, generator=gen),
        edge_type=torch.randint(0, 2, (e,), generator=gen),
        relation_names=["follower", "following"],
        edge_weight=torch.rand(e, generator=gen) + 0.1,
        y=torch.randint(0, 3, (n,), generator=gen),
    )
    g.x_text = torch.randn(n, 6, generator=gen)
    g.text_present = torch.rand(n, generator=gen) > 0.2
    return g


def first_batch(g: MultimodalGraph, fanouts: list[int], batch_size: int = 5):
    loader = NeighborLoader(g, fanouts, batch_size=batch_size, shuffle=True, seed=1)
    return next(iter(loader))


def test_layer_slice_by_hand() -> None:
    nodes, edges = [2, 5, 9], [6, 14]
    # Two layers: the first reads every node and edge and writes hops 0-1, the second
    # reads hops 0-1 over the edges of hop 0 and writes the seeds.
    first = layer_slice(0, 2, nodes, edges)
    second = layer_slice(1, 2, nodes, edges)
    assert (first.num_inputs, first.num_targets, first.num_edges) == (16, 7, 20)
    assert (second.num_inputs, second.num_targets, second.num_edges) == (7, 2, 6)
    # One layer on a two-hop batch ignores the second hop.
    only = layer_slice(0, 1, nodes, edges)
    assert (only.num_inputs, only.num_targets, only.num_edges) == (7, 2, 6)
    with pytest.raises(ValueError, match="layer 'i' in"):
        layer_slice(2, 2, nodes, edges)


def test_check_sampled_sizes_errors() -> None:
    with pytest.raises(ValueError, match="at least 3 hops"):
        check_sampled_sizes([2, 5, 9], [6, 14], 3)
    with pytest.raises(ValueError, match="one 'num_sampled_edges' entry per hop"):
        check_sampled_sizes([2, 5, 9], [6], 2)


@pytest.mark.parametrize("cls", [MeanConv, GCNConv, GINConv])
@pytest.mark.parametrize("num_relations", [1, 2])
@pytest.mark.parametrize("widen", [False, True])
def test_conv_num_targets_equals_first_rows(cls: type, num_relations: int, widen: bool) -> None:
    torch.manual_seed(0)
    n, t = 12, 5
    x = torch.randn(n, 4)
    edge_index = torch.stack([torch.randint(0, n, (30,)), torch.randint(0, t, (30,))])
    edge_type = torch.randint(0, num_relations, (30,))
    edge_weight = torch.rand(30)
    conv = cls(4, 8 if widen else 3, num_relations=num_relations).eval()  # both orders
    args = (x, edge_index, edge_type if num_relations > 1 else None, edge_weight)
    full = conv(*args)
    torch.testing.assert_close(conv(*args, num_targets=t), full[:t])


@pytest.mark.parametrize("num_relations", [1, 2])
def test_ggnn_step_num_targets_equals_first_rows(num_relations: int) -> None:
    torch.manual_seed(0)
    n, t = 12, 5
    h = torch.randn(n, 6)
    edge_index = torch.stack([torch.randint(0, n, (30,)), torch.randint(0, t, (30,))])
    edge_type = torch.randint(0, num_relations, (30,)) if num_relations > 1 else None
    conv = GGNNConv(6, 6, num_steps=2, num_relations=num_relations)
    full = conv.step(0, h, edge_index, edge_type)
    torch.testing.assert_close(conv.step(0, h, edge_index, edge_type, num_targets=t), full[:t])


def test_num_targets_refuses_edges_outside_the_targets() -> None:
    conv = MeanConv(4, 3)
    x = torch.randn(6, 4)
    edge_index = torch.tensor([[0, 1], [2, 5]])
    with pytest.raises(ValueError, match="point into the first num_targets=3"):
        conv(x, edge_index, num_targets=3)
    with pytest.raises(ValueError, match="'num_targets' of MeanConv in"):
        conv(x, edge_index, num_targets=7)


@pytest.mark.parametrize("aggregator", ["mean", "gcn", "ggnn", "gin"])
@pytest.mark.parametrize("fanouts", [[3, 2], [4, -1, 2]])
def test_stack_trimmed_equals_untrimmed(aggregator: str, fanouts: list[int]) -> None:
    g = sampled_graph()
    batch = first_batch(g, fanouts)
    torch.manual_seed(0)
    stack = GNNStack(aggregator, 6, 8, num_layers=2, num_relations=2).eval()
    args = (batch.x_text, batch.edge_index, batch.edge_type, batch.edge_weight)
    full = stack(*args)
    trimmed = stack(
        *args,
        num_sampled_nodes=batch.num_sampled_nodes,
        num_sampled_edges=batch.num_sampled_edges,
    )
    assert trimmed.shape == (batch.batch_size, 8)
    torch.testing.assert_close(trimmed, full[: batch.batch_size])


@pytest.mark.parametrize("aggregator", ["mean", "gcn", "gin"])
def test_apply_trimmed_head_equals_untrimmed(aggregator: str) -> None:
    # A layer outside the stack (a conv head) trimmed like the stack's: a GCN head gets the
    # whole batch's degrees without the caller computing them.
    g = sampled_graph()
    batch = first_batch(g, [3, 2, 2])
    torch.manual_seed(0)
    stack = GNNStack(aggregator, 6, 8, num_layers=2, num_relations=2).eval()
    head = build_aggregator(aggregator, 8, 3, num_relations=2).eval()
    edges = (batch.edge_index, batch.edge_type, batch.edge_weight)
    full = head(torch.relu(stack(batch.x_text, *edges)), *edges)
    sizes = {
        "num_sampled_nodes": batch.num_sampled_nodes,
        "num_sampled_edges": batch.num_sampled_edges,
    }
    h = stack(batch.x_text, *edges, num_later_layers=1, **sizes)
    out = apply_trimmed(head, 2, 3, torch.relu(h), *edges, **sizes)
    assert out.shape == (batch.batch_size, 3)
    torch.testing.assert_close(out, full[: batch.batch_size])


def test_stack_trims_custom_layers_by_slicing() -> None:
    class PlainConv(MeanConv):  # a user's layer that knows nothing of num_targets
        supports_num_targets = False  # the flag the stack reads: it slices the output

        def forward(self, x, edge_index, edge_type=None, edge_weight=None):  # type: ignore[override]
            return super().forward(x, edge_index, edge_type, edge_weight)

    g = sampled_graph()
    batch = first_batch(g, [3, 2])
    stack = GNNStack(PlainConv, 6, 8, num_layers=2).eval()
    full = stack(batch.x_text, batch.edge_index)
    trimmed = stack(
        batch.x_text,
        batch.edge_index,
        num_sampled_nodes=batch.num_sampled_nodes,
        num_sampled_edges=batch.num_sampled_edges,
    )
    torch.testing.assert_close(trimmed, full[: batch.batch_size])


@pytest.mark.parametrize(
    ("aggregator", "head", "fanouts"),
    [
        ("mean", "linear", [3, 2]),
        ("gcn", "linear", [3, 2, 2]),
        ("ggnn", "linear", [3, 2]),
        ("mean", "conv", [3, 2, 2]),
        ("gcn", "conv", [4, 3, 2]),
    ],
)
def test_model_seed_logits_equal_untrimmed(aggregator: str, head: str, fanouts: list[int]) -> None:
    g = sampled_graph()
    batch = first_batch(g, fanouts)
    seed_everything(0)
    model = MultimodalGNN.from_graph(
        g, aggregator=aggregator, head=head, num_layers=2, hidden=8, modality_dim=4
    ).eval()
    full = model(batch, seeds_only=False)
    trimmed = model(batch)  # a sampled batch: the seeds only, by default
    assert full.shape[0] == batch.num_nodes
    assert trimmed.shape == (batch.batch_size, 3)
    torch.testing.assert_close(trimmed, full[: batch.batch_size])
    embeddings = model.encode(batch, seeds_only=True)
    torch.testing.assert_close(embeddings, model.encode(batch)[: batch.batch_size])


def test_model_trimmed_gradients_equal_untrimmed() -> None:
    g = sampled_graph()
    batch = first_batch(g, [3, 2])
    seed_everything(0)
    model = MultimodalGNN.from_graph(g, num_layers=2, hidden=8, modality_dim=4, dropout=0.0)
    grads = []
    for seeds_only in (False, True):
        model.zero_grad()
        model(batch, seeds_only=seeds_only)[: batch.batch_size].sum().backward()
        grads.append([p.grad.clone() for p in model.parameters() if p.grad is not None])
    assert len(grads[0]) == len(grads[1])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)


def test_full_graph_forward_is_not_trimmed() -> None:
    g = sampled_graph()
    model = MultimodalGNN.from_graph(g, num_layers=2, hidden=8, modality_dim=4).eval()
    assert model(g).shape == (g.num_nodes, 3)
