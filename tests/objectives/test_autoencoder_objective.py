from __future__ import annotations

import dataclasses

import pytest
import torch

from mmgraph import seed_everything
from mmgraph.coordination import MultimodalAutoencoder
from mmgraph.data import MultimodalGraph
from mmgraph.models import MultimodalGNN
from mmgraph.objectives.autoencoder import (
    DEFAULT_CORRUPTION,
    AutoencoderPretraining,
    model_autoencoder,
    normalized_reconstruction_error,
)
from mmgraph.train import TrainConfig, Trainer

N = 240


def shared_latent_graph(seed: int = 0) -> MultimodalGraph:
    """Text features and numeric attributes that are two noisy views of one latent ``z``.

    The label is the sign of the latent's first coordinate; a fifth of the nodes lack the
    text, another fifth the numeric attributes. Edges join each node to its next two.
    """
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(N, 3, generator=gen)
    x_text = z @ torch.randn(3, 8, generator=gen) + 0.1 * torch.randn(N, 8, generator=gen)
    numeric = z @ torch.randn(3, 4, generator=gen) + 0.1 * torch.randn(N, 4, generator=gen)
    order = torch.randperm(N, generator=gen)
    text_present = torch.ones(N, dtype=torch.bool)
    text_present[order[: N // 5]] = False
    numeric[order[N // 5 : 2 * N // 5]] = float("nan")
    src = torch.arange(N).repeat(2)
    dst = (src + torch.arange(1, 3).repeat_interleave(N)) % N
    split = torch.randperm(N, generator=gen)
    masks = [torch.zeros(N, dtype=torch.bool) for _ in range(3)]
    for mask, part in zip(masks, split.tensor_split([N // 2, 3 * N // 4])):
        mask[part] = True
    g = MultimodalGraph(
        torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1),
        numeric=numeric,
        y=(z[:, 0] > 0).long(),
        class_names=["neg", "pos"],
        train_mask=masks[0],
        val_mask=masks[1],
        test_mask=masks[2],
    )
    g.x_text = torch.where(text_present[:, None], x_text, torch.zeros(()))
    g.text_present = text_present
    return g


def ae_model(graph: MultimodalGraph, **overrides) -> MultimodalGNN:
    seed_everything(0)
    settings = {
        "modality_dim": 8,
        "hidden": 8,
        "num_layers": 1,
        "aggregator": "mean",
        "dropout": 0.0,
        "fusion": "autoencoder",
        "fusion_options": {"hidden_channels": [16], "modality_dropout": 0.5, "noise_std": 0.05},
    }
    return MultimodalGNN.from_graph(graph, **{**settings, **overrides})


def pretrain_config(epochs: int = 150) -> TrainConfig:
    return TrainConfig(epochs=epochs, lr=0.01, patience=None, progress=False)


@torch.no_grad()
def subset_distance_ratio(model: MultimodalGNN, graph: MultimodalGraph) -> float:
    """Mean distance of one-modality codes to the node's own full code, over the mean
    distance between full codes of different nodes (1: no better than another node's)."""
    model.eval()
    xs, masks = model.modality_embeddings(graph)
    both = masks["text"] & masks["attributes"]
    ae = model_autoencoder(model)
    full = ae.encode(xs, masks)[both]
    other = full.roll(1, dims=0)
    scale = (full - other).norm(dim=1).mean()
    ratios = []
    for m in xs:
        only = {k: masks[k] & (k == m) for k in masks}
        ratios.append(float((ae.encode(xs, only)[both] - full).norm(dim=1).mean() / scale))
    return sum(ratios) / len(ratios)


def test_reconstruction_falls_and_codes_from_subsets_approach_the_full_code() -> None:
    g = shared_latent_graph()
    model = ae_model(g)
    before = subset_distance_ratio(model, g)
    encoder_state = {k: v.clone() for k, v in model.encoders.state_dict().items()}
    trainer = Trainer(model, pretrain_config()).fit(g, objective=AutoencoderPretraining())
    losses = [r["train_loss"] for r in trainer.history]
    assert len(losses) == 150
    assert sum(losses[-10:]) / 10 < 0.2 * sum(losses[:10]) / 10
    after = subset_distance_ratio(model, g)
    assert after < 0.4 * before and after < 0.35
    # Only the autoencoder learned: the encoders were frozen.
    for key, value in model.encoders.state_dict().items():
        torch.testing.assert_close(value, encoder_state[key])


def test_fine_tuning_after_pretraining_classifies() -> None:
    g = shared_latent_graph()
    model = ae_model(g)
    Trainer(model, pretrain_config(60)).fit(g, objective=AutoencoderPretraining())
    pretrained = {k: v.clone() for k, v in model.fusion.state_dict().items()}
    config = TrainConfig(epochs=80, lr=0.01, patience=None, progress=False)
    trainer = Trainer(model, config).fit(g)
    assert trainer.evaluate(g, "test_mask")["accuracy"] > 0.85
    changed = [not torch.equal(v, pretrained[k]) for k, v in model.fusion.state_dict().items()]
    assert any(changed)  # fine-tuning moved the pretrained head


def test_normalized_loss_is_one_minus_r2_per_modality() -> None:
    g = shared_latent_graph()
    model = ae_model(g).eval()  # no corruption in eval mode
    ae = model_autoencoder(model)
    xs, masks = model.modality_embeddings(g)
    recon = ae.decode(ae.encode(xs, masks))
    expected = []
    for m in xs:
        x, r = xs[m][masks[m]].double(), recon[m][masks[m]].double()
        r2 = 1 - (r - x).pow(2).sum() / (x - x.mean(0)).pow(2).sum()
        expected.append(1 - r2)
    loss = AutoencoderPretraining()(model, g)
    torch.testing.assert_close(loss.double(), torch.stack(expected).mean(), rtol=1e-5, atol=1e-6)
    # The decoders' mean output scores 1, whatever the scale of the embeddings.
    means = {m: xs[m][masks[m]].mean(0) for m in xs}
    with torch.no_grad():
        for m, layer in ae.decoders.items():
            last = layer[-1]
            last.weight.zero_()
            last.bias.copy_(means[m])
    torch.testing.assert_close(
        normalized_reconstruction_error(ae, torch.zeros(N, ae.out_channels), xs, masks),
        torch.tensor(1.0),
    )


def test_unnormalized_loss_equals_the_autoencoders_own_loss_on_seed_nodes() -> None:
    g = shared_latent_graph()
    model = ae_model(g).eval()
    objective = AutoencoderPretraining(normalize=False)
    xs, masks = model.modality_embeddings(g)
    expected = model_autoencoder(model).loss(xs, masks)
    torch.testing.assert_close(objective(model, g), expected)
    # A mini-batch: only the first batch_size (seed) nodes count.
    batch = g.clone()
    batch.batch_size = 50
    seeds = {m: x[:50] for m, x in xs.items()}, {m: k[:50] for m, k in masks.items()}
    torch.testing.assert_close(objective(model, batch), model_autoencoder(model).loss(*seeds))
    # mask_key: only the training nodes count.
    train = AutoencoderPretraining(normalize=False, mask_key="train_mask")
    kept = {m: k & g.train_mask for m, k in masks.items()}
    torch.testing.assert_close(train(model, g), model_autoencoder(model).loss(xs, kept))
    assert torch.equal(train.input_nodes(g), g.train_mask.nonzero().view(-1))
    assert objective.input_nodes(g) is None


def test_corruption_rates_precedence_and_restoration() -> None:
    g = shared_latent_graph()
    model = ae_model(g).train()  # the head: noise 0.05, modality dropout 0.5
    # a head without corruption
    plain = ae_model(g, fusion_options={"hidden_channels": [16]}).train()
    ae, bare = model_autoencoder(model), model_autoencoder(plain)
    given = AutoencoderPretraining(noise_std=0.3, feature_dropout=0.2)
    assert given.rates(ae) == {"noise_std": 0.3, "feature_dropout": 0.2, "modality_dropout": 0.5}
    assert AutoencoderPretraining().rates(ae) == {
        "noise_std": 0.05,  # the head's own
        "feature_dropout": 0.1,  # the default, where the head has none
        "modality_dropout": 0.5,
    }
    assert AutoencoderPretraining().rates(bare) == DEFAULT_CORRUPTION
    off = AutoencoderPretraining(modality_dropout=0.0).rates(bare)
    assert off == {**DEFAULT_CORRUPTION, "modality_dropout": 0.0}  # an explicit zero

    seen = []
    original = MultimodalAutoencoder.encode

    def spy(self, xs, masks=None, generator=None):
        seen.append((self.noise_std, self.feature_dropout, self.modality_dropout))
        return original(self, xs, masks, generator)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(MultimodalAutoencoder, "encode", spy)
        given(model, g)
    assert seen == [(0.3, 0.2, 0.5)]  # in place during the call,
    assert (ae.noise_std, ae.feature_dropout, ae.modality_dropout) == (0.05, 0.0, 0.5)  # restored


def test_seeded_corruption_is_reproducible() -> None:
    g = shared_latent_graph()
    model = ae_model(g).train()
    first = AutoencoderPretraining(seed=3)(model, g)
    torch.manual_seed(999)  # the global RNG plays no part
    second = AutoencoderPretraining(seed=3)(model, g)
    other = AutoencoderPretraining(seed=4)(model, g)
    torch.testing.assert_close(first, second)
    assert not torch.allclose(first, other)


def test_train_encoders_lets_the_gradient_reach_the_encoders() -> None:
    g = shared_latent_graph()
    model = ae_model(g)
    AutoencoderPretraining()(model, g).backward()
    assert all(p.grad is None for p in model.encoders.parameters())
    assert all(p.grad is not None for p in model_autoencoder(model).encoders.parameters())
    model.zero_grad(set_to_none=True)
    AutoencoderPretraining(train_encoders=True)(model, g).backward()
    assert model.encoders.encoders["text"].lin.weight.grad is not None


def test_frozen_encoders_run_in_eval_mode_and_keep_their_batch_statistics() -> None:
    from mmgraph.data.synthetic import make_social_graph
    from mmgraph.models import FeatureConfig, featurize

    g = make_social_graph(40, image_size=8, seed=0)
    g = featurize(
        g,
        FeatureConfig(text_encoder="hashing", image_encoder="cnn-e2e", image_size=8),
        progress=False,
    )
    model = ae_model(g, cnn_channels=[4]).train()
    bn = model.encoders.encoders["image"]
    before = {k: v.clone() for k, v in bn.state_dict().items()}
    AutoencoderPretraining()(model, g)
    assert model.training and model.encoders.training  # modes restored
    for key, value in bn.state_dict().items():
        assert torch.equal(value, before[key]), key
    AutoencoderPretraining(train_encoders=True)(model, g)
    stats = [k for k in before if k.endswith("running_mean")]
    assert stats and not torch.equal(bn.state_dict()[stats[0]], before[stats[0]])


def test_repr_and_name() -> None:
    objective = AutoencoderPretraining(modality_dropout=0.4, mask_key="train_mask")
    assert objective.name == "autoencoder_pretraining"
    assert repr(objective) == (
        "AutoencoderPretraining(noise_std=None, feature_dropout=None, modality_dropout=0.4, "
        "normalize=True, train_encoders=False, mask_key='train_mask')"
    )


def test_errors() -> None:
    g = shared_latent_graph()
    with pytest.raises(TypeError, match="fusion head is an AutoencoderFusion .* 'ConcatFusion'"):
        AutoencoderPretraining()(ae_model(g, fusion="concat", fusion_options={}), g)
    with pytest.raises(TypeError, match="'modality_embeddings"):
        AutoencoderPretraining()(_NoEmbeddings(), g)
    with pytest.raises(ValueError, match=r"'modality_dropout' to be in \[0, 1\) \(got 1.0\)"):
        AutoencoderPretraining(modality_dropout=1.0)
    with pytest.raises(ValueError, match=r"'noise_std' to be in \[0, inf\) \(got -0.1\)"):
        AutoencoderPretraining(noise_std=-0.1)
    with pytest.raises(TypeError, match="'feature_dropout' to be a number or None"):
        AutoencoderPretraining(feature_dropout="0.1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'seed' to be an int or None"):
        AutoencoderPretraining(seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'mask_key' to be a mask name or None"):
        AutoencoderPretraining(mask_key=1)  # type: ignore[arg-type]
    no_split = shared_latent_graph()
    del no_split.train_mask
    with pytest.raises(ValueError, match="no 'train_mask' to pretrain on"):
        AutoencoderPretraining(mask_key="train_mask")(ae_model(g), no_split)


class _NoEmbeddings(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fusion = MultimodalAutoencoder({"text": 2, "image": 2}, out_channels=2)


def test_pretraining_stage_then_supervised_stage_share_one_trainer_loop() -> None:
    # The trainer early-stops pretraining on the training loss (no labels are read).
    g = shared_latent_graph()
    del g.y
    model = ae_model(shared_latent_graph())
    config = dataclasses.replace(pretrain_config(30), patience=5)
    trainer = Trainer(model, config).fit(g, objective=AutoencoderPretraining())
    assert trainer.best_epoch is not None
    assert all("val_accuracy" not in r for r in trainer.history)
