"""Read node images from files: any PIL mode to RGB (alpha on white), resized, as tensors."""

from __future__ import annotations

import io
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)

ON_ERROR = ("raise", "missing")
"""What to do with an image file that cannot be read."""


def check_on_error(on_error: str) -> None:
    """Raise a :class:`ValueError` unless ``on_error`` is one of :data:`ON_ERROR`."""
    if on_error not in ON_ERROR:
        raise ValueError(f"Expected 'on_error' to be one of {ON_ERROR} (got {on_error!r})")


def resolve_image_path(path: str | os.PathLike[str], root: str | os.PathLike[str] | None) -> Path:
    """``path`` itself when absolute or when ``root`` is :obj:`None`, else ``root / path``."""
    p = Path(path).expanduser()
    if root is None or p.is_absolute():
        return p
    return Path(root).expanduser() / p


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to RGB, compositing transparency onto a white background."""
    from PIL import Image

    if image.mode == "RGB":
        return image
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("LA", "PA", "La", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, image).convert("RGB")
    if image.mode.startswith("I;16"):
        image = image.point(lambda v: v / 256).convert("L")
    return image.convert("RGB")


class UnreadableImageError(ValueError):
    """An image file's bytes that no decoder reads; ``detail`` says what was found."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


def decode_image(data: bytes, name: str | os.PathLike[str] = "<bytes>") -> Image.Image:
    """Decode the bytes of an image file into an RGB PIL image (see :func:`to_rgb`).

    Raises:
        ValueError: The bytes are not a readable image; the message names ``name``.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                rgb = to_rgb(image)
        for warning in caught:  # Pillow's own names no file
            message = warning.message
            if isinstance(message, Image.DecompressionBombWarning):
                message = Image.DecompressionBombWarning(
                    f"Image file {os.fspath(name)!r} is very large ({message}): it is read "
                    "whole, which takes much memory and time; shrink it if it is not meant"
                )
            warnings.warn(message, warning.category, stacklevel=2)
        return rgb
    except (
        UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError,
    ) as error:  # fmt: skip
        detail = str(error)
        if isinstance(error, UnidentifiedImageError):  # its message names a BytesIO object
            detail = f"not an image format Pillow reads, {len(data):,} bytes starting {data[:8]!r}"
        raise UnreadableImageError(
            f"Could not read image file {os.fspath(name)!r} ({detail}); fix or remove the file, "
            "or mark such nodes as lacking an image (--on-image-error missing; for `mmgraph "
            "tune`, on_image_error: missing in a --space file; on_image_error='missing' in a "
            "FeatureConfig, on_error='missing' for an encoder)",
            detail,
        ) from error


def read_image_bytes(path: str | os.PathLike[str]) -> bytes:
    """The raw bytes of an image file.

    Raises:
        FileNotFoundError: The file does not exist; the message names it.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(
            f"Image file {str(p)!r} not found; check the path (and 'image_root'), or pass "
            "on_error='missing' to mark such nodes as lacking an image"
        )
    return p.read_bytes()


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open an image file as an RGB PIL image (see :func:`to_rgb`).

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file exists but is not a readable image; the message names it.
    """
    return decode_image(read_image_bytes(path), path)


def missing_image_files(
    paths: Sequence[str | os.PathLike[str] | None],
    root: str | os.PathLike[str] | None,
    present: Sequence[bool] | None = None,
) -> list[str]:
    """The entries of ``paths`` (resolved against ``root``) that name no file.

    ``present``: one flag per path; paths of nodes marked absent are not looked at.
    """
    keep = [True] * len(paths) if present is None else present
    found = [resolve_image_path(p, root) for p, k in zip(paths, keep) if k and p not in (None, "")]
    return [str(path) for path in found if not path.is_file()]


def check_image_files(
    paths: Sequence[str | os.PathLike[str] | None],
    root: str | os.PathLike[str] | None,
    present: Sequence[bool] | None = None,
) -> None:
    """Raise a :class:`FileNotFoundError` naming the image files of ``paths`` that are not there.

    One check before any image is read, so a run stops before its first encoding.
    """
    missing = missing_image_files(paths, root, present)
    folders = [path for path in missing if Path(path).is_dir()]
    if folders:
        cells = "image cells name" if len(folders) > 1 else "image cell names"
        raise IsADirectoryError(
            f"{len(folders)} {cells} a folder, not an image file (first: '{folders[0]}'): give "
            "each node's file (a card's paths are relative to its folder), empty the cell for "
            "a node without an image, or mark such nodes as lacking an image "
            "(--on-image-error missing)"
        )
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} image file{'s' if len(missing) > 1 else ''} not found (first: "
            f"'{missing[0]}'): fix the paths (a card's are relative to its folder), empty "
            "those cells, or mark such nodes as lacking an image (--on-image-error missing; "
            "for `mmgraph tune`, on_image_error: missing in a --space file; "
            "on_image_error='missing' in a FeatureConfig); --image-encoder none leaves "
            "images out"
        )


def warn_unreadable(failed: Sequence[str], stacklevel: int = 3) -> None:
    """Warn once that the image files ``failed`` could not be read (and log it at INFO).

    Not a logged warning too: the command line would print the sentence twice.

    ``stacklevel`` counts from this function: 3 points at the caller of its caller.
    """
    if not failed:
        return
    files = list(dict.fromkeys(failed))  # a file several nodes share, named once
    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    nodes = f" ({len(failed)} nodes)" if len(failed) > len(files) else ""
    message = f"Could not read {len(files)} image file(s){nodes}, marked missing: {shown}"
    logger.info(message)
    warnings.warn(message, UserWarning, stacklevel=stacklevel)


def _open_all(
    paths: Sequence[str | os.PathLike[str] | None],
    root: str | os.PathLike[str] | None,
    on_error: str,
) -> Iterator[Image.Image | None]:
    """Yield each node's RGB image (or :obj:`None`); warn once at the end about failures."""
    check_on_error(on_error)
    failed: list[str] = []
    unreadable: list[tuple[str, UnreadableImageError]] = []  # on_error="raise": all, then raise
    for path in paths:
        if path is None or path == "":
            yield None
            continue
        full = resolve_image_path(path, root)
        try:
            image = load_image(full)
        except (FileNotFoundError, ValueError) as error:
            if on_error != "raise":
                why = "not found" if isinstance(error, FileNotFoundError) else "not readable"
                failed.append(f"{str(full)!r} ({'a folder' if full.is_dir() else why})")
            elif isinstance(error, UnreadableImageError):
                unreadable.append((str(full), error))
            else:
                raise
            yield None
            continue
        yield image
    if unreadable:
        raise unreadable_error(unreadable)
    warn_unreadable(failed, stacklevel=4)  # past this generator and read_images/load_images


