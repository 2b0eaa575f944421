"""Tensor Fusion against its definition, and low-rank fusion against Tensor Fusion."""

from __future__ import annotations

import math

import pytest
import torch

from mmgraph.fusion import LowRankFusion, TensorFusion

from .conftest import IN_CHANNELS, make_inputs


def one(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x, torch.ones(x.size(0), 1, dtype=x.dtype)], dim=1)


def test_tfn_is_the_outer_product_with_appended_ones() -> None:
    head = TensorFusion(IN_CHANNELS)
    xs, masks = make_inputs()
    z = head(xs, masks)
    assert head.out_channels == math.prod(d + 1 for d in IN_CHANNELS.values()) == 60
    for i in range(6):
        t, im, nu = (
            one(torch.where(masks[m][i], xs[m][i : i + 1], 0.0))
            for m in ("text", "image", "numeric")
        )
        expected = torch.einsum("a,b,c->abc", t[0], im[0], nu[0]).flatten()
        torch.testing.assert_close(z[i], expected)


def test_tfn_holds_unimodal_bimodal_and_constant_terms() -> None:
    head = TensorFusion({"text": 2, "image": 3})
    xs = {"text": torch.tensor([[2.0, 3.0]]), "image": torch.tensor([[5.0, 7.0, 11.0]])}
    z = head(xs).view(3, 4)
    torch.testing.assert_close(z[:2, :3], torch.outer(xs["text"][0], xs["image"][0]))  # bimodal
    torch.testing.assert_close(z[:2, 3], xs["text"][0])  # text alone
    torch.testing.assert_close(z[2, :3], xs["image"][0])  # image alone
    assert z[2, 3] == 1.0  # the constant


def test_tfn_absent_modality_keeps_only_terms_without_it() -> None:
    head = TensorFusion({"text": 2, "image": 3})
    xs = {"text": torch.tensor([[2.0, 3.0]]), "image": torch.tensor([[5.0, 7.0, 11.0]])}
    z = head(xs, {"image": torch.tensor([False])}).view(3, 4)
    expected = torch.zeros(3, 4)
    expected[:2, 3] = xs["text"][0]
    expected[2, 3] = 1.0
    torch.testing.assert_close(z, expected)


def test_tfn_node_without_modalities_gets_constant_column() -> None:
    head = TensorFusion(IN_CHANNELS, out_channels=5)
    xs, masks = make_inputs()
    out = head(xs, masks)
    assert head.lin is not None
    torch.testing.assert_close(out[4], head.lin.weight[:, -1] + head.lin.bias)


def rebuild_by_hand(low: LowRankFusion) -> torch.Tensor:
    """W[o, i, j, k] = sum_r lambda_r A_text[r, i, o] A_image[r, j, o] A_numeric[r, k, o]."""
    a, b, c = (low.factors[m].detach() for m in ("text", "image", "numeric"))
    weight = torch.zeros(low.out_channels, a.size(1), b.size(1), c.size(1))
    for r in range(low.rank):
        for o in range(low.out_channels):
            outer = torch.einsum("i,j,k->ijk", a[r, :, o], b[r, :, o], c[r, :, o])
            weight[o] += low.fusion_weights.detach()[r] * outer
    return weight.flatten(1)


@pytest.mark.parametrize("rank", [1, 3])
def test_lowrank_equals_tfn_with_rebuilt_weight(rank: int) -> None:
    low = LowRankFusion(IN_CHANNELS, 5, rank=rank)
    with torch.no_grad():
        low.bias.normal_()
    tfn = TensorFusion(IN_CHANNELS, out_channels=5)
    weight = rebuild_by_hand(low)
    torch.testing.assert_close(low.dense_weight().detach(), weight)
    assert tfn.lin is not None
    with torch.no_grad():
        tfn.lin.weight.copy_(weight)
        tfn.lin.bias.copy_(low.bias)
    xs, masks = make_inputs()
    torch.testing.assert_close(low(xs, masks), tfn(xs, masks))
    torch.testing.assert_close(low(xs), tfn(xs))


