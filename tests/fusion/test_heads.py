"""Checks every fusion head must pass: interface, masks, order, state, dtype, repr."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch import nn

from mmgraph.coordination import AutoencoderFusion, BoltzmannFusion
from mmgraph.fusion import (
    FUSION_HEADS,
    BilinearFusion,
    ConcatFusion,
    FusionHead,
    GatedFusion,
    LateFusion,
    LowRankFusion,
    ProductFusion,
    TensorFusion,
    build_fusion,
)

from .conftest import IN_CHANNELS, PRESENCE, make_inputs

# d = (text 4, image 3, numeric 2), out = 5; parameter counts worked out by hand.
HEADS: dict[str, tuple[Callable[[dict[str, int]], FusionHead], int, int]] = {
    # name: (factory, parameter count, out_channels)
    "concat_learned": (lambda d: ConcatFusion(d), 4 + 3 + 2, 9),
    "concat_flags": (
        lambda d: ConcatFusion(d, out_channels=5, missing="flags"),
        (9 + 3) * 5 + 5,
        5,
    ),
    "product": (lambda d: ProductFusion(d, 5), (4 * 5 + 5) + (3 * 5 + 5) + (2 * 5 + 5), 5),
    "bilinear": (
        lambda d: BilinearFusion(d, 5, proj_dim=2),
        # projections + 3 pairs x (2 * 2 * 5 weights + 5 bias) + 3 missing-pair vectors of 5
        (4 * 2 + 2) + (3 * 2 + 2) + (2 * 2 + 2) + 3 * (2 * 2 * 5 + 5) + 3 * 5,
        5,
    ),
    "tfn": (lambda d: TensorFusion(d, out_channels=5), (5 * 4 * 3) * 5 + 5, 5),
    "tfn_raw": (lambda d: TensorFusion(d), 0, 5 * 4 * 3),
    "lowrank": (
        lambda d: LowRankFusion(d, 5, rank=3),
        3 * (5 * 5) + 3 * (4 * 5) + 3 * (3 * 5) + 3 + 5,
        5,
    ),
    "gated": (
        lambda d: GatedFusion(d, 5, attention_dim=3),
        (4 * 5 + 5) + (3 * 5 + 5) + (2 * 5 + 5) + (5 * 3 + 3) + 3 + 3,
        5,
    ),
    "late": (lambda d: LateFusion(d, 5), (4 * 5 + 5) + (3 * 5 + 5) + (2 * 5 + 5) + 3, 5),
    "late_fixed": (
        lambda d: LateFusion(d, 5, learn_weights=False),
        (4 * 5 + 5) + (3 * 5 + 5) + (2 * 5 + 5),
        5,
    ),
    "autoencoder": (
        lambda d: AutoencoderFusion(d, 5, hidden_channels=(6,)),
        # encoders d -> 6 -> 5, decoders 5 -> 6 -> d
        sum((d * 6 + 6) + (6 * 5 + 5) for d in (4, 3, 2))
        + sum((5 * 6 + 6) + (6 * d + d) for d in (4, 3, 2)),
        5,
    ),
    "boltzmann": (
        lambda d: BoltzmannFusion(d, 5, hidden_channels=6),
        # per modality W (d x 6), b (d), c (6), U (6 x 5); the joint bias (5)
        sum(d * 6 + d + 6 + 6 * 5 for d in (4, 3, 2)) + 5,
        5,
    ),
}
NAMES = list(HEADS)


def build(name: str, in_channels: dict[str, int] = IN_CHANNELS) -> FusionHead:
    head = HEADS[name][0](in_channels)
    head.eval()
    return head


def with_changed_masked_rows(xs: dict[str, torch.Tensor], masks: dict[str, torch.Tensor]):
    gen = torch.Generator().manual_seed(99)
    out = {}
    for m, x in xs.items():
        noise = 100 * torch.randn(x.shape, generator=gen)
        noise[..., 0] = math.nan
        out[m] = torch.where(masks[m].view(-1, *[1] * (x.dim() - 1)), x, noise)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_by_hand(name: str) -> None:
    head = build(name)
    assert sum(p.numel() for p in head.parameters()) == HEADS[name][1]


@pytest.mark.parametrize("name", NAMES)
def test_output_shape_and_out_dim(name: str) -> None:
    head = build(name)
    xs, masks = make_inputs()
    out = head(xs, masks)
    assert head.out_channels == HEADS[name][2]
    assert out.shape == (6, head.out_channels)
    assert torch.isfinite(out).all()  # including node 4, which has no modality


@pytest.mark.parametrize("name", NAMES)
def test_dict_order_does_not_matter(name: str) -> None:
    head = build(name)
    xs, masks = make_inputs()
    expected = head(xs, masks)
    reversed_xs = dict(reversed(list(xs.items())))
    reversed_masks = dict(reversed(list(masks.items())))
    torch.testing.assert_close(head(reversed_xs, reversed_masks), expected)
    # A head built from in_channels in another order has the same parameters and outputs.
    other = build(name, dict(reversed(list(IN_CHANNELS.items()))))
    other.load_state_dict(head.state_dict())
    torch.testing.assert_close(other(reversed_xs, reversed_masks), expected)


@pytest.mark.parametrize("name", NAMES)
def test_masked_rows_have_no_influence(name: str) -> None:
    head = build(name)
    xs, masks = make_inputs()
    expected = head(xs, masks)
    changed = with_changed_masked_rows(xs, masks)
    assert torch.equal(head(changed, masks), expected)

    leaves = {m: x.clone().requires_grad_() for m, x in changed.items()}
    head(leaves, masks).pow(2).sum().backward()
    for m, x in leaves.items():
        assert x.grad is not None
        assert torch.isfinite(x.grad).all()
        assert torch.equal(x.grad[~masks[m]], torch.zeros_like(x.grad[~masks[m]]))
        assert (x.grad[masks[m]] != 0).any()


@pytest.mark.parametrize("name", NAMES)
def test_rows_are_independent(name: str) -> None:
    head = build(name)
    xs, masks = make_inputs()
    full = head(xs, masks)
    rows = torch.tensor([0, 2, 4])
    part = head({m: x[rows] for m, x in xs.items()}, {m: k[rows] for m, k in masks.items()})
    torch.testing.assert_close(part, full[rows])


@pytest.mark.parametrize("name", NAMES)
def test_no_masks_means_all_present(name: str) -> None:
    head = build(name)
    xs, _ = make_inputs()
    all_present = {m: torch.ones(6, dtype=torch.bool) for m in xs}
    torch.testing.assert_close(head(xs), head(xs, all_present))
    torch.testing.assert_close(head(xs, {}), head(xs, all_present))


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip(name: str) -> None:
    torch.manual_seed(1)
    head = build(name)
    torch.manual_seed(2)
    other = build(name)
    xs, masks = make_inputs()
    if HEADS[name][1] > 0:
        assert not torch.allclose(other(xs, masks), head(xs, masks))
    other.load_state_dict(head.state_dict())
    torch.testing.assert_close(other(xs, masks), head(xs, masks))


@pytest.mark.parametrize("name", NAMES)
def test_reset_parameters_reinitialises(name: str) -> None:
    head = build(name)
    if HEADS[name][1] == 0:
        head.reset_parameters()
        return
    before = [p.detach().clone() for p in head.parameters()]
    head.reset_parameters()
    after = list(head.parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after))


@pytest.mark.parametrize("name", NAMES)
def test_to_float64_moves_everything(name: str) -> None:
    head = build(name).to(torch.float64)
    for tensor in [*head.parameters(), *head.buffers()]:
        assert tensor.dtype == torch.float64
    xs, masks = make_inputs()
    out = head({m: x.double() for m, x in xs.items()}, masks)
    assert out.dtype == torch.float64


@pytest.mark.parametrize("name", NAMES)
def test_an_input_of_another_dtype_is_named(name: str) -> None:
    head = build(name)
    xs, masks = make_inputs()
    every = {m: x.double() for m, x in xs.items()}
    if any(True for _ in head.parameters()):
        with pytest.raises(TypeError, match=r"xs\['\w+'\] of \w+ in torch.float32, the dtype"):
            head(every, masks)
    else:  # no weights to disagree with
        assert head(every, masks).dtype == torch.float64
    one = {**xs, "image": xs["image"].double()}  # one modality apart from the others
    with pytest.raises(TypeError, match=r"(every modality in one dtype|the dtype of its weights)"):
        head(one, masks)


def test_repr_names_key_hyperparameters() -> None:
    dims = "{'text': 4, 'image': 3, 'numeric': 2}"
    assert repr(build("concat_flags")) == (
        f"ConcatFusion({dims}, out_channels=5, missing='flags', concat_dim=12)"
    )
    assert repr(build("concat_learned")) == (
        f"ConcatFusion({dims}, out_channels=None, missing='learned', concat_dim=9)"
    )
    assert repr(build("product")) == f"ProductFusion({dims}, out_channels=5)"
    assert repr(build("bilinear")) == f"BilinearFusion({dims}, out_channels=5, proj_dim=2)"
    assert repr(build("tfn_raw")) == f"TensorFusion({dims}, out_channels=None, fused_dim=60)"
    assert repr(build("tfn")) == f"TensorFusion({dims}, out_channels=5, fused_dim=60)"
    assert repr(build("lowrank")) == f"LowRankFusion({dims}, out_channels=5, rank=3)"
    assert repr(build("gated")) == f"GatedFusion({dims}, out_channels=5, attention_dim=3)"
    assert repr(build("late")) == f"LateFusion({dims}, out_channels=5, learn_weights=True)"
    assert repr(build("autoencoder")) == (
        f"AutoencoderFusion({dims}, out_channels=5, hidden_channels=[6], noise_std=0.0, "
        "feature_dropout=0.0, modality_dropout=0.0)"
    )
    assert repr(build("boltzmann")) == (
        f"BoltzmannFusion({dims}, out_channels=5, hidden_channels=6, mean_field_steps=10)"
    )


def test_build_fusion_by_name() -> None:
    assert set(FUSION_HEADS) == {
        "autoencoder",
        "boltzmann",
        "concat",
        "product",
        "bilinear",
        "tfn",
        "lowrank",
        "gated",
        "late",
        "mvlstm",
        "translation",
    }
    head = build_fusion("lowrank", IN_CHANNELS, out_channels=7, rank=2)
    assert isinstance(head, LowRankFusion)
    assert (head.out_channels, head.rank) == (7, 2)
    for name, cls in FUSION_HEADS.items():
        assert isinstance(build_fusion(name, IN_CHANNELS, out_channels=3), cls)
        assert issubclass(cls, nn.Module)


def test_build_fusion_unknown_name_lists_valid_names() -> None:
    with pytest.raises(
        KeyError,
        match=r"Unknown fusion head 'sum'; expected one of "
        r"\['autoencoder', 'bilinear', 'boltzmann'",
    ):
        build_fusion("sum", IN_CHANNELS)
    with pytest.raises(ValueError, match="Unknown fusion head 'sum'"):
        build_fusion("sum", IN_CHANNELS)
    with pytest.raises(
        ValueError, match=r"Unknown option \['rnak'\] of the fusion head LowRankFusion: .*'rank'"
    ):
        build_fusion("lowrank", IN_CHANNELS, out_channels=4, rnak=3)
    assert isinstance(build_fusion("autoencoder", IN_CHANNELS, out_channels=3), AutoencoderFusion)
    assert isinstance(build_fusion("AutoEncoder", IN_CHANNELS, out_channels=3), AutoencoderFusion)


def test_masks_follow_presence_fixture() -> None:
    _, masks = make_inputs()
    assert {m: k.tolist() for m, k in masks.items()} == PRESENCE


class TestValidation:
    def test_in_channels(self) -> None:
        with pytest.raises(TypeError, match="Expected 'in_channels' to be a mapping"):
            ProductFusion([4, 3], 5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="at least 1 modalities"):
            ProductFusion({}, 5)
        with pytest.raises(ValueError, match="at least 2 modalities"):
            BilinearFusion({"text": 4}, 5)
        with pytest.raises(ValueError, match="size of modality 'text' to be positive"):
            ProductFusion({"text": 0}, 5)
        with pytest.raises(TypeError, match="size of modality 'text' to be an int"):
            ProductFusion({"text": 2.0}, 5)  # type: ignore[dict-item]
        with pytest.raises(ValueError, match="without dots"):
            ProductFusion({"a.b": 2}, 5)
        with pytest.raises(ValueError, match="Expected 'out_channels' to be an int >= 1"):
            ProductFusion(IN_CHANNELS, 0)
        with pytest.raises(TypeError, match="Expected 'rank' to be an int"):
            LowRankFusion(IN_CHANNELS, 5, rank=2.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="Unknown missing mode 'zeros'; valid modes: learned"):
            ConcatFusion(IN_CHANNELS, missing="zeros")

    def test_inputs(self) -> None:
        head = ProductFusion(IN_CHANNELS, 5)
        xs, masks = make_inputs()
        with pytest.raises(TypeError, match="Expected 'xs' to be a mapping"):
            head([xs["text"]], masks)  # type: ignore[arg-type]
        with pytest.raises(KeyError, match=r"missing \['numeric'\], unexpected \[\]"):
            head({m: x for m, x in xs.items() if m != "numeric"}, masks)
        with pytest.raises(KeyError, match=r"unexpected \['audio'\]"):
            head({**xs, "audio": xs["text"]}, masks)
        with pytest.raises(KeyError, match=r"Unknown modalities \['audio'\] in 'masks'"):
            head(xs, {**masks, "audio": masks["text"]})
        with pytest.raises(ValueError, match=r"xs\['image'\] to have shape \[N, d\] with d = 3"):
            head({**xs, "image": torch.randn(6, 4)}, masks)
        with pytest.raises(TypeError, match=r"xs\['text'\] to be of floating type"):
            head({**xs, "text": torch.ones(6, 4, dtype=torch.long)}, masks)
        with pytest.raises(TypeError, match=r"xs\['text'\] to be a tensor"):
            head({**xs, "text": [[0.0] * 4] * 6}, masks)  # type: ignore[dict-item]
        with pytest.raises(ValueError, match="same number of nodes"):
            head({**xs, "numeric": torch.randn(5, 2)}, masks)
        with pytest.raises(TypeError, match=r"masks\['text'\] to be a bool tensor"):
            head(xs, {**masks, "text": masks["text"].long()})
        with pytest.raises(ValueError, match=r"masks\['text'\] to have shape \[N\]"):
            head(xs, {**masks, "text": masks["text"][:3]})
        with pytest.raises(TypeError, match="Expected 'masks' to be a mapping"):
            head(xs, [masks["text"]])  # type: ignore[arg-type]
