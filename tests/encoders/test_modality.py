from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from mmgraph.data.graph import MultimodalGraph
from mmgraph.encoders import (
    AttributeEncoder,
    HashingTextEncoder,
    ImageEncoder,
    ModalityWise,
    PrecomputedEncoder,
    SmallCNN,
    encode_graph,
)
from mmgraph.encoders.attributes import SPARSE_MIN_COLUMNS
from mmgraph.nn.functional import is_sparse

N = 5


def inputs() -> dict[str, tuple[Tensor, ...]]:
    gen = torch.Generator().manual_seed(0)
    text = torch.randn(N, 6, generator=gen)
    text_mask = torch.tensor([True, True, False, True, False])
    numeric = torch.randn(N, 2, generator=gen)
    numeric[1] = math.nan
    categorical = torch.tensor([[1], [0], [2], [0], [1]])
    images = torch.rand(N, 3, 8, 8, generator=gen)
    image_mask = torch.tensor([True, False, True, True, True])
    return {
        "text": (text, text_mask),
        "attributes": (numeric, categorical),
        "image": (images, image_mask),
    }


def model() -> ModalityWise:
    torch.manual_seed(0)
    attributes = AttributeEncoder(2, [2], out_channels=3, embedding_dim=2)
    attributes.fit(inputs()["attributes"][0])
    # Inserted out of canonical order on purpose.
    return ModalityWise(
        {
            "attributes": attributes,
            "text": PrecomputedEncoder(6, 4),
            "image": SmallCNN(3, 5, channels=(2,)),
        }
    )


def test_forward_in_canonical_order() -> None:
    mw = model().eval()
    assert mw.modalities == ["text", "image", "attributes"]
    assert mw.out_channels == {"text": 4, "image": 5, "attributes": 3}
    xs, masks = mw(inputs())
    assert list(xs) == list(masks) == ["text", "image", "attributes"]
    for name, dim in mw.out_channels.items():
        assert xs[name].shape == (N, dim) and masks[name].dtype == torch.bool
    # Each entry equals calling its encoder directly.
    for name, encoder in mw.encoders.items():
        x, mask = encoder(*inputs()[name])
        torch.testing.assert_close(xs[name], x)
        assert torch.equal(masks[name], mask)
    assert masks["text"].tolist() == [True, True, False, True, False]
    assert torch.equal(xs["text"][2], torch.zeros(4))
    assert masks["attributes"].tolist() == [True, False, True, True, True]  # NaN and code 0


def test_partial_encodes_only_the_given_modalities() -> None:
    mw = model().eval()
    full, _ = mw(inputs())
    text_only = {"text": inputs()["text"]}
    xs, masks = mw(text_only, partial=True)
    assert list(xs) == list(masks) == ["text"]
    torch.testing.assert_close(xs["text"], full["text"])
    with pytest.raises(KeyError, match="Missing inputs for modality 'image'"):
        mw(text_only)


def test_single_tensor_input_is_one_argument() -> None:
    mw = ModalityWise({"text": PrecomputedEncoder(6)})
    x = inputs()["text"][0]
    xs, masks = mw({"text": x})
    assert torch.equal(xs["text"], x) and bool(masks["text"].all())


def test_parameters_state_dict_repr_and_to() -> None:
    mw = model()
    expected = (6 * 4 + 4) + (2 + 2) * 2 + (2 * 2 + 2) * 3 + 3 + (3 * 2 * 9 + 2 * 2) + (2 * 5 + 5)
    assert sum(p.numel() for p in mw.parameters()) == expected
    other = model()
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)
    other.load_state_dict(mw.state_dict())
    mw.eval(), other.eval()
    for name in mw.modalities:
        torch.testing.assert_close(other(inputs())[0][name], mw(inputs())[0][name])
    assert repr(ModalityWise({"text": PrecomputedEncoder(6, 4)})) == (
        "ModalityWise(text=PrecomputedEncoder(6, 4))"
    )
    mw.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in mw.parameters())
    before = mw.encoders["text"].lin.weight.clone()
    mw.reset_parameters()
    assert not torch.equal(mw.encoders["text"].lin.weight, before)


def test_modality_wise_errors() -> None:
    with pytest.raises(ValueError, match="Expected at least one encoder"):
        ModalityWise({})
    with pytest.raises(KeyError, match="Unknown modality 'txt' for an encoder"):
        ModalityWise({"txt": PrecomputedEncoder(2)})
    with pytest.raises(TypeError, match="Expected the encoder of 'text' to be a torch.nn.Module"):
        ModalityWise({"text": HashingTextEncoder(8)})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="to expose its output size"):
        ModalityWise({"text": nn.Identity()})
    mw = model()
    with pytest.raises(KeyError, match="Missing inputs for modality 'image'"):
        mw({k: v for k, v in inputs().items() if k != "image"})
    with pytest.raises(KeyError, match="No encoder for modality 'numeric'"):
        mw({**inputs(), "numeric": (torch.ones(N, 2),)})
    bad = inputs()
    bad["text"] = (torch.randn(N + 1, 6), torch.ones(N + 1, dtype=torch.bool))
    with pytest.raises(ValueError, match="Expected every modality to hold the same 6 nodes"):
        mw(bad)

    class NoMask(nn.Module):
        out_channels = 2

        def forward(self, x: Tensor) -> Tensor:
            return x

    with pytest.raises(TypeError, match="to return \\(x, mask\\)"):
        ModalityWise({"text": NoMask()})({"text": torch.ones(2, 2)})


