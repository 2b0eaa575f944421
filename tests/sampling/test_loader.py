from __future__ import annotations

import math

import pytest
import torch
from torch_geometric.data import Data

from mmgraph.data import MultimodalGraph
from mmgraph.sampling import NeighborLoader


def make_graph(image_paths: bool = False) -> MultimodalGraph:
    gen = torch.Generator().manual_seed(0)
    n = 30
    src = torch.randint(0, n, (120,), generator=gen)
    dst = torch.randint(0, n, (120,), generator=gen)
    keep = src != dst
    edge_index = torch.stack([src[keep], dst[keep]])
    e = edge_index.size(1)
    numeric = torch.randn(n, 3, generator=gen)
    numeric[::4, 1] = math.nan
    y = torch.randint(0, 3, (n,), generator=gen)
    y[::7] = -1
    image = [f"img/{i}.png" if i % 3 else None for i in range(n)] if image_paths else None
    return MultimodalGraph(
        edge_index,
        text=[f"node {i}" if i % 5 else None for i in range(n)],
        numeric=numeric,
        categorical=torch.randint(0, 3, (n, 2), generator=gen),
        image=image if image_paths else torch.rand(n, 3, 4, 4, generator=gen),
        edge_type=torch.randint(0, 2, (e,), generator=gen),
        relation_names=["follows", "likes"],
        edge_weight=torch.rand(e, generator=gen),
        y=y,
        class_names=["a", "b", "c"],
        node_id=[f"n{i}" for i in range(n)],
        name="toy",
    ).set_split(seed=0)


def assert_batch_matches(batch, graph) -> None:
    n_id, e_id = batch.n_id.tolist(), batch.e_id
    assert batch.num_nodes == len(n_id)
    assert batch.text == [graph.text[i] for i in n_id]
    assert batch.node_id == [graph.node_id[i] for i in n_id]
    assert torch.equal(batch.numeric.isnan(), graph.numeric[n_id].isnan())
    assert torch.equal(batch.numeric.nan_to_num(), graph.numeric[n_id].nan_to_num())
    for key in ("categorical", "y", "train_mask", "val_mask", "test_mask", "text_present"):
        assert torch.equal(getattr(batch, key), getattr(graph, key)[n_id]), key
    if isinstance(graph.image, torch.Tensor):
        assert torch.equal(batch.image, graph.image[n_id])
    else:
        assert batch.image == [graph.image[i] for i in n_id]
    assert torch.equal(batch.edge_type, graph.edge_type[e_id])
    assert torch.equal(batch.edge_weight, graph.edge_weight[e_id])
    # Local edges map back to the graph's edges.
    ends = batch.n_id[batch.edge_index]
    assert torch.equal(ends, graph.edge_index[:, e_id])
    assert batch.meta == graph.meta and batch.name == "toy"
    assert batch.relation_names == ["follows", "likes"]


@pytest.mark.parametrize("image_paths", [False, True])
def test_batches_select_every_field_and_cover_the_input_nodes(image_paths: bool):
    graph = make_graph(image_paths)
    loader = NeighborLoader(
        graph, [3, 2], input_nodes=graph.train_mask, batch_size=4, shuffle=True, seed=0
    )
    train = graph.train_mask.nonzero().view(-1)
    assert len(loader) == math.ceil(train.numel() / 4)
    seen = []
    for batch in loader:
        assert isinstance(batch, MultimodalGraph)
        assert batch.validate()
        assert_batch_matches(batch, graph)
        seeds = batch.n_id[: batch.batch_size]
        assert torch.equal(seeds, train[batch.input_id])
        assert sum(batch.num_sampled_nodes) == batch.num_nodes
        assert sum(batch.num_sampled_edges) == batch.edge_index.size(1)
        seen.append(seeds)
    assert sorted(torch.cat(seen).tolist()) == train.tolist()


def test_input_nodes_as_ids_all_nodes_and_drop_last():
    graph = make_graph()
    ids = torch.tensor([5, 1, 7, 20, 3])
    loader = NeighborLoader(graph, [2], input_nodes=ids, batch_size=2, seed=0)
    batches = list(loader)
    assert [b.batch_size for b in batches] == [2, 2, 1]
    assert torch.cat([b.n_id[: b.batch_size] for b in batches]).tolist() == ids.tolist()
    assert len(NeighborLoader(graph, [2], input_nodes=ids, batch_size=2, drop_last=True)) == 2
    everyone = NeighborLoader(graph, [2], batch_size=7)
    assert sum(b.batch_size for b in everyone) == graph.num_nodes


def test_seeded_loaders_repeat_and_epochs_differ():
    graph = make_graph()
    a = NeighborLoader(graph, [3, 3], batch_size=8, shuffle=True, seed=5)
    b = NeighborLoader(graph, [3, 3], batch_size=8, shuffle=True, seed=5)
    first_a = [batch.n_id for batch in a]
    first_b = [batch.n_id for batch in b]
    assert all(torch.equal(x, y) for x, y in zip(first_a, first_b))
    second_a = [batch.n_id for batch in a]
    assert not all(torch.equal(x, y) for x, y in zip(first_a, second_a))


def test_relation_fanouts_and_plain_data():
    graph = make_graph()
    loader = NeighborLoader(graph, [4], relation_fanouts={"likes": [0]}, batch_size=10, seed=0)
    for batch in loader:
        assert bool((batch.edge_type == 0).all())
    data = Data(x=torch.randn(30, 5), edge_index=graph.edge_index, y=graph.y)
    for batch in NeighborLoader(data, [2, 2], batch_size=16, seed=0):
        assert type(batch) is Data
        assert torch.equal(batch.x, data.x[batch.n_id])
        assert torch.equal(batch.y, data.y[batch.n_id])


def test_repr():
    loader = NeighborLoader(make_graph(), [15, 10], batch_size=8)
    assert repr(loader) == (
        "NeighborLoader(fanouts=[15, 10], batch_size=8, num_input_nodes=30, shuffle=False, "
        "replace=False)"
    )


def test_validation_errors():
    graph = make_graph()
    with pytest.raises(TypeError, match="MultimodalGraph or PyG Data"):
        NeighborLoader(graph.edge_index, [2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'batch_size' to be a positive int"):
        NeighborLoader(graph, [2], batch_size=0)
    with pytest.raises(ValueError, match="repeated ids in 'input_nodes'"):
        NeighborLoader(graph, [2], input_nodes=torch.tensor([1, 1]))
    with pytest.raises(ValueError, match=r"mask to have shape \[30\]"):
        NeighborLoader(graph, [2], input_nodes=torch.ones(4, dtype=torch.bool))
    with pytest.raises(TypeError, match="bool mask or integer node ids"):
        NeighborLoader(graph, [2], input_nodes=torch.tensor([1.0]))
    with pytest.raises(ValueError, match=r"node ids must be in \[0, 30\)"):
        NeighborLoader(graph, [2], input_nodes=torch.tensor([30]))
    with pytest.raises(TypeError, match="'input_nodes' to be None"):
        NeighborLoader(graph, [2], input_nodes=[1, 2])  # type: ignore[arg-type]
