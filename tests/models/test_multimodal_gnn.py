from __future__ import annotations

import math

import pytest
import torch

from mmgraph import seed_everything
from mmgraph.data import MultimodalGraph
from mmgraph.data.synthetic import make_social_graph
from mmgraph.models import FeatureConfig, ModelConfig, MultimodalGNN, builders, featurize
from mmgraph.train import TrainConfig, Trainer


def toy_graph() -> MultimodalGraph:
    g = MultimodalGraph(
        torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]]),
        numeric=torch.tensor([[1.0, math.nan], [2.0, 3.0], [math.nan, math.nan], [0.5, 1.0]]),
        categorical=torch.tensor([[1], [2], [0], [3]]),
        categorical_vocabs=[["a", "b", "c"]],
        y=torch.tensor([0, 1, 0, 1]),
        class_names=["human", "bot"],
        train_mask=torch.tensor([True, True, True, False]),
    )
    g.x_text = torch.randn(4, 8)
    g.text_present = torch.tensor([True, True, False, True])
    return g


def toy_model(**kw) -> MultimodalGNN:
    seed_everything(0)
    kw.setdefault("aggregator", "gcn")
    return MultimodalGNN.from_graph(toy_graph(), modality_dim=4, hidden=6, **kw)


def test_parameter_count_by_hand() -> None:
    model = toy_model()
    text = 8 * 4 + 4  # projection of the precomputed text
    attributes = (3 + 2) * 8 + (2 + 2 + 8) * 4 + 4  # embedding, [z | flags | emb] -> 4
    fusion = 4 + 4  # concat's learned missing vectors
    gcn = (8 * 6 + 6) + (6 * 6 + 6)  # two GCN layers, one relation
    head = 6 * 2 + 2
    assert sum(p.numel() for p in model.parameters()) == (text + attributes + fusion + gcn + head)


def test_shapes_repr_and_state_dict_round_trip() -> None:
    g = toy_graph()
    model = toy_model().eval()
    assert model(g).shape == (4, 2) and model.encode(g).shape == (4, 6)
    assert repr(model) == (
        "MultimodalGNN(modalities=['text', 'attributes'], fusion='concat', aggregator='gcn', "
        "hidden=6, num_layers=2, head='linear', num_classes=2)"
    )
    fresh = MultimodalGNN.from_config(model.config)
    fresh.load_state_dict(model.state_dict())
    torch.testing.assert_close(fresh.eval()(g), model(g))


def test_model_from_ready_parts_equals_from_config() -> None:
    g = toy_graph()
    model = toy_model(coordination="structure").eval()
    config = model.config
    seed_everything(0)
    encoders = builders.build_encoders(config)
    fusion, same = builders.build_model_fusion(config, encoders.out_channels)
    assert same is config  # only a tfn head without proj_dim changes the config
    gnn = builders.build_gnn(config, fusion.out_channels)
    head = builders.build_head(config)
    projection, loss = builders.build_coordination_parts(config, encoders.out_channels)
    parts = MultimodalGNN(
        encoders, fusion, gnn, head, config=config, projection=projection, coordination_loss=loss
    )
    parts.load_state_dict(model.state_dict())
    parts.fit_statistics(g)
    assert list(parts.state_dict()) == list(model.state_dict())
    torch.testing.assert_close(parts.eval()(g), model(g))
    assert loss is not None and loss.needs_edge_index
    with pytest.raises(ValueError, match="both 'projection' and 'coordination_loss' or neither"):
        MultimodalGNN(encoders, fusion, gnn, head, config=config, projection=projection)


def test_missing_modality_rows_have_no_influence() -> None:
    g = toy_graph()
    model = toy_model(num_layers=0, dropout=0.0).eval()
    before = model(g)
    g2 = g.clone()
    g2.x_text[2] = 100.0  # node 2 has no text
    torch.testing.assert_close(model(g2), before)
    g2.x_text[1] = 100.0  # node 1 has text: its output changes
    assert not torch.allclose(model(g2)[1], before[1])


@pytest.mark.parametrize("aggregator", ["mean", "gcn", "ggnn"])
@pytest.mark.parametrize("fusion", ["concat", "tfn", "lowrank", "gated", "autoencoder"])
def test_every_aggregator_and_fusion_runs(aggregator: str, fusion: str) -> None:
    g = toy_graph()
    model = toy_model(aggregator=aggregator, fusion=fusion)
    out = model(g)
    assert out.shape == (4, 2) and torch.isfinite(out).all()
    out.sum().backward()


def test_config_round_trip_and_errors(tmp_path) -> None:
    cfg = toy_model(fusion="lowrank", fusion_options={"rank": 3}).config
    assert ModelConfig.from_yaml(cfg.to_yaml(tmp_path / "m.yaml")) == cfg
    with pytest.raises(ValueError, match=r"Unknown aggregator 'sage'; expected one of"):
        ModelConfig(aggregator="sage")
    with pytest.raises(ValueError, match=r"no features for modalities \['image'\]"):
        ModelConfig.for_graph(toy_graph(), modalities=["image"])
    with pytest.raises(KeyError, match="Unknown fusion head 'nope'"):
        toy_model(fusion="nope")


