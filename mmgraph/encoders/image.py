"""Image encoders: any Hugging Face vision model (frozen, cached), and building one by name.

Every encoder returns ``(x, mask)``: features ``[N, D]`` and a bool mask ``[N]`` of nodes
with an image; rows of the other nodes are zeros. :class:`SmallCNN` is the CNN trained end
to end with a model (``FeatureConfig(image_encoder="cnn-e2e")``); the default ``"cnn"`` of
:func:`~mmgraph.models.featurize` is the frozen
:class:`~mmgraph.encoders.image_autoencoder.ImageAutoencoder`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph import heartbeat
from mmgraph.data.images import (
    UnreadableImageError,
    check_on_error,
    decode_image,
    read_image_bytes,
    resolve_image_path,
    unreadable_error,
    warn_unreadable,
)
from mmgraph.encoders._hub import (
    PretrainedEncoder,
    build_by_name,
    from_pretrained,
    pooled_output,
)
from mmgraph.encoders._inputs import ImageInput, check_image_tensor, check_node_mask, num_images
from mmgraph.encoders.cache import (
    FeatureCache,
    fingerprint_module,
    hash_bytes,
    hash_tensor,
    make_model_key,
)
from mmgraph.encoders.cnn import SmallCNN
from mmgraph.errors import InputError

logger = logging.getLogger(__name__)

IMAGE_ENCODER_CLASSES: dict[str, Any] = {"cnn": SmallCNN}
"""Names :func:`build_image_encoder` maps to built-in modules; any other name is a
transformers model (:class:`ImageEncoder`)."""

IMAGE_ENCODERS: tuple[str, ...] = tuple(IMAGE_ENCODER_CLASSES)
"""The names of :data:`IMAGE_ENCODER_CLASSES`."""


class ImageEncoder(PretrainedEncoder):
    r"""Embed node images with a pre-trained vision model.

    For example ViT, from the `"An Image is Worth 16x16 Words"
    <https://arxiv.org/abs/2010.11929>`_ paper.

    Each image :math:`I` becomes the model's pooled output

    .. math::
        \mathbf{e}(I) = \mathrm{pool}\big(f_\theta(\mathrm{preprocess}(I))\big),

    the ``pooler_output`` where the model has one (flattened: ResNet gives ``[B, C, 1, 1]``),
    else the mean of ``last_hidden_state`` over tokens or positions; L2-normalised when
    ``normalize`` is set. A CLIP (or SigLIP) model is reduced to its vision tower.

    The model and its preprocessing are loaded with ``AutoModel`` and ``AutoImageProcessor``
    from a hub name or a local folder. :meth:`encode` works in batches, under
    :func:`torch.inference_mode` when frozen, and keeps each image's features in an on-disk
    :class:`~mmgraph.encoders.cache.FeatureCache` keyed by the model (source, configuration,
    preprocessing, current weights) and a hash of the image file's bytes (or of the pixel
    tensor), so a second run encodes nothing; identical images are encoded once.

    Args:
        model_name_or_path (str): Hub name or local folder (with a preprocessor config).
        batch_size (int, optional): Images per forward pass. (default: :obj:`32`)
        normalize (bool, optional): L2-normalise the features. (default: :obj:`False`)
        freeze (bool, optional): Keep the weights fixed (and the model in eval mode).
            (default: :obj:`True`)
        device (str or torch.device, optional): Where the model runs. (default: ``"cpu"``)
        cache_dir (str, optional): Root of the feature cache. (default: ``$MMGRAPH_CACHE``
            or ``~/.cache/mmgraph``)
        use_cache (bool, optional): Read and write the feature cache. (default: :obj:`True`)
        progress (bool, optional): Show a progress bar over batches. (default: :obj:`True`)
        on_error (str, optional): For unreadable image files, ``"raise"`` (an error naming
            the file) or ``"missing"`` (a warning; the node is marked missing).
            (default: ``"raise"``)

    Shapes:
        - **input:** :meth:`encode`: images ``[N, C, H, W]`` (``C`` = 1 or 3; float in
          ``[0, 1]`` or ``uint8``) or ``N`` paths (:obj:`None` for missing); :meth:`forward`:
          ``pixel_values`` ``[B, 3, H', W']`` as the processor makes them
        - **output:** :meth:`encode`: ``(x [N, D], mask [N])``; :meth:`forward`: ``[B, D]``
    """

    def __init__(
        self,
        model_name_or_path: str | os.PathLike[str],
        batch_size: int = 32,
        normalize: bool = False,
        freeze: bool = True,
        device: str | torch.device = "cpu",
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        progress: bool = True,
        on_error: str = "raise",
    ) -> None:
        super().__init__()
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"Expected 'batch_size' to be a positive int (got {batch_size!r})")
        check_on_error(on_error)
        from transformers import AutoImageProcessor

        self._settings(
            model_name_or_path, batch_size, normalize, freeze, cache_dir, use_cache, progress
        )
        self.on_error = on_error
        self.processor: Any = from_pretrained(
            AutoImageProcessor.from_pretrained, self.name, self.source, "image processor"
        )
        self.model: nn.Module = self._load_model()
        self._place(device)
        with self._eval():
            probe = self._forward_images([torch.zeros(3, 32, 32)], rescale=False)
        self._out_channels = int(probe.size(1))

    def _load_model(self) -> nn.Module:
        from transformers import AutoModel

        model = from_pretrained(AutoModel.from_pretrained, self.name, self.source, "model")
        if hasattr(model, "get_image_features") and hasattr(model, "vision_model"):
            model = model.vision_model  # CLIP-like: keep the vision tower only
        if getattr(getattr(model, "config", None), "mask_ratio", 0):
            # a masked autoencoder (ViT-MAE) hides a random share of the patches on every
            # call, in eval mode too: the same image would get other features each time
            model.config.mask_ratio = 0.0
        return model

    # ------------------------------------------------------------ module API
    @property
    def out_channels(self) -> int:
        """Size of the features."""
        return self._out_channels

    def reset_parameters(self) -> None:
        """Reload the pre-trained weights (undoing any fine-tuning)."""
        self.model.load_state_dict(self._load_model().state_dict())
        self._apply_freeze()

    def forward(self, pixel_values: Tensor) -> Tensor:
        """Pooled features ``[B, D]`` of preprocessed images (differentiable unless frozen)."""
        return pooled_output(self.model(pixel_values=pixel_values))

    def preprocess(self, images: Sequence[Any], rescale: bool | None = None) -> Tensor:
        """Run the model's image processor on PIL images or ``[C, H, W]`` tensors.

        Args:
            images (Sequence): PIL images or tensors.
            rescale (bool, optional): Whether pixel values need scaling from ``[0, 255]``;
                :obj:`None` leaves the processor's default (right for PIL and ``uint8``).
        """
        kwargs: dict[str, Any] = {} if rescale is None else {"do_rescale": rescale}
        try:
            batch = self.processor(images=list(images), return_tensors="pt", **kwargs)
        except ValueError as error:
            if getattr(self.processor, "do_resize", True) is not False:
                raise
            raise InputError(
                f"The image processor of {self.name!r} does not resize (do_resize=False), and "
                "images of several sizes make no batch: save the processor with do_resize=True "
                f"and a size, or give images of one size ({error})"
            ) from error
        return batch["pixel_values"].to(self.device)

    def _forward_images(self, images: Sequence[Any], rescale: bool | None) -> Tensor:
        return self(self.preprocess(images, rescale)).float().cpu()

    # ------------------------------------------------------------------ encode
    def model_key(self) -> str:
        """Cache key of this model and its preprocessing (see :func:`make_model_key`)."""
        config: Any = getattr(self.model, "config", None)
        return make_model_key(
            self.source,
            config.to_dict() if config is not None else None,
            kind="image",
            processor=self.processor.to_dict(),
            weights=fingerprint_module(self.model),
        )

    def _cache(self) -> FeatureCache | None:
        if not (self.use_cache and self.freeze):
            return None
        return FeatureCache(self.model_key(), self.cache_dir, description={"model": self.name})

    def encode(
        self,
        images: ImageInput,
        root: str | os.PathLike[str] | None = None,
        mask: Tensor | None = None,
        progress: bool | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Embed one image per node.

        Args:
            images (torch.Tensor or Sequence): A tensor ``[N, C, H, W]`` (float in
                ``[0, 1]`` or ``uint8``), or one path or PIL image per node (:obj:`None`
                where missing).
            root (str, optional): Folder that relative paths are resolved against.
            mask (torch.Tensor, optional): Bool ``[N]``, nodes that have an image (default:
                all of a tensor, the non-``None`` paths).
            progress (bool, optional): Override the progress bar setting.

        Returns:
            ``(x, mask)``: float features ``[N, D]`` on the CPU (zeros for nodes without a
            readable image) and a bool mask ``[N]``.
        """
        from tqdm.auto import tqdm

        progress = self.progress if progress is None else progress
        n = num_images(images)
        present = torch.ones(n, dtype=torch.bool)
        if mask is not None:
            present = check_node_mask(mask, n).cpu().clone()
        failed: list[str] = []
        items, keys, rescale = self._items(images, root, present, failed)
        x = torch.zeros(n, self.out_channels)
        cache = self._cache()
        rows = present.nonzero().flatten().tolist()
        todo = rows
        if cache is not None and rows:
            found, cached = cache.get_many([keys[i] for i in rows])
            if cached.size(1) == self.out_channels:
                x[torch.tensor(rows)] = cached
            todo = [i for i, hit in zip(rows, found.tolist()) if not hit]
        first: dict[str, int] = {}  # identical images (a default avatar) are encoded once
        copies = [i for i in todo if first.setdefault(keys[i], i) != i]
        todo = [i for i in todo if first[keys[i]] == i]
        pending: list[int] = []
        starts = range(0, len(todo), self.batch_size)
        if todo:
            logger.info(
                "Encoding %s of %s images with %s (%s cached; encoded images are cached for "
                "later runs)",
                f"{len(todo):,}",
                f"{len(rows):,}",
                self.name,
                f"{len(rows) - len(todo) - len(copies):,}",
            )
        with self._eval():
            for b, start in enumerate(
                tqdm(starts, desc="Encoding images", disable=not progress, leave=False)
            ):
                idx = []
                batch = []
                for i in todo[start : start + self.batch_size]:
                    try:
                        image = self._decode(items[i], failed)
                    except UnreadableImageError:  # on_error="raise": name them all at once
                        rest = todo[todo.index(i) :]
                        raise unreadable_error(_undecodable(items, rest)) from None
                    if image is None:
                        present[i] = False
                    else:
                        idx.append(i)
                        batch.append(image)
                if batch:
                    x[torch.tensor(idx)] = self._forward_images(batch, rescale)
                    pending.extend(idx)
                heartbeat.beat(
                    min(start + self.batch_size, len(todo)), len(todo), "images encoded", eta=True
                )
                flush = (b + 1) % self.flush_every == 0 or b + 1 == len(starts)
                if cache is not None and pending and flush:
                    cache.put_many([keys[i] for i in pending], x[torch.tensor(pending)].clone())
                    pending = []
        for i in copies:
            x[i] = x[first[keys[i]]]
            present[i] = present[first[keys[i]]]
        x = x.clone()
        warn_unreadable(failed)
        if self.normalize:
            x = F.normalize(x, dim=1)
        x[~present] = 0.0
        return x, present

    def _items(
        self,
        images: ImageInput,
        root: str | os.PathLike[str] | None,
        present: Tensor,
        failed: list[str],
    ) -> tuple[list[Any], list[str], bool | None]:
        """Per node: what to decode, its cache key; and the rescale flag for the processor.

        Marks nodes without a path, and (with ``on_error="missing"``) files that do not
        exist, as missing in ``present``, and lists those files in ``failed``.
        """
        n = len(present)
        items: list[Any] = [None] * n
        keys = [""] * n
        if isinstance(images, Tensor):
            check_image_tensor(images)
            for i in present.nonzero().flatten().tolist():
                image = images[i].cpu()
                items[i] = image.expand(3, -1, -1) if image.size(0) == 1 else image
                keys[i] = hash_tensor(image)
            return items, keys, None if images.dtype == torch.uint8 else False
        from PIL import Image

        for i in present.nonzero().flatten().tolist():
            path = images[i]
            if path is None or path == "":
                present[i] = False
                continue
            if isinstance(path, Image.Image):  # decoded already: what the processor reads
                rgb = path.convert("RGB")
                items[i] = rgb
                keys[i] = hash_bytes(f"{rgb.size}".encode() + rgb.tobytes())
                continue
            if not isinstance(path, (str, os.PathLike)):
                raise TypeError(
                    f"Expected each node's image as a path, a PIL image or None (got "
                    f"{type(path).__name__!r} for node {i}); a tensor of images goes whole, "
                    "as [N, C, H, W]"
                )
            full = resolve_image_path(path, root)
            try:
                data = read_image_bytes(full)
            except FileNotFoundError:
                if self.on_error == "raise":
                    raise
                failed.append(f"{str(full)!r} (FileNotFoundError)")
                present[i] = False
                continue
            items[i] = (data, full)
            keys[i] = hash_bytes(data)
        return items, keys, None

    def _decode(self, item: Any, failed: list[str]) -> Any:
        if not isinstance(item, tuple):  # a tensor or a PIL image
            return item
        data, path = item
        try:
            return decode_image(data, path)
        except ValueError:
            if self.on_error == "raise":
                raise
            failed.append(f"{str(path)!r} (ValueError)")
            return None

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.name!r}, out_channels={self.out_channels}, "
            f"normalize={self.normalize}, freeze={self.freeze})"
        )


def _undecodable(items: Sequence[Any], rows: Sequence[int]) -> list[tuple[str, Any]]:
    """The files among ``items[rows]`` (``(bytes, path)`` pairs) that do not decode."""
    out = []
    for i in rows:
        item = items[i]
        if not isinstance(item, tuple):
            continue
        data, path = item
        try:
            decode_image(data, path)
        except UnreadableImageError as error:
            out.append((str(path), error))
    return out


def build_image_encoder(name: str, **kwargs: Any) -> ImageEncoder | SmallCNN:
    """Build an image encoder by name.

    Args:
        name (str): ``"cnn"`` (:class:`SmallCNN`) or a transformers hub name or local
            folder (:class:`ImageEncoder`).
        **kwargs: Arguments of the chosen class.
    """
    return build_by_name(name, IMAGE_ENCODER_CLASSES, ImageEncoder, "image encoder", **kwargs)
