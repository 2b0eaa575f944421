"""The transformers image encoder (mmgraph.encoders.image) and building one by name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import torch

from mmgraph.encoders._hub import pooled_output
from mmgraph.encoders.image import ImageEncoder, SmallCNN, build_image_encoder
from mmgraph.errors import InputError

# Flags in each PIL mode the shared folder holds.
PALETTE, PALETTE_ALPHA, RGB, RGBA = "ABW.png", "AUT.png", "AND.png", "ARG.png"


@pytest.fixture(scope="module")
def flags(shared_data: Path) -> Path:
    return shared_data / "country-flags" / "images"


@pytest.fixture(scope="module")
def vit(vision_dirs: dict[str, Path]) -> ImageEncoder:
    return ImageEncoder(vision_dirs["vit"], batch_size=2, use_cache=False, progress=False)


@contextmanager
def count_forwards(encoder: ImageEncoder) -> Iterator[list[int]]:
    calls = [0]
    hook = encoder.model.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    try:
        yield calls
    finally:
        hook.remove()


@contextmanager
def configured(encoder: ImageEncoder, **settings: Any) -> Iterator[ImageEncoder]:
    """The shared encoder with some settings changed for one test."""
    old = {k: getattr(encoder, k) for k in settings}
    for k, v in settings.items():
        setattr(encoder, k, v)
    try:
        yield encoder
    finally:
        for k, v in old.items():
            setattr(encoder, k, v)


def images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, 40, 36, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- ImageEncoder
@pytest.mark.parametrize(
    ("kind", "dim"), [("vit", 16), ("resnet", 12), ("convnext", 12), ("clip_vision", 16)]
)
def test_transformers_vision_models(vision_dirs: dict[str, Path], kind: str, dim: int) -> None:
    enc = ImageEncoder(vision_dirs[kind], batch_size=2, use_cache=False, progress=False)
    assert enc.out_channels == dim
    x, mask = enc.encode(images(3))
    assert x.shape == (3, dim) and mask.all()
    # The same features by hand, one image at a time: processor, model, pooled output.
    for i, image in enumerate(images(3)):
        pixels = enc.processor(images=[image], return_tensors="pt", do_rescale=False)
        with torch.no_grad():
            out = enc.model(**pixels)
        torch.testing.assert_close(x[i], out.pooler_output.flatten(), atol=1e-5, rtol=1e-4)


def test_clip_model_uses_its_vision_tower(vision_dirs: dict[str, Path]) -> None:
    from transformers import CLIPModel

    enc = ImageEncoder(vision_dirs["clip"], use_cache=False, progress=False)
    clip = CLIPModel.from_pretrained(vision_dirs["clip"]).eval()
    assert type(enc.model).__name__ == type(clip.vision_model).__name__
    assert enc.out_channels == 16  # the tower's hidden size, not the projection (8)
    x, _ = enc.encode(images(2))
    pixels = enc.preprocess(list(images(2)), rescale=False)
    with torch.no_grad():
        expected = clip.vision_model(pixel_values=pixels).pooler_output
    torch.testing.assert_close(x, expected)


def test_pooled_output_falls_back_to_mean_of_hidden_states() -> None:
    class Out:
        pooler_output = None

        def __init__(self, hidden: torch.Tensor) -> None:
            self.last_hidden_state = hidden

    tokens = torch.randn(2, 5, 4, generator=torch.Generator().manual_seed(0))
    grid = torch.randn(2, 4, 3, 3, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(pooled_output(Out(tokens)), tokens.mean(dim=1))
    torch.testing.assert_close(pooled_output(Out(grid)), grid.mean(dim=(2, 3)))


def test_paths_missing_and_cache(vit: ImageEncoder, flags: Path, tmp_path: Path) -> None:
    from mmgraph.data.images import load_image

    paths = [PALETTE, None, RGB, RGBA, PALETTE]
    settings = {"use_cache": True, "cache_dir": tmp_path, "batch_size": 1}
    with configured(vit, **settings) as enc, count_forwards(enc) as calls:
        x, mask = enc.encode(paths, root=flags)
        assert mask.tolist() == [True, False, True, True, True]
        assert torch.equal(x[1], torch.zeros(16)) and torch.equal(x[0], x[4])
        assert len(enc._cache() or []) == 3
        assert calls[0] == 3  # 3 distinct images: PALETTE (twice) is encoded once
        again, _ = enc.encode(paths, root=flags)
        assert calls[0] == 3 and torch.equal(again, x)  # all from the cache
        # The same pixels from PIL by hand.
        pixels = enc.preprocess([load_image(flags / RGB)])
        with torch.no_grad():
            torch.testing.assert_close(x[2], enc(pixels)[0])


def test_image_cache_is_written_per_chunk(vit: ImageEncoder, tmp_path: Path) -> None:
    settings = {"use_cache": True, "cache_dir": tmp_path, "batch_size": 1, "flush_every": 2}
    with configured(vit, **settings) as enc:
        enc.encode(images(5))
        cache = enc._cache()
        assert cache is not None and len(cache) == 5
        assert len(list(cache.path.glob("shard-*.keys"))) == 3  # after 2, 4 and 5 images


def test_tensor_input_mask_and_cache(vit: ImageEncoder, tmp_path: Path) -> None:
    imgs = images(4)
    present = torch.tensor([True, False, True, True])
    settings = {"use_cache": True, "cache_dir": tmp_path, "batch_size": 4}
    with configured(vit, **settings) as enc, count_forwards(enc) as calls:
        x, mask = enc.encode(imgs, mask=present)
        assert torch.equal(mask, present) and torch.equal(x[1], torch.zeros(16))
        assert calls[0] == 1
        y, _ = enc.encode(imgs)  # only the newly present image is encoded
        assert calls[0] == 2 and torch.equal(y[[0, 2, 3]], x[[0, 2, 3]])
        grey, _ = enc.encode(imgs[:, :1])  # one channel, repeated to three
        rgb, _ = enc.encode(imgs[:, :1].expand(-1, 3, -1, -1).contiguous())
        torch.testing.assert_close(grey, rgb)
        as_bytes = (imgs * 255).round().to(torch.uint8)  # uint8 pixels are rescaled
        torch.testing.assert_close(enc.encode(as_bytes)[0], y, atol=0.05, rtol=0)


def test_unreadable_image_files(vit: ImageEncoder, flags: Path, tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(ValueError, match="Could not read image file .*broken.png"):
        vit.encode([str(tmp_path / "broken.png")])
    with pytest.raises(FileNotFoundError, match="gone.png' not found"):
        vit.encode([str(tmp_path / "gone.png")])
    # several: counted and named in one error, found past the batch of the first (of 2)
    (tmp_path / "empty.png").write_bytes(b"")
    several = [flags / RGB, tmp_path / "broken.png", flags / RGB, tmp_path / "empty.png"]
    with pytest.raises(ValueError, match=r"Could not read 2 image files: .*broken.png'.*empty"):
        vit.encode([str(p) for p in several])
    paths = [flags / RGB, tmp_path / "broken.png", tmp_path / "gone.png"]
    with configured(vit, on_error="missing", use_cache=True, cache_dir=tmp_path / "c") as enc:
        with pytest.warns(UserWarning, match=r"Could not read 2 image file") as record:
            x, mask = enc.encode(paths)
    assert "broken.png" in str(record[0].message) and "gone.png" in str(record[0].message)
    assert mask.tolist() == [True, False, False] and torch.equal(x[1:], torch.zeros(2, 16))


def test_batching_does_not_change_features(vit: ImageEncoder) -> None:
    x, _ = vit.encode(images(3))  # batches of 2
    with configured(vit, batch_size=1):
        torch.testing.assert_close(vit.encode(images(3))[0], x)


def test_normalize_and_autograd(vit: ImageEncoder) -> None:
    with configured(vit, normalize=True) as enc:
        x, _ = enc.encode(images(2))
    torch.testing.assert_close(x.norm(dim=1), torch.ones(2))
    lin = torch.nn.Linear(16, 1)
    lin(x).sum().backward()
    assert lin.weight.grad is not None


def test_image_encoder_module_api(vision_dirs: dict[str, Path], vit: ImageEncoder) -> None:
    h, i, c, p, tokens = 16, 32, 3, 8, (32 // 8) ** 2 + 1
    embeddings = c * p * p * h + h + h + tokens * h  # patch conv, its bias, CLS, positions
    layer = 2 * h + 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h)
    expected = embeddings + layer + 2 * h + (h * h + h)  # one layer, final norm, pooler
    assert sum(q.numel() for q in vit.parameters()) == expected
    assert (
        repr(vit) == f"ImageEncoder({str(vision_dirs['vit'])!r}, out_channels=16, normalize=False, "
        "freeze=True)"
    )
    assert not any(q.requires_grad for q in vit.parameters())

    enc = ImageEncoder(vision_dirs["vit"], freeze=False, use_cache=False, progress=False)
    before, _ = enc.encode(images(1))
    with torch.no_grad():
        for q in enc.parameters():
            q.add_(0.1)
    state = {k: v.clone() for k, v in enc.state_dict().items()}
    changed, _ = enc.encode(images(1))
    enc.reset_parameters()
    torch.testing.assert_close(enc.encode(images(1))[0], before)
    enc.load_state_dict(state)
    torch.testing.assert_close(enc.encode(images(1))[0], changed)
    enc(enc.preprocess(list(images(1)), rescale=False)).sum().backward()  # trainable
    assert all(q.grad is not None for q in enc.parameters())
    enc.to(torch.float64)
    assert all(q.dtype == torch.float64 for q in enc.parameters())
    assert enc.encode(images(1))[0].dtype == torch.float32


def test_image_encoder_errors(
    vision_dirs: dict[str, Path], vit: ImageEncoder, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="Expected 'batch_size' to be a positive int"):
        ImageEncoder(vision_dirs["vit"], batch_size=0)
    with pytest.raises(ValueError, match="Expected 'on_error' to be one of"):
        ImageEncoder(vision_dirs["vit"], on_error="ignore")
    with pytest.raises(FileNotFoundError, match="not available locally"):
        ImageEncoder("no-such-org/no-such-vision-model")
    moved = str(tmp_path / "moved-vit")  # a run's folder that is gone: not a hub id
    with pytest.raises(FileNotFoundError, match=f"The model folder '{moved}' does not exist"):
        ImageEncoder(moved)
    with pytest.raises(
        ValueError, match=r"Expected images of shape \[N, C, H, W\] with C = 1 or 3"
    ):
        vit.encode(torch.rand(2, 4, 8, 8))
    with pytest.raises(TypeError, match="Expected float images in"):
        vit.encode(torch.ones(1, 3, 8, 8, dtype=torch.int32))
    with pytest.raises(TypeError, match="sequence of paths, one per node"):
        vit.encode("one/path.png")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Expected 'mask' to be a bool tensor of shape \[2\]"):
        vit.encode(images(2), mask=torch.ones(2))


def test_build_image_encoder(vision_dirs: dict[str, Path]) -> None:
    assert isinstance(build_image_encoder("cnn", out_channels=4), SmallCNN)
    enc = build_image_encoder(str(vision_dirs["resnet"]), use_cache=False, progress=False)
    assert isinstance(enc, ImageEncoder) and enc.out_channels == 12
    with pytest.raises(FileNotFoundError, match=r"Other image encoders: \('cnn',\)"):
        build_image_encoder("cnnn")
    with pytest.raises(ValueError, match="Expected an image encoder name"):
        build_image_encoder("")


def test_a_processor_that_does_not_resize_names_images_of_several_sizes(
    tmp_path: Path,
) -> None:
    import transformers as tf
    from PIL import Image

    path = tmp_path / "vit-no-resize"
    config = tf.ViTConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                          intermediate_size=32, image_size=32, patch_size=8)  # fmt: skip
    tf.ViTModel(config).save_pretrained(path)
    tf.ViTImageProcessorPil(do_resize=False).save_pretrained(path)
    for side in (32, 40):
        Image.new("RGB", (side, side), (200, 10, 10)).save(tmp_path / f"{side}.png")
    encoder = ImageEncoder(path, batch_size=2, use_cache=False, progress=False)
    with pytest.raises(InputError, match=r"does not resize \(do_resize=False\), and images of "):
        encoder.encode([str(tmp_path / "32.png"), str(tmp_path / "40.png")])


def test_pil_images_encode_as_their_files_do(vit: ImageEncoder, tmp_path: Path) -> None:
    from PIL import Image

    pictures = [Image.new("RGB", (40, 30), (200, 10, 10)), Image.new("L", (32, 32), 90)]
    paths = []
    for k, picture in enumerate(pictures):
        paths.append(str(tmp_path / f"{k}.png"))
        picture.save(paths[-1])
    x, present = vit.encode([pictures[0], None, pictures[1]])
    from_files, _ = vit.encode([paths[0], None, paths[1]])
    assert present.tolist() == [True, False, True]
    torch.testing.assert_close(x, from_files)
    with pytest.raises(TypeError, match=r"a path, a PIL image or None \(got 'int' for node 0\)"):
        vit.encode([3])
