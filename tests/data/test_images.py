"""Reading node images from files (mmgraph.data.images): modes, alpha, unreadable files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mmgraph.data.images import (
    UnreadableImageError,
    check_image_files,
    load_images,
    read_images,
    to_rgb,
)

# Flags in each PIL mode the shared folder holds.
PALETTE, PALETTE_ALPHA, RGB, RGBA = "ABW.png", "AUT.png", "AND.png", "ARG.png"


@pytest.fixture(scope="module")
def flags(shared_data: Path) -> Path:
    return shared_data / "country-flags" / "images"


def test_read_images_converts_modes(flags: Path) -> None:
    from PIL import Image

    paths = [PALETTE, PALETTE_ALPHA, RGB, RGBA, None]
    modes = []
    for name in paths[:4]:
        with Image.open(flags / name) as im:
            modes.append(im.mode)
    assert modes == ["P", "P", "RGB", "RGBA"]
    x, mask = read_images(paths, root=flags, size=(24, 32))
    assert x.shape == (5, 3, 24, 32) and x.dtype == torch.float32
    assert mask.tolist() == [True, True, True, True, False]
    assert (
        float(x.min()) >= 0.0
        and float(x.max()) <= 1.0
        and torch.equal(x[4], torch.zeros(3, 24, 32))
    )


def test_alpha_is_composited_on_white(flags: Path) -> None:
    from PIL import Image

    with Image.open(flags / RGBA) as im:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float64) / 255.0
    assert rgba[..., 3].min() < 1.0  # the flag has transparent pixels
    alpha = rgba[..., 3:]
    expected = rgba[..., :3] * alpha + (1.0 - alpha)
    width, height = rgba.shape[1], rgba.shape[0]
    x, _ = read_images([flags / RGBA], size=(height, width))  # no resize
    got = x[0].permute(1, 2, 0).double().numpy()
    assert np.abs(got - expected).max() <= 1.5 / 255


def test_grey_and_grey_alpha_become_rgb(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("L", (4, 4), 128).save(tmp_path / "grey.png")
    Image.new("LA", (4, 4), (0, 0)).save(tmp_path / "clear.png")  # fully transparent black
    x, mask = read_images(["grey.png", "clear.png"], root=tmp_path, size=(4, 4))
    assert mask.all()
    torch.testing.assert_close(x[0], torch.full((3, 4, 4), 128 / 255))
    torch.testing.assert_close(x[1], torch.ones(3, 4, 4))  # white background
    assert to_rgb(Image.new("RGB", (2, 2))).mode == "RGB"


def test_unreadable_files(tmp_path: Path, flags: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="Could not read image file .*broken.png"):
        read_images(["broken.png"], root=tmp_path)
    with pytest.raises(FileNotFoundError, match="Image file .*gone.png' not found"):
        read_images([tmp_path / "gone.png"])
    with pytest.warns(UserWarning, match=r"Could not read 2 image file\(s\), marked missing"):
        x, mask = read_images(
            [flags / RGB, tmp_path / "broken.png", tmp_path / "gone.png"],
            size=(8, 8),
            on_error="missing",
        )
    assert mask.tolist() == [True, False, False] and torch.equal(x[1:], torch.zeros(2, 3, 8, 8))
    with pytest.warns(UserWarning, match="broken.png"):
        pil, mask = load_images(["broken.png", RGB], root=tmp_path, on_error="missing")
    assert pil[0] is None and mask.tolist() == [False, False]  # RGB is not in tmp_path either


def test_a_file_several_nodes_share_is_named_once(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.warns(UserWarning) as caught:
        read_images(["broken.png"] * 5, root=tmp_path, size=(4, 4), on_error="missing")
    message = str(caught[0].message)
    assert message.startswith("Could not read 1 image file(s) (5 nodes), marked missing: ")
    assert message.count("broken.png") == 1


def test_every_unreadable_file_is_named_in_one_error(tmp_path: Path, flags: Path) -> None:
    """A run stops once, naming all the files it could not read, not one per rerun."""
    for k in range(7):
        (tmp_path / f"bad{k}.png").write_bytes(b"" if k == 0 else b"not an image")
    paths = [flags / RGB, *(tmp_path / f"bad{k}.png" for k in range(7))]
    with pytest.raises(UnreadableImageError) as error:
        read_images(paths, size=(4, 4))
    message = str(error.value)
    assert message.startswith("Could not read 7 image files: ")
    assert all(f"bad{k}.png" in message for k in range(5)) and "and 2 more" in message
    assert "(the first: not an image format Pillow reads, 0 bytes" in message
    assert "--on-image-error missing" in message
    with pytest.raises(UnreadableImageError) as error:  # one file: its own message
        load_images([flags / RGB, tmp_path / "bad1.png"])
    assert str(error.value).startswith("Could not read image file ")


def test_an_image_cell_naming_a_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    with pytest.raises(IsADirectoryError, match=r"2 image cells name a folder, not an image ") as e:
        check_image_files(["img", ".", "gone.png"], tmp_path)
    assert "a card's paths are relative to its folder" in str(e.value)  # no key to name
    assert "--on-image-error missing" in str(e.value)
    with pytest.raises(IsADirectoryError, match=r"^1 image cell names a folder"):
        check_image_files(["img"], tmp_path)
    with pytest.warns(UserWarning, match=r"marked missing: .*img' \(a folder\), .*gone.png' \("):
        read_images(["img", "gone.png"], root=tmp_path, size=(4, 4), on_error="missing")
    with pytest.raises(FileNotFoundError, match=r"1 image file not found \(first: .*gone.png"):
        check_image_files(["gone.png", None, ""], tmp_path)
    check_image_files(["img"], tmp_path, present=[False])  # a node without an image


def test_read_images_argument_errors() -> None:
    with pytest.raises(ValueError, match=r"Expected 'size' to be \(height, width\)"):
        read_images([None], size=(0, 4))
    with pytest.raises(ValueError, match="Expected 'on_error' to be one of"):
        read_images([None], on_error="skip")


def test_a_very_large_image_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow's decompression-bomb warning and error name no file: ours do, and the error is
    an unreadable image (--on-image-error missing marks the node), not an internal error."""
    from PIL import Image

    Image.new("RGB", (12, 12), (200, 10, 10)).save(tmp_path / "big.png")  # 144 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # warns above 100, refuses above 200
    with pytest.warns(Image.DecompressionBombWarning, match=r"Image file .*big.png' is very large"):
        x, mask = read_images(["big.png"], root=tmp_path, size=(4, 4))
    assert mask.tolist() == [True]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 60)
    with pytest.raises(
        UnreadableImageError, match=r"Could not read image file .*big.png' \(Image size"
    ):
        read_images(["big.png"], root=tmp_path, size=(4, 4))
    with pytest.warns(UserWarning, match=r"marked missing: .*big.png' \(not readable\)"):
        x, mask = read_images(["big.png"], root=tmp_path, size=(4, 4), on_error="missing")
    assert mask.tolist() == [False]
