"""The input checks the encoders share: node masks and images (a tensor or paths)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

ImageInput = Tensor | Sequence[str | os.PathLike[str] | None]
"""Node images: a tensor ``[N, C, H, W]`` or one path per node (:obj:`None` where missing);
:meth:`~mmgraph.encoders.ImageEncoder.encode` also takes PIL images in place of paths."""


def check_node_mask(mask: Any, num_nodes: int) -> Tensor:
    """Return ``mask`` when it is a bool tensor of shape ``[num_nodes]``.

    Raises:
        ValueError: ``mask`` is not a bool tensor of that shape.
    """
    if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape != (num_nodes,):
        raise ValueError(
            f"Expected 'mask' to be a bool tensor of shape [{num_nodes}] (got "
            f"{getattr(mask, 'dtype', type(mask).__name__)} of shape "
            f"{list(getattr(mask, 'shape', []))})"
        )
    return mask


def num_images(images: ImageInput) -> int:
    """The number of nodes of ``images`` (a tensor ``[N, C, H, W]`` or ``N`` paths).

    Raises:
        TypeError: ``images`` is neither a tensor nor a sequence of paths.
    """
    if isinstance(images, Tensor):
        return int(images.size(0)) if images.dim() > 0 else 0
    if isinstance(images, (str, bytes)) or not isinstance(images, Sequence):
        raise TypeError(
            "Expected images as a tensor [N, C, H, W] or a sequence of paths, one per node "
            f"(got {type(images).__name__!r})"
        )
    return len(images)


def check_image_tensor(images: Tensor) -> Tensor:
    """Return ``images`` when it is ``[N, C, H, W]`` (``C`` = 1 or 3), float or ``uint8``.

    Raises:
        ValueError: Wrong shape.
        TypeError: Neither float nor ``uint8``.
    """
    if images.dim() != 4 or images.size(1) not in (1, 3):
        raise ValueError(
            f"Expected images of shape [N, C, H, W] with C = 1 or 3 (got {list(images.shape)})"
        )
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise TypeError(f"Expected float images in [0, 1] or uint8 images (got {images.dtype})")
    return images