def test_precomputed_encoder() -> None:
    x, mask = inputs()["text"]
    identity = PrecomputedEncoder(6)
    assert sum(p.numel() for p in identity.parameters()) == 0 and identity.out_channels == 6
    out, out_mask = identity(x, mask)
    assert torch.equal(out[mask], x[mask]) and torch.equal(out[~mask], torch.zeros(2, 6))
    assert torch.equal(out_mask, mask)
    torch.manual_seed(0)
    proj = PrecomputedEncoder(6, 3)
    assert sum(p.numel() for p in proj.parameters()) == 6 * 3 + 3
    out, _ = proj(x, mask)
    torch.testing.assert_close(out[mask], x[mask] @ proj.lin.weight.T + proj.lin.bias)
    assert repr(proj) == "PrecomputedEncoder(6, 3)"
    other = PrecomputedEncoder(6, 3)
    other.load_state_dict(proj.state_dict())
    torch.testing.assert_close(other(x)[0], proj(x)[0])
    assert proj.to(torch.float64)(x.double())[0].dtype == torch.float64
    with pytest.raises(ValueError, match=r"Expected precomputed features of shape \[N, 6\]"):
        proj(torch.ones(2, 5))
    with pytest.raises(ValueError, match=r"Expected 'mask' to be a bool tensor of shape \[5\]"):
        identity(x, mask.float())
    with pytest.raises(ValueError, match="Expected 'in_channels' to be a positive int"):
        PrecomputedEncoder(0)
    with pytest.raises(ValueError, match="Expected 'out_channels' to be a positive int or None"):
        PrecomputedEncoder(2, 0)


def words(n: int = 8, f: int = SPARSE_MIN_COLUMNS + 10, density: float = 0.05) -> Tensor:
    """A raw bag of words ``[n, f]``: 0/1 values, ``density`` of them ones."""
    gen = torch.Generator().manual_seed(3)
    return (torch.rand(n, f, generator=gen) < density).float()


def test_precomputed_encoder_keeps_wide_mostly_zero_features_sparse() -> None:
    x = words()
    mask = torch.ones(8, dtype=torch.bool)
    mask[[2, 5]] = False
    x[5] = 1.0  # an absent node's row: zeroed however full
    sparse = PrecomputedEncoder(x.size(1), sparse_output=True)
    out, out_mask = sparse(x, mask)
    assert is_sparse(out) and torch.equal(out_mask, mask)
    assert torch.equal(out.to_dense(), PrecomputedEncoder(x.size(1))(x, mask)[0])
    assert sparse(x, mask)[0] is out  # converted once per (features, mask)
    clean = words()
    every = sparse(clean)[0]
    assert is_sparse(every) and sparse(clean)[0] is every  # without a mask: all present
    assert torch.equal(every.to_dense(), clean)
    torch.manual_seed(0)
    proj = PrecomputedEncoder(x.size(1), 4)
    assert proj.sparse_features(x, mask) is not None  # the projection is sparse-dense
    out, _ = proj(x, mask)
    weight = proj.lin.weight.detach().clone().requires_grad_(True)
    ref = (x @ weight.T + proj.lin.bias).masked_fill(~mask[:, None], 0.0)
    torch.testing.assert_close(out, ref)
    (grad,) = torch.autograd.grad(out.pow(2).sum(), proj.lin.weight)
    torch.testing.assert_close(grad, torch.autograd.grad(ref.pow(2).sum(), weight)[0])


@pytest.mark.parametrize(
    "x",
    [
        words(density=0.5),  # not mostly zero
        words(f=SPARSE_MIN_COLUMNS - 1),  # too narrow
        words().requires_grad_(True),  # computed by a model
    ],
    ids=["dense", "narrow", "requires-grad"],
)
def test_precomputed_encoder_leaves_other_features_dense(x: Tensor) -> None:
    encoder = PrecomputedEncoder(x.size(1), sparse_output=True)
    out, _ = encoder(x)
    assert not is_sparse(out)
    torch.testing.assert_close(out, x)


