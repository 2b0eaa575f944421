"""The GCN recipe options of ``ModelConfig``: raw numeric attributes, no projection, conv head."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml
from torch_geometric.nn import GCNConv as PyGGCNConv

from mmgraph import seed_everything
from mmgraph.data import MultimodalGraph
from mmgraph.encoders import AttributeEncoder, NumericStandardizer
from mmgraph.models import ModelConfig, MultimodalGNN
from mmgraph.objectives import SupervisedObjective
from mmgraph.train import TrainConfig, Trainer
from mmgraph.train.loaders import make_neighbor_loader

RECIPE = {
    "aggregator": "gcn",
    "num_layers": 1,
    "modality_dim": None,
    "head": "conv",
    "numeric_scaling": "none",
    "missing_indicator": False,
}
NEW_KEYS = ("numeric_scaling", "missing_indicator", "modality_dim", "head")


def bag_of_words(n: int = 12, f: int = 6, relations: bool = False) -> MultimodalGraph:
    """A small bag-of-words graph: a node without words, self loops, an isolated node."""
    gen = torch.Generator().manual_seed(0)
    edge_index = torch.randint(0, n - 1, (2, 30), generator=gen)  # node n - 1 is isolated
    edge_index = torch.cat([edge_index, torch.tensor([[2, 5], [2, 5]])], dim=1)
    numeric = (torch.rand(n, f, generator=gen) < 0.4).float()
    numeric[3] = 0.0  # a document without words is present, with zero features
    numeric = numeric / numeric.sum(dim=1, keepdim=True).clamp(min=1)
    extra = {}
    if relations:
        extra = {
            "edge_type": torch.randint(0, 2, (edge_index.size(1),), generator=gen),
            "relation_names": ["cites", "cited"],
            "edge_weight": torch.rand(edge_index.size(1), generator=gen) + 0.1,
        }
    graph = MultimodalGraph(
        edge_index,
        numeric=numeric,
        y=torch.arange(n) % 3,
        class_names=["a", "b", "c"],
        **extra,
    )
    return graph.set_split(0.5, 0.25, 0.25, seed=0)


def recipe_model(graph: MultimodalGraph, **overrides) -> MultimodalGNN:
    seed_everything(0)
    return MultimodalGNN.from_graph(graph, **{**RECIPE, "hidden": 8, **overrides})


def test_gcn_recipe_is_kipf_and_welling_two_layer_gcn() -> None:
    g = bag_of_words()
    model = recipe_model(g).eval()
    conv1, conv2 = PyGGCNConv(6, 8), PyGGCNConv(8, 3)
    gnn_conv, head = model.gnn.convs[0], model.head
    with torch.no_grad():
        conv1.lin.weight.copy_(gnn_conv.weight[0])
        conv1.bias.copy_(gnn_conv.bias)
        conv2.lin.weight.copy_(head.weight[0])
        conv2.bias.copy_(head.bias)
    expected = conv2(F.relu(conv1(g.numeric, g.edge_index)), g.edge_index)
    torch.testing.assert_close(model(g), expected)
    torch.testing.assert_close(model.encode(g), conv1(g.numeric, g.edge_index))
    # The two GCN layers and concat's (unused) missing vector, nothing else.
    assert sum(p.numel() for p in model.parameters()) == (6 * 8 + 8) + (8 * 3 + 3) + 6
    assert model.num_hops == 2
    assert repr(model) == (
        "MultimodalGNN(modalities=['attributes'], fusion='concat', aggregator='gcn', "
        "hidden=8, num_layers=1, head='conv', num_classes=3)"
    )


def test_training_mode_applies_dropout_before_the_conv_head() -> None:
    g = bag_of_words()
    model = recipe_model(g, dropout=0.5).train()
    assert not torch.equal(model(g), model(g))
    assert torch.equal(model.eval()(g), model(g))


@pytest.mark.parametrize("aggregator", ["gcn", "mean"])
@pytest.mark.parametrize("relations", [False, True])
@pytest.mark.parametrize("batch_size", [1, 5, 100])
def test_layerwise_inference_runs_the_conv_head_as_one_more_layer(
    aggregator: str, relations: bool, batch_size: int
) -> None:
    g = bag_of_words(relations=relations)
    model = recipe_model(g, aggregator=aggregator, num_layers=2).eval()
    assert model.config.num_relations == (2 if relations else 1)
    torch.testing.assert_close(model.inference(g, batch_size), model(g))
    torch.testing.assert_close(model.inference(g, batch_size, embeddings=True), model.encode(g))


def test_without_scaling_the_attributes_pass_as_they_are() -> None:
    g = bag_of_words()
    g.numeric[1, 2] = math.nan
    g.numeric[4] = math.nan  # no attributes at all: concat's missing vector instead
    model = MultimodalGNN.from_graph(g, numeric_scaling="none", modality_dim=None)
    encoder = model.encoders.encoders["attributes"]
    assert not bool(encoder.numeric.fitted)  # nothing to fit
    (x,), (present,) = (t.values() for t in model.modality_embeddings(g))
    flags = torch.isnan(g.numeric).float()
    expected = torch.cat([torch.nan_to_num(g.numeric), flags], dim=1)
    expected[4] = 0.0
    torch.testing.assert_close(x, expected)
    assert present.tolist() == [i != 4 for i in range(12)]
    standard = MultimodalGNN.from_graph(g, modality_dim=None)
    x_std = next(iter(standard.modality_embeddings(g)[0].values()))
    observed = g.train_mask.unsqueeze(1) & ~torch.isnan(g.numeric)
    means = (x_std[:, :6] * observed).sum(0) / observed.sum(0)
    torch.testing.assert_close(means, torch.zeros(6), atol=1e-5, rtol=0)


def test_without_projection_the_fusion_sees_each_encoder_output() -> None:
    g = bag_of_words()
    g.categorical = torch.tensor([[1], [2], [0]] * 4)
    g.categorical_vocabs = [["x", "y"]]
    g.x_text = torch.randn(12, 5)
    g.image = torch.rand(12, 3, 8, 8)
    model = MultimodalGNN.from_graph(
        g, modality_dim=None, cnn_channels=[4, 7], hidden=8, dropout=0.0, missing_indicator=True
    )
    # attributes: 6 values, 6 flags, one categorical embedding of 8
    assert model.encoders.out_channels == {"text": 5, "image": 7, "attributes": 6 + 6 + 8}
    assert model.fusion.out_channels == 5 + 7 + 20
    assert model(g).shape == (12, 3)
    text = model.encoders.encoders["text"]
    assert text.lin is None  # no projection: the features as they are
    torch.testing.assert_close(model.modality_embeddings(g)[0]["text"], g.x_text)


def test_conv_head_state_dict_device_and_reset() -> None:
    g = bag_of_words(relations=True)
    model = recipe_model(g, aggregator="mean").eval()
    fresh = MultimodalGNN.from_config(model.config).eval()
    assert not torch.allclose(fresh(g), model(g))
    fresh.load_state_dict(model.state_dict())
    torch.testing.assert_close(fresh(g), model(g))
    model.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in model.parameters())
    before = [p.clone() for p in model.head.parameters()]
    model.reset_parameters()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.head.parameters()))


def test_yaml_round_trip_and_old_files_keep_the_old_behaviour(tmp_path: Path) -> None:
    config = recipe_model(bag_of_words()).config
    path = config.to_yaml(tmp_path / "model.yaml")
    assert ModelConfig.from_yaml(path) == config
    assert yaml.safe_load(path.read_text())["modality_dim"] is None
    old = {k: v for k, v in ModelConfig().to_dict().items() if k not in NEW_KEYS}
    (tmp_path / "old.yaml").write_text(yaml.safe_dump(old))
    loaded = ModelConfig.from_yaml(tmp_path / "old.yaml")
    assert (loaded.numeric_scaling, loaded.missing_indicator) == ("standard", True)
    assert (loaded.modality_dim, loaded.head) == (64, "linear")


def test_saved_run_reloads(tmp_path: Path) -> None:
    from mmgraph.tasks import DataSpec, load_run, train_node_classifier

    g = bag_of_words()
    train = TrainConfig(epochs=3, patience=None, progress=False, seed=0)
    result = train_node_classifier(
        DataSpec(), None, {**RECIPE, "hidden": 8}, train, out=tmp_path, graph=g, progress=False
    )
    run = load_run(tmp_path)
    assert run.model.config == result.trainer.model.config
    assert run.model.config.head == "conv" and run.model.config.modality_dim is None
    result.trainer.model.eval()
    torch.testing.assert_close(run.model(g), result.trainer.model(g))


def test_minibatch_training_needs_the_head_hop() -> None:
    g = bag_of_words(n=40)
    objective = SupervisedObjective()
    model = recipe_model(g, aggregator="mean", dropout=0.0)
    one_hop = TrainConfig(batch_size=100, fanouts=[-1], seed=0)
    (batch,) = list(make_neighbor_loader(g, objective, one_hop))
    with pytest.raises(ValueError, match="at least 2 hops for the aggregator layers and the conv"):
        model(batch)
    model.encode(batch)  # the embeddings need one hop only
    linear = recipe_model(g, head="linear", num_layers=2)
    with pytest.raises(ValueError, match=r"at least 2 hops for the aggregator layers \(got 1"):
        linear(batch)
    # With every neighbour over two hops and every seed in one batch: the full-batch loss
    # and gradients.
    two_hops = TrainConfig(batch_size=100, fanouts=[-1, -1], seed=0)
    (batch,) = list(make_neighbor_loader(g, objective, two_hops))
    full = recipe_model(g, aggregator="mean", dropout=0.0)
    objective(full, g).backward()
    loss = objective(model, batch)
    loss.backward()
    torch.testing.assert_close(loss, objective(full, g))
    for (name, a), b in zip(full.named_parameters(), model.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)
    trainer = Trainer(model, TrainConfig(epochs=2, batch_size=8, fanouts=[3, 3], progress=False))
    trainer.fit(g)
    torch.testing.assert_close(trainer.predict_logits(g), trainer.model.eval()(g))


def test_bad_values_list_the_valid_ones() -> None:
    with pytest.raises(
        ValueError,
        match=r"Unknown numeric_scaling 'minmax'; .*\['standard', 'none', 'row', 'log', 'auto'\]",
    ):
        ModelConfig(numeric_scaling="minmax")
    with pytest.raises(
        ValueError, match=r"Unknown head 'mlp'; expected one of \['linear', 'conv'\]"
    ):
        ModelConfig(head="mlp")
    with pytest.raises(ValueError, match="'modality_dim' to be a positive int, or None"):
        ModelConfig(modality_dim=0)
    with pytest.raises(ValueError, match=r"aggregator in \['mean', 'gcn'\] with head='conv'"):
        ModelConfig(head="conv", aggregator="ggnn")
    with pytest.raises(
        ValueError, match="only mean and GCN layers are built and tested as the head"
    ):
        ModelConfig(head="conv", aggregator="gin")
    with pytest.raises(ValueError, match="num_layers >= 1 with head='conv'"):
        ModelConfig(head="conv", num_layers=0)
    g = bag_of_words()
    model = recipe_model(g)
    with pytest.raises(ValueError, match=r"call `classify\(h, batch\)`"):
        model.classify(model.encode(g))


def test_attribute_encoder_options_behind_the_config() -> None:
    x = torch.tensor([[1.0, math.nan], [3.0, 4.0]])
    raw = NumericStandardizer(2, scaling="none")
    torch.testing.assert_close(raw(x), torch.tensor([[1.0, 0.0, 0.0, 1.0], [3.0, 4.0, 0.0, 0.0]]))
    assert repr(raw) == "NumericStandardizer(2, log1p=[], missing_indicator=True, scaling='none')"
    encoder = AttributeEncoder(2, [3], out_channels=None, embedding_dim=2, numeric_scaling="none")
    assert encoder.out_channels == 2 + 2 + 2 and encoder.lin is None
    assert sum(p.numel() for p in encoder.parameters()) == (3 + 2) * 2  # the embedding only
    assert repr(encoder) == (
        "AttributeEncoder(num_numeric=2, cardinalities=[3], out_channels=None, log1p=[], "
        "embedding_dim=2, numeric_scaling='none')"
    )
    with pytest.raises(ValueError, match=r"Unknown numeric scaling 'robust'; expected one of"):
        NumericStandardizer(2, scaling="robust")
    with pytest.raises(ValueError, match="'out_channels' to be a positive int or None"):
        AttributeEncoder(2, out_channels=0)
