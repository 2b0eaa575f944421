"""MultimodalGNN over a bag of words: the sparse path against the dense computation."""

from __future__ import annotations

import copy

import pytest
import torch
from torch_geometric.data import Data

from mmgraph.encoders.attributes import SPARSE_MIN_COLUMNS
from mmgraph.models import ModelConfig, MultimodalGNN
from mmgraph.nn.functional import is_sparse
from mmgraph.sampling import NeighborLoader
from mmgraph.seed import seed_everything

N, F = 60, SPARSE_MIN_COLUMNS + 22
ABSENT = [3, 7, 50]


def bag_of_words_graph(seed: int = 0) -> Data:
    """60 nodes, 150 columns 5% non-zero; nodes 3, 7 and 50 without features (NaN rows)."""
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(N, F, generator=gen) < 0.05).float() * torch.rand(N, F, generator=gen)
    x[ABSENT] = float("nan")
    x[10, 5] = float("nan")
    edge_index = torch.randint(0, N, (2, 300), generator=gen)
    y = torch.randint(0, 3, (N,), generator=gen)
    return Data(numeric=x, edge_index=edge_index, y=y, num_nodes=N)


RECIPES = [
    {"aggregator": "gcn", "head": "conv", "num_layers": 1},
    {"aggregator": "mean", "head": "conv", "num_layers": 1},
    {"aggregator": "ggnn", "head": "linear", "num_layers": 2},
    {"aggregator": "gcn", "head": "linear", "num_layers": 2},
    {"aggregator": "gcn", "head": "linear", "num_layers": 0},
]


def config(dropout: float = 0.0, **options: object) -> ModelConfig:
    values = {
        "num_classes": 3,
        "modalities": ["attributes"],
        "num_numeric": F,
        "numeric_scaling": "none",
        "missing_indicator": False,
        "modality_dim": None,
        "hidden": 8,
        "dropout": dropout,
        **options,
    }
    return ModelConfig(**values)  # type: ignore[arg-type]


def dense_twin(model: MultimodalGNN) -> MultimodalGNN:
    """A copy of ``model`` with the sparse path switched off (the same parameters)."""
    twin = copy.deepcopy(model)
    encoder = twin.encoders.encoders["attributes"]
    encoder.sparse_output = False  # type: ignore[assignment]
    return twin


def _check_same(model: MultimodalGNN, twin: MultimodalGNN, batch: Data) -> None:
    out, ref = model(batch), twin(batch)
    torch.testing.assert_close(out, ref)
    grads = torch.autograd.grad(out.pow(2).sum(), list(model.parameters()), allow_unused=True)
    refs = torch.autograd.grad(ref.pow(2).sum(), list(twin.parameters()), allow_unused=True)
    for (name, _), a, b in zip(model.named_parameters(), grads, refs):
        assert (a is None) == (b is None), name
        if a is not None:
            torch.testing.assert_close(a, b, msg=name)


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: f"{r['aggregator']}-{r['num_layers']}")
def test_sparse_path_equals_dense(recipe: dict[str, object]) -> None:
    seed_everything(0)
    graph = bag_of_words_graph()
    model = MultimodalGNN.from_config(config(**recipe))
    assert model.encoders.encoders["attributes"].sparse_output
    assert is_sparse(model.fuse(graph))
    twin = dense_twin(model)
    assert not is_sparse(twin.fuse(graph))
    model.train()
    twin.train()
    _check_same(model, twin, graph)  # (dropout 0: the same function)
    # The learned missing vector reaches the loss through the absent rows.
    assert model.fusion.missing_vectors["attributes"].requires_grad


def test_public_embeddings_are_dense() -> None:
    graph = bag_of_words_graph()
    model = MultimodalGNN.from_config(config())
    xs, masks = model.modality_embeddings(graph)
    assert not is_sparse(xs["attributes"])
    assert masks["attributes"].tolist() == [i not in ABSENT for i in range(N)]


@pytest.mark.parametrize(
    "options",
    [{"aggregator": "gin"}, {"fusion": "gated"}, {"modality_dim": 16}],
)
def test_sparse_output_only_where_every_step_takes_it(options: dict[str, object]) -> None:
    model = MultimodalGNN.from_config(config(**options))
    # (with a projection the encoder multiplies sparse-dense itself; its output is dense)
    assert not is_sparse(model.fuse(bag_of_words_graph()))
    model(bag_of_words_graph())  # runs