def test_encode_graph_text_and_image_paths(
    shared_data: Path, vision_dirs: dict[str, Path], tmp_path: Path
) -> None:
    graph = MultimodalGraph(
        text=["Austria flag", None, ["Andorra", "flag"], "hidden", "Aruba"],
        image=["ABW.png", "AND.png", None, "AUT.png", "nope.png"],
        presence={"text": torch.tensor([True, False, True, False, True])},
        image_root=str(shared_data / "country-flags" / "images"),
    )
    text_encoder = HashingTextEncoder(out_channels=16)
    image_encoder = ImageEncoder(
        vision_dirs["vit"], cache_dir=tmp_path, on_error="missing", progress=False
    )
    with pytest.warns(UserWarning, match="nope.png"):
        out = encode_graph(graph, text_encoder, image_encoder, progress=False)
    assert list(out) == ["text", "image"]
    x, mask = out["text"]
    assert mask.tolist() == [True, False, True, False, True]  # "hidden" is marked absent
    direct, _ = text_encoder.encode(["Austria flag", None, ["Andorra", "flag"], None, "Aruba"])
    assert torch.equal(x, direct) and torch.equal(x[3], torch.zeros(16))
    x, mask = out["image"]
    assert mask.tolist() == [True, True, False, True, False]
    root = graph.image_root
    direct, _ = image_encoder.encode(["ABW.png", "AND.png", None, "AUT.png"], root=root)
    torch.testing.assert_close(x[:4], direct)
    # The result plugs into a ModalityWise of precomputed encoders.
    mw = ModalityWise({m: PrecomputedEncoder(x.size(1)) for m, (x, _) in out.items()})
    xs, masks = mw(out)
    assert torch.equal(masks["image"], mask)


def test_encode_graph_image_tensor(vision_dirs: dict[str, Path], tmp_path: Path) -> None:
    images = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    present = torch.tensor([True, False, True])
    graph = MultimodalGraph(image=images, presence={"image": present})
    enc = ImageEncoder(vision_dirs["vit"], cache_dir=tmp_path, progress=False)
    x, mask = encode_graph(graph, image_encoder=enc, progress=False)["image"]
    assert torch.equal(mask, present) and torch.equal(x[1], torch.zeros(16))
    torch.testing.assert_close(x[[0, 2]], enc.encode(images[[0, 2]])[0])


def test_encode_graph_errors() -> None:
    graph = MultimodalGraph(text=["a", "b"])
    with pytest.raises(ValueError, match="The graph has no 'image' modality to encode"):
        encode_graph(graph, image_encoder=SmallCNN())  # type: ignore[arg-type]
    images = MultimodalGraph(image=torch.rand(2, 3, 8, 8))
    with pytest.raises(TypeError, match="Expected a frozen image encoder with an `encode`"):
        encode_graph(images, image_encoder=SmallCNN())  # type: ignore[arg-type]
    assert encode_graph(graph) == {}


def test_a_centred_encoder_subtracts_the_fitted_mean() -> None:
    torch.manual_seed(0)
    x = torch.randn(12, 5) + 3.0
    mask = torch.arange(12) < 9
    projected = PrecomputedEncoder(5, 4, center=True).fit(x, mask)
    assert torch.allclose(projected.offset, x[mask].mean(0))
    out, _ = projected(x, mask)
    lin = projected.lin
    assert lin is not None
    expected = lin(x - x[mask].mean(0)).masked_fill(~mask[:, None], 0.0)
    assert torch.allclose(out, expected, atol=1e-6)
    plain = PrecomputedEncoder(5, center=True).fit(x)
    assert torch.allclose(plain(x)[0], x - x.mean(0))
    assert "offset" in projected.state_dict()
    assert "offset" not in PrecomputedEncoder(5, 4).state_dict()
    assert PrecomputedEncoder(5, 4).fit(x).offset is None  # without center: nothing to fit
    assert "center=True" in repr(projected)


def test_a_centred_encoder_gives_the_same_on_sparse_words() -> None:
    torch.manual_seed(0)
    x = (torch.rand(30, SPARSE_MIN_COLUMNS) < 0.01).float()
    encoder = PrecomputedEncoder(SPARSE_MIN_COLUMNS, 8, center=True).fit(x)
    assert encoder.sparse_features(x) is not None  # the sparse product ran
    lin = encoder.lin
    assert lin is not None
    assert torch.allclose(encoder(x)[0], lin(x - x.mean(0)), atol=1e-5)


def test_a_centred_encoder_refuses_nan_in_present_rows() -> None:
    x = torch.randn(4, 3)
    x[1, 2] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite"):
        PrecomputedEncoder(3, 2, center=True).fit(x)
    encoder = PrecomputedEncoder(3, 2, center=True).fit(x, torch.tensor([True, False, True, True]))
    assert bool(torch.isfinite(encoder.offset).all())
    with pytest.raises(ValueError, match=r"shape \[N, 3\]"):
        PrecomputedEncoder(3, 2, center=True).fit(torch.randn(4, 2))