def test_trains_on_the_synthetic_social_graph() -> None:
    g = make_social_graph(300, seed=1)
    f = featurize(g, FeatureConfig(text_encoder="hashing", image_encoder="cnn"), progress=False)
    seed_everything(0)
    # GCN: on this 300-node graph and 40 epochs it learns faster than the mean aggregator
    # that aggregator="auto" picks here (homophily 0.62 < 0.7)
    model = MultimodalGNN.from_graph(f, modality_dim=16, hidden=16, aggregator="gcn")
    assert model.config.modalities == ["text", "image", "attributes"]
    assert model.config.num_relations == 2
    trainer = Trainer(model, TrainConfig(epochs=40, lr=0.01, progress=False, patience=None))
    trainer.fit(f)
    test = trainer.evaluate(f, "test_mask")
    untrained = Trainer(MultimodalGNN.from_graph(f, modality_dim=16, hidden=16, aggregator="gcn"))
    assert test["roc_auc"] > 0.75
    assert test["roc_auc"] > untrained.evaluate(f, "test_mask")["roc_auc"] + 0.1


def test_float64_inputs_from_numpy_are_featurized_to_the_weights_dtype() -> None:
    g = make_social_graph(60, seed=1, image_size=8)
    g.numeric = torch.from_numpy(g.numeric.numpy().astype("float64"))
    g.image = g.image.double()
    config = FeatureConfig(text_encoder="hashing", image_encoder="cnn-e2e", image_size=8)
    f = featurize(g, config, progress=False)
    assert f.numeric.dtype == f.image.dtype == f.x_text.dtype == torch.float32
    assert g.numeric.dtype == torch.float64  # the input graph is left as it is
    torch.testing.assert_close(f.numeric, g.numeric.float(), equal_nan=True)
    model = MultimodalGNN.from_graph(f, modality_dim=8, hidden=8)
    assert model(f).shape == (60, 2)


@pytest.mark.parametrize("loss", ["cosine", "ranking", "structure", "infonce", "cca"])
def test_coordination_loss_is_added_to_training(loss: str) -> None:
    from mmgraph.objectives import SupervisedObjective

    g = toy_graph()
    # The exact losses: two calls of a sampling loss draw different negatives.
    exact = {"ranking": {"num_negatives": "all"}, "structure": {"num_samples": "all"}}
    model = toy_model(
        coordination=loss,
        coordination_dim=3,
        coordination_weight=0.5,
        coordination_options=exact.get(loss, {}),
    )
    assert model.has_auxiliary_loss
    logits, aux = model(g, return_aux=True)
    assert logits.shape == (4, 2) and aux.dim() == 0 and torch.isfinite(aux)
    torch.testing.assert_close(aux, model.auxiliary_loss(g))
    plain = toy_model()
    total = SupervisedObjective()(model, g)
    total.backward()
    assert model.projection is not None
    assert all(p.grad is not None for p in model.projection.parameters())
    assert not plain.has_auxiliary_loss


def test_coordination_needs_two_modalities() -> None:
    with pytest.raises(ValueError, match="Coordination needs at least two modalities"):
        toy_model(coordination="infonce", modalities=["text"])


def test_a_graph_not_featurized_warns_that_its_text_is_unread() -> None:
    import warnings

    graph = make_social_graph(40, seed=0, image_size=8)
    with pytest.warns(UserWarning, match=r"raw text that the model will not read \(no x_text"):
        model = MultimodalGNN.from_graph(graph)
    assert "text" not in model.config.modalities
    featured = featurize(graph, FeatureConfig(text_encoder="hashing"), progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "text" in MultimodalGNN.from_graph(featured).config.modalities
        MultimodalGNN.from_graph(graph, modalities=["image", "attributes"])  # on purpose


def test_a_plain_pyg_data_is_told_to_convert() -> None:
    from torch_geometric.data import Data

    data = Data(x=torch.randn(6, 3), edge_index=torch.tensor([[0, 1], [1, 2]]), y=torch.zeros(6))
    with pytest.raises(TypeError, match=r"Expected a MultimodalGraph \(got 'Data'\).*from_data"):
        MultimodalGNN.from_graph(data)


def test_centred_features_fit_on_the_present_training_nodes_and_reload() -> None:
    seed_everything(0)
    g = toy_graph()  # the model's graph (toy_model seeds before drawing it)
    model = toy_model(center_features=True).eval()
    text = model.encoders.encoders["text"]
    rows = g.text_present & g.train_mask  # nodes 0 and 1
    torch.testing.assert_close(text.offset, g.x_text[rows].mean(0))
    assert model.config.center_features
    fresh = MultimodalGNN.from_config(model.config)
    fresh.load_state_dict(model.state_dict())
    torch.testing.assert_close(fresh.eval()(g), model(g))
    plain = toy_model().eval()
    assert plain.encoders.encoders["text"].offset is None
    # centring moves the projection's bias only: with the bias moved back, the same outputs
    moved = toy_model(center_features=True).eval()
    shift = moved.encoders.encoders["text"].lin.weight @ moved.encoders.encoders["text"].offset
    with torch.no_grad():
        moved.encoders.encoders["text"].offset.zero_()
        moved.encoders.encoders["text"].lin.bias -= shift
    torch.testing.assert_close(moved(g), model(g))
