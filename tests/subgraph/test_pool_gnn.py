"""PoolGNN: whole-graph batches equal whole-base-graph computation; pooling of given embeddings."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.utils import scatter

from mmgraph.data import SubgraphDataset
from mmgraph.subgraph import PoolGNN, make_subgraph_batch, with_split
from mmgraph.subgraph.inputs import DegreeInput, PrecomputedInput
from mmgraph.train import TrainConfig, Trainer


def reference(model: PoolGNN, dataset: SubgraphDataset, ids: list[int]) -> torch.Tensor:
    """Every layer over the whole base graph, then pooling (eval mode)."""
    batch = make_subgraph_batch(dataset)
    edge_index = dataset.graph.edge_index
    nodes, index = dataset.subgraph_index(ids)
    x = model.node_input(batch)
    outputs = [model.input_proj(x)] if model.jk else []
    h = x
    for i in range(model.num_layers):
        if model.norm:  # layer, norm, activation
            h = model.norms[i](model.gnn.convs[i](h, edge_index))
            h = model.gnn.act(h) if i < model.num_layers - 1 else h
        else:
            h = model.gnn.forward_layer(i, h, edge_index)
        outputs.append(h)
    if not model.jk:
        outputs = outputs[-1:]
    return torch.cat(
        [scatter(o[nodes], index, 0, dim_size=len(ids), reduce="sum") for o in outputs], -1
    )


@pytest.mark.parametrize("aggregator", ["mean", "gcn", "ggnn", "gin"])
def test_whole_graph_batches_match_the_full_graph(
    molecules: SubgraphDataset, aggregator: str
) -> None:
    torch.manual_seed(0)
    model = PoolGNN(
        build_tags(molecules), 6, 2, num_layers=2, aggregator=aggregator, pool="sum", jk=True
    )
    with torch.no_grad():
        for norm in model.norms:
            norm.running_mean.uniform_(-1, 1)
            norm.running_var.uniform_(0.5, 2)
    model.eval()
    ids = [5, 0, 3]
    out = model.encode(make_subgraph_batch(molecules, ids))  # only these graphs' nodes
    assert out.shape == (3, 6 * 3)
    assert torch.allclose(out, reference(model, molecules, ids), atol=1e-5)


def build_tags(dataset: SubgraphDataset) -> torch.nn.Module:
    from mmgraph.subgraph import build_node_input

    return build_node_input("attributes", dataset.graph, 4)


def test_subgraphs_of_a_base_graph(overlapping: SubgraphDataset) -> None:
    torch.manual_seed(1)
    model = PoolGNN(DegreeInput(4), 5, 2, num_layers=1, pool="sum", jk=False, norm=False).eval()
    out = model.encode(make_subgraph_batch(overlapping, [3, 1]))
    assert torch.allclose(out, reference(model, overlapping, [3, 1]), atol=1e-5)


def test_pooling_given_embeddings(overlapping: SubgraphDataset) -> None:
    table = torch.randn(40, 3, generator=torch.Generator().manual_seed(0))
    model = PoolGNN(PrecomputedInput(table), 8, 2, num_layers=0, pool="mean")
    out = model.encode(make_subgraph_batch(overlapping))
    assert torch.allclose(out[0], table[[0, 1, 2, 3]].mean(0))
    assert model.out_channels == 3 and model.aggregator is None and not model.jk
    # Only the head learns: 3 -> 8 -> 2.
    assert sum(p.numel() for p in model.parameters()) == 3 * 8 + 8 + 8 * 2 + 2


def test_module_contract(molecules: SubgraphDataset) -> None:
    torch.manual_seed(2)
    model = PoolGNN(DegreeInput(4, max_degree=4), 6, 2, num_layers=2, head_layers=1)
    mean_convs = 2 * (4 * 6 + 6 + 6) - 2 * 6 + 2 * (6 * 6) - 0  # weight and root of each layer
    expected = (
        5 * 4 + (4 * 6 + 4 * 6 + 6) + (6 * 6 + 6 * 6 + 6) + (4 * 6 + 6) + 2 * 2 * 6 + (18 * 2 + 2)
    )
    assert mean_convs > 0 and sum(p.numel() for p in model.parameters()) == expected
    assert repr(model) == (
        "PoolGNN(DegreeInput(4, max_degree=4), hidden_channels=6, num_layers=2, aggregator='mean', "
        "pool='sum', jk=True, num_classes=2)"
    )
    batch = make_subgraph_batch(molecules)
    model.eval()
    copy = PoolGNN(DegreeInput(4, max_degree=4), 6, 2, num_layers=2, head_layers=1)
    copy.load_state_dict(model.state_dict())
    assert torch.allclose(copy.eval()(batch), model(batch))
    moved = model.to(torch.float64)
    assert all(
        t.dtype == torch.float64 for t in moved.state_dict().values() if t.is_floating_point()
    )


def test_trains_on_folds(molecules: SubgraphDataset) -> None:
    from mmgraph.subgraph import SubgraphLoader

    torch.manual_seed(0)
    train_idx, test_idx = molecules.folds[0]
    batch = with_split(make_subgraph_batch(molecules), train_idx, test_idx)
    model = PoolGNN(build_tags(molecules), 8, 2, num_layers=2, aggregator="mean")
    loader = SubgraphLoader(molecules, index=train_idx, batch_size=None)
    # Long enough to converge from any initial state (the result varied with test order).
    config = TrainConfig(epochs=150, lr=0.02, patience=None, eval_every=150, progress=False)
    trainer = Trainer(model, config).fit(batch, loader=loader)
    assert trainer.evaluate(batch, "train_mask")["accuracy"] == 1.0  # rings vs chains


def test_head_dropout_drops_the_subgraph_embedding(molecules: SubgraphDataset) -> None:
    torch.manual_seed(0)
    model = PoolGNN(build_tags(molecules), 6, 2, num_layers=1, aggregator="gin", head_layers=1)
    dropped = PoolGNN(
        build_tags(molecules), 6, 2, num_layers=1, aggregator="gin", head_layers=1, head_dropout=0.5
    )
    assert isinstance(dropped.head[0], torch.nn.Dropout) and dropped.head[0].p == 0.5
    # The same parameters (dropout has none); head.0 of one is head.1 of the other.
    state = {k.replace("head.0", "head.1"): v for k, v in model.state_dict().items()}
    dropped.load_state_dict(state)
    batch = make_subgraph_batch(molecules)
    model.eval(), dropped.eval()
    assert torch.allclose(dropped(batch), model(batch))
    dropped.train()
    emb = dropped.encode(batch)
    torch.manual_seed(1)
    out = dropped.head(emb)
    torch.manual_seed(1)
    mask = torch.nn.functional.dropout(torch.ones_like(emb), 0.5)
    assert torch.allclose(out, dropped.head[1](emb * mask), atol=1e-6)


def test_errors() -> None:
    with pytest.raises(ValueError, match="'head_dropout' in"):
        PoolGNN(DegreeInput(2), 4, 2, head_dropout=1.0)
    with pytest.raises(TypeError, match="int 'out_channels'"):
        PoolGNN(torch.nn.Identity(), 4, 2)
    with pytest.raises(ValueError, match="Unknown aggregator 'sage'"):
        PoolGNN(DegreeInput(2), 4, 2, aggregator="sage")
    with pytest.raises(ValueError, match="'num_layers' to be an int >= 0"):
        PoolGNN(DegreeInput(2), 4, 2, num_layers=-1)