def unreadable_error(unreadable: Sequence[tuple[str, UnreadableImageError]]) -> Exception:
    """One error for every file of a run that no decoder reads: a rerun fixes them all.

    ``unreadable``: each file's path and its error (at least one); one file keeps its own.
    """
    error, count = unreadable[0][1], len(unreadable)
    if count == 1:
        return error
    names = ", ".join(repr(path) for path, _ in unreadable[:5])
    more = f" and {count - 5} more" if count > 5 else ""
    return UnreadableImageError(
        f"Could not read {count} image files: {names}{more} (the first: {error.detail}); fix "
        "or remove them, or mark such nodes as lacking an image (--on-image-error missing; "
        "for `mmgraph tune`, on_image_error: missing in a --space file; "
        "on_image_error='missing' in a FeatureConfig, on_error='missing' for an encoder)",
        error.detail,
    )


def load_images(
    paths: Sequence[str | os.PathLike[str] | None],
    root: str | os.PathLike[str] | None = None,
    on_error: str = "raise",
) -> tuple[list[Image.Image | None], Tensor]:
    """Open many image files as RGB PIL images; :obj:`None` where a node has no image.

    With ``on_error="missing"``, unreadable files become :obj:`None` (mask :obj:`False`) and
    one :class:`UserWarning` lists them; with ``"raise"`` the first one raises.

    Returns:
        ``(images, mask)``: a list of PIL images or :obj:`None`, and a bool tensor ``[N]``.
    """
    images = list(_open_all(paths, root, on_error))
    mask = torch.tensor([image is not None for image in images], dtype=torch.bool)
    return images, mask


def pil_to_tensor(image: Image.Image) -> Tensor:
    """An RGB PIL image as a float tensor ``[3, H, W]`` in ``[0, 1]``."""
    array = np.asarray(to_rgb(image), dtype=np.float32) / 255.0
    return torch.from_numpy(array.copy()).permute(2, 0, 1)


def read_images(
    paths: Sequence[str | os.PathLike[str] | None],
    root: str | os.PathLike[str] | None = None,
    size: tuple[int, int] = (224, 224),
    on_error: str = "raise",
) -> tuple[Tensor, Tensor]:
    """Read image files into one tensor, resized to ``size``.

    Palette, grey, grey+alpha and RGBA images are converted to RGB, transparent parts
    composited onto white. Nodes without a path (:obj:`None`), and with
    ``on_error="missing"`` nodes whose file cannot be read, get a zero image and mask
    :obj:`False`.

    Args:
        paths (Sequence[str or None]): One path per node.
        root (str, optional): Folder that relative paths are resolved against.
            (default: :obj:`None`)
        size (tuple[int, int], optional): Output ``(height, width)``. (default: ``(224, 224)``)
        on_error (str, optional): ``"raise"`` (an error naming the file) or ``"missing"``
            (a warning, and the node is marked missing). (default: ``"raise"``)

    Returns:
        ``(images, mask)``: a float tensor ``[N, 3, H, W]`` in ``[0, 1]`` and a bool tensor
        ``[N]``.

    Raises:
        FileNotFoundError: A file does not exist (with ``on_error="raise"``).
        ValueError: A file is not a readable image (with ``on_error="raise"``).
    """
    from PIL import Image

    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)
    ):
        raise ValueError(f"Expected 'size' to be (height, width), two positive ints (got {size!r})")
    height, width = size
    out = torch.zeros(len(paths), 3, height, width)
    mask = torch.zeros(len(paths), dtype=torch.bool)
    for i, image in enumerate(_open_all(paths, root, on_error)):
        if image is not None:
            out[i] = pil_to_tensor(image.resize((width, height), Image.Resampling.BILINEAR))
            mask[i] = True
    return out, mask
