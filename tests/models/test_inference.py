from __future__ import annotations

import pytest
import torch

from mmgraph import seed_everything
from mmgraph.data import MultimodalGraph
from mmgraph.models import MultimodalGNN
from mmgraph.models.inference import layerwise_embeddings, select_nodes


def graph_with_everything(n: int = 37) -> MultimodalGraph:
    gen = torch.Generator().manual_seed(0)
    edge_index = torch.randint(0, n - 3, (2, 150), generator=gen)  # the last 3 nodes are isolated
    edge_index = torch.cat([edge_index, torch.tensor([[4, 4, 9], [4, 4, 9]])], dim=1)  # loops
    g = MultimodalGraph(
        edge_index,
        numeric=torch.randn(n, 3, generator=gen),
        categorical=torch.randint(0, 3, (n, 1), generator=gen),
        categorical_vocabs=[["a", "b"]],
        edge_type=torch.randint(0, 2, (edge_index.size(1),), generator=gen),
        relation_names=["follower", "following"],
        edge_weight=torch.rand(edge_index.size(1), generator=gen) + 0.1,
        y=torch.randint(0, 2, (n,), generator=gen),
    )
    g.x_text = torch.randn(n, 5, generator=gen)
    g.text_present = torch.rand(n, generator=gen) > 0.2
    return g


@pytest.mark.parametrize("aggregator", ["gcn", "mean", "ggnn"])
@pytest.mark.parametrize("num_relations", [1, 2])
@pytest.mark.parametrize("batch_size", [1, 7, 100])
def test_layerwise_equals_full_forward(aggregator: str, num_relations: int, batch_size: int):
    g = graph_with_everything()
    seed_everything(0)
    model = MultimodalGNN.from_graph(
        g,
        aggregator=aggregator,
        num_relations=num_relations,
        num_layers=3,
        hidden=8,
        modality_dim=4,
    ).eval()
    full = model.encode(g)
    torch.testing.assert_close(layerwise_embeddings(model, g, batch_size), full)
    torch.testing.assert_close(model.inference(g, batch_size), model(g))


def test_inference_restores_training_mode() -> None:
    g = graph_with_everything()
    model = MultimodalGNN.from_graph(g, hidden=8, modality_dim=4).train()
    model.inference(g, 10)
    assert model.training


def test_select_nodes_takes_node_fields_only() -> None:
    g = graph_with_everything()
    part = select_nodes(g, torch.tensor([3, 1]))
    assert part.num_nodes == 2 and part.edge_index.shape == (2, 0)
    assert torch.equal(part.numeric, g.numeric[[3, 1]])
    assert not hasattr(part, "edge_type") or part.edge_type is None
    assert part.categorical_vocabs == [["a", "b"]]