def test_dropout_training_step_on_sparse_path() -> None:
    seed_everything(0)
    graph = bag_of_words_graph()
    model = MultimodalGNN.from_config(
        config(dropout=0.5, aggregator="gcn", head="conv", num_layers=1)
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    z = model.fuse(graph)
    assert is_sparse(z)
    clean = model.fusion(*model._embeddings(graph))
    kept = z.values() != 0
    torch.testing.assert_close(z.values()[kept], 2 * clean.values()[kept])
    for _ in range(3):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(graph), graph.y)
        loss.backward()
        opt.step()
    assert torch.isfinite(loss)
    assert model.fusion.missing_vectors["attributes"].grad is not None


def test_mini_batches_equal_dense() -> None:
    seed_everything(0)
    graph = bag_of_words_graph()
    model = MultimodalGNN.from_config(config(aggregator="gcn", head="conv", num_layers=1))
    twin = dense_twin(model)
    loader = NeighborLoader(graph, [4, 4], batch_size=16, shuffle=True, seed=1)
    for batch in loader:
        assert is_sparse(model.fuse(batch))
        _check_same(model, twin, batch)


@pytest.mark.parametrize("recipe", RECIPES[:3], ids=lambda r: str(r["aggregator"]))
def test_layerwise_inference_and_state_dict(recipe: dict[str, object]) -> None:
    seed_everything(0)
    graph = bag_of_words_graph()
    model = MultimodalGNN.from_config(config(**recipe)).eval()
    full = model(graph)
    torch.testing.assert_close(model.inference(graph, batch_size=16), full)
    other = MultimodalGNN.from_config(config(**recipe)).eval()
    other.load_state_dict(model.state_dict())
    torch.testing.assert_close(other(graph), full)


def words_and_numbers_graph(seed: int = 0) -> Data:
    """The bag of words as text (nodes 3, 7, 50 without text) beside two numeric columns."""
    graph = bag_of_words_graph(seed)
    present = torch.ones(N, dtype=torch.bool)
    present[ABSENT] = False
    graph.x_text = torch.nan_to_num(graph.numeric, nan=0.0)
    graph.text_present = present
    graph.numeric = torch.randn(N, 2, generator=torch.Generator().manual_seed(seed + 1))
    return graph


def text_config(dropout: float = 0.0, **options: object) -> ModelConfig:
    return config(
        dropout,
        **{
            "modalities": ["text", "attributes"],
            "text_dim": F,
            "num_numeric": 2,
            "numeric_scaling": "standard",
            **options,
        },
    )


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: f"{r['aggregator']}-{r['num_layers']}")
def test_raw_text_beside_attributes_stays_sparse_and_equals_dense(
    recipe: dict[str, object],
) -> None:
    seed_everything(0)
    graph = words_and_numbers_graph()
    model = MultimodalGNN.from_config(text_config(**recipe))
    model.encoders.encoders["attributes"].fit(graph.numeric)
    z = model.fuse(graph)
    assert is_sparse(z) and z.shape == (N, F + 2)
    twin = copy.deepcopy(model)
    twin.encoders.encoders["text"].sparse_output = False  # type: ignore[assignment]
    torch.testing.assert_close(z.to_dense(), twin.fuse(graph))
    model.train()
    twin.train()
    _check_same(model, twin, graph)
    # both learned missing vectors reach the loss: the text's through the absent rows
    assert model.fusion.missing_vectors["text"].requires_grad


def test_raw_text_training_step_with_dropout() -> None:
    seed_everything(0)
    graph = words_and_numbers_graph()
    model = MultimodalGNN.from_config(
        text_config(dropout=0.5, aggregator="gcn", head="conv", num_layers=1)
    )
    model.encoders.encoders["attributes"].fit(graph.numeric)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for _ in range(3):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(graph), graph.y)
        loss.backward()
        opt.step()
    assert torch.isfinite(loss)
    assert model.fusion.missing_vectors["text"].grad is not None
    loader = NeighborLoader(graph, [4, 4], batch_size=16, shuffle=True, seed=1)
    model.eval()
    twin = copy.deepcopy(model)
    twin.encoders.encoders["text"].sparse_output = False  # type: ignore[assignment]
    for batch in loader:
        assert is_sparse(model.fuse(batch))
        torch.testing.assert_close(model(batch), twin(batch))
    torch.testing.assert_close(model.inference(graph, batch_size=16), twin(graph))
