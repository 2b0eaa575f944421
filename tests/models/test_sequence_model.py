"""The sequence modality in MultimodalGNN: encoded to a vector, or fused view by view (MV-LSTM)."""

from __future__ import annotations

import pytest
import torch

from mmgraph import seed_everything
from mmgraph.data import MultimodalGraph
from mmgraph.data.synthetic import make_social_graph
from mmgraph.errors import InputError
from mmgraph.fusion import MultiViewLSTM
from mmgraph.models import FeatureConfig, ModelConfig, MultimodalGNN, featurize
from mmgraph.sampling import NeighborLoader


def toy_graph() -> MultimodalGraph:
    """Four nodes; node 2 has no steps, node 3 two of three."""
    torch.manual_seed(0)
    g = MultimodalGraph(
        torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]]),
        numeric=torch.tensor([[1.0, 2.0], [2.0, 3.0], [0.0, 1.0], [0.5, 1.0]]),
        sequence=torch.rand(4, 3, 3) * 5,
        sequence_length=torch.tensor([3, 3, 0, 2]),
        sequence_names=["posts", "likes"],
        sequence_sizes=[1, 2],
        y=torch.tensor([0, 1, 0, 1]),
        train_mask=torch.tensor([True, True, True, False]),
    )
    g.x_text = torch.randn(4, 8)
    g.text_present = torch.tensor([True, True, False, True])
    return g


def toy_model(**kw) -> MultimodalGNN:
    seed_everything(0)
    kw = {"aggregator": "mean", "modality_dim": 4, **kw}
    return MultimodalGNN.from_graph(toy_graph(), hidden=6, dropout=0.0, **kw)


@pytest.mark.parametrize("fusion", ["concat", "mvlstm"])
def test_padding_never_changes_a_logit(fusion: str) -> None:
    g = toy_graph()
    model = toy_model(fusion=fusion).eval()
    assert model.config.modalities == ["text", "attributes", "sequence"]
    assert model.config.sequence_views == {"posts": 1, "likes": 2}
    before = model(g)
    g2 = g.clone()
    g2.sequence[2] = 1e4  # no steps
    g2.sequence[3, 2] = float("nan")  # after its two steps
    torch.testing.assert_close(model(g2), before)
    g2.sequence[3, 1] = 9.0  # a step: the output changes
    assert not torch.allclose(model(g2), before)


def test_the_sequence_encoder_is_fitted_on_the_training_nodes() -> None:
    g = toy_graph()
    model = toy_model(sequence_encoder="mean")
    encoder = model.encoders.encoders["sequence"]
    steps = g.sequence[:3][g.sequence_mask()[:3]]  # training nodes 0, 1 (2 has no steps)
    logged = torch.sign(steps) * torch.log1p(steps.abs())
    torch.testing.assert_close(encoder.mean, logged.mean(0))
    raw = toy_model(sequence_encoder="lstm", sequence_log1p=False, modality_dim=None)
    assert raw.encoders.encoders["sequence"].kind == "lstm"
    assert raw.encoders.encoders["sequence"].out_channels == 6  # hidden, without projection
    torch.testing.assert_close(raw.encoders.encoders["sequence"].mean, steps.mean(0))


@pytest.mark.parametrize(
    ("options", "alpha", "beta", "gates"),
    [({}, 1.0, 0.5, False), ({"alpha": 0.0, "beta": 1.0, "learn_gates": True}, 0.0, 1.0, True)],
)
def test_mvlstm_reads_the_views_and_the_other_modalities_over_time(
    options: dict, alpha: float, beta: float, gates: bool
) -> None:
    g = toy_graph()
    model = toy_model(fusion="mvlstm", fusion_options={"hidden_size": 5, **options})
    head = model.fusion
    assert isinstance(head, MultiViewLSTM)
    assert head.in_channels == {"text": 4, "attributes": 4, "likes": 2, "posts": 1}
    assert (head.alpha, head.beta, head.learn_gates) == (alpha, beta, gates)
    assert head.out_channels == 6  # fused to the hidden size
    assert sum(p.numel() for p in model.encoders.encoders["sequence"].parameters()) == 0
    out = model(g)
    out.sum().backward()
    for view in ("posts", "likes", "text", "attributes"):
        weight = head.input_maps[view].weight
        assert weight.grad is not None and bool(weight.grad.abs().sum() > 0), view
    again = MultimodalGNN.from_config(ModelConfig.from_dict(model.config.to_dict()))
    again.load_state_dict(model.state_dict())
    torch.testing.assert_close(again.eval()(g), model.eval()(g))


def test_mvlstm_runs_on_the_synthetic_graph_with_activity() -> None:
    graph = make_social_graph(120, image_size=8, seed=0, with_activity=True, activity_days=10)
    graph = featurize(
        graph, FeatureConfig(text_encoder="hashing", hashing_dim=32, image_encoder=None), False
    )
    seed_everything(0)
    model = MultimodalGNN.from_graph(
        graph, fusion="mvlstm", modality_dim=4, hidden=8, fusion_options={"hidden_size": 4}
    )
    assert set(model.fusion.in_channels) == {"text", "attributes", "posts", "replies", "likes"}
    logits = model(graph)
    assert logits.shape == (120, 2) and bool(torch.isfinite(logits).all())
    torch.nn.functional.cross_entropy(logits, graph.y).backward()
    assert all(p.grad is not None for p in model.fusion.parameters() if p.requires_grad)
    model.eval()
    torch.testing.assert_close(model.inference(graph, batch_size=50), model(graph))
    loader = NeighborLoader(graph, [-1, -1], batch_size=40, shuffle=False)
    batch = next(iter(loader))
    torch.testing.assert_close(model(batch), model(graph)[:40], atol=1e-5, rtol=1e-4)


def test_mvlstm_without_a_sequence_says_what_to_do() -> None:
    g = toy_graph()
    with pytest.raises(InputError, match="no 'sequence' modality .* 'synthetic-activity'"):
        MultimodalGNN.from_graph(g, fusion="mvlstm", modalities=["text", "attributes"])
    with pytest.raises(InputError, match="needs 'sequence_views'"):
        MultimodalGNN.from_config(ModelConfig(modalities=["sequence"]))
    with pytest.raises(ValueError, match="Unknown sequence_encoder 'rnn'"):
        ModelConfig(sequence_encoder="rnn")