def test_lowrank_factors_are_registered_trained_and_saved() -> None:
    low = LowRankFusion(IN_CHANNELS, 5, rank=2)
    names = dict(low.named_parameters())
    assert set(names) == {
        "factors.text",
        "factors.image",
        "factors.numeric",
        "fusion_weights",
        "bias",
    }
    assert names["factors.image"].shape == (2, 3 + 1, 5)
    assert set(low.state_dict()) == set(names)
    xs, masks = make_inputs()
    low(xs, masks).sum().backward()
    assert all(p.grad is not None and (p.grad != 0).any() for p in low.parameters())


def test_tfn_projection_maps_each_modality_then_takes_the_product() -> None:
    head = TensorFusion({"text": 6, "image": 2}, out_channels=4, proj_dim=3)
    # text 6 -> 3, image stays 2 (never widened); product (3 + 1)(2 + 1), then 12 -> 4
    assert head.fused_dim == 12
    assert sum(p.numel() for p in head.parameters()) == (6 * 3 + 3) + (2 * 2 + 2) + 12 * 4 + 4
    xs = {"text": torch.randn(3, 6), "image": torch.randn(3, 2)}
    masks = {"image": torch.tensor([True, False, True])}
    z = head.fuse(xs, masks).view(3, 4, 3)
    u = head.projs["text"](xs["text"])
    v = head.projs["image"](xs["image"])
    torch.testing.assert_close(z[0, :3, :2], torch.outer(u[0], v[0]))
    torch.testing.assert_close(z[1, :3, :2], torch.zeros(3, 2))  # absent image: no bias leaks
    torch.testing.assert_close(z[1, :3, 2], u[1])
    torch.testing.assert_close(z[1, 3], torch.tensor([0.0, 0.0, 1.0]))
    state = head.state_dict()
    again = TensorFusion({"text": 6, "image": 2}, out_channels=4, proj_dim=3)
    again.load_state_dict(state)
    torch.testing.assert_close(again(xs, masks), head(xs, masks))
    assert "proj_dim=3" in repr(head)


def test_tfn_proj_dim_keeps_the_fused_width_within_the_limit() -> None:
    from mmgraph.fusion import tfn_proj_dim

    assert tfn_proj_dim({"a": 4, "b": 4}, 1024) is None  # 25 entries: nothing to do
    assert tfn_proj_dim({"a": 64, "b": 64, "c": 64}, 1024) == 9  # 10^3 <= 1024 < 11^3
    assert tfn_proj_dim({"a": 64, "b": 64}, 1024) == 31  # 32^2 = 1024
    assert tfn_proj_dim({"a": 64, "b": 2, "c": 64}, 1024) == 17  # 18 * 3 * 18 = 972
    with pytest.raises(ValueError):
        tfn_proj_dim({"a": 4}, 0)


def test_multimodal_gnn_picks_and_records_the_tfn_size() -> None:
    from mmgraph.data.synthetic import make_social_graph
    from mmgraph.models import FeatureConfig, ModelConfig, MultimodalGNN, featurize

    graph = featurize(
        make_social_graph(40, seed=0, image_size=8),
        FeatureConfig(text_encoder="hashing", hashing_dim=32),
        progress=False,
    )
    model = MultimodalGNN.from_graph(graph, fusion="tfn", modality_dim=64)
    assert model.config.fusion_options == {"proj_dim": 9}
    assert model.fusion.fused_dim <= 1024
    rebuilt = MultimodalGNN.from_config(ModelConfig.from_dict(model.config.to_dict()))
    rebuilt.load_state_dict(model.state_dict())  # the saved config rebuilds the same model
    explicit = MultimodalGNN.from_graph(graph, fusion="tfn", modality_dim=4)
    assert explicit.config.fusion_options == {} and explicit.fusion.fused_dim == 125
