r"""A small CNN trained once, without labels, on a graph's own images, then frozen.

The default image encoder of :func:`~mmgraph.models.featurize`: a convolutional denoising
autoencoder, after the `"Extracting and Composing Robust Features with Denoising
Autoencoders" <https://doi.org/10.1145/1390156.1390294>`_ paper, fitted for a fixed number of
steps on (at most a few thousand of) the graph's images, downscaled, and then used to
encode every image once into node features ``x_image``. The graph model then reads them
through a linear projection instead of running a CNN forward and backward over every
image in every epoch.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgraph import heartbeat
from mmgraph.data.images import check_on_error, read_images
from mmgraph.encoders._inputs import ImageInput, check_image_tensor, check_node_mask, num_images
from mmgraph.encoders.cache import (
    FeatureCache,
    default_cache_dir,
    fingerprint_module,
    hash_tensor,
    make_model_key,
)
from mmgraph.errors import InputError, read_json, read_safetensors
from mmgraph.seed import make_generator

logger = logging.getLogger(__name__)

AUTOENCODER_META = "autoencoder.json"
AUTOENCODER_WEIGHTS = "autoencoder.safetensors"
FORMAT = 1
"""Version of the saved state; part of every cache key."""


class ConvAutoencoder(nn.Module):
    r"""A convolutional autoencoder whose pooled bottleneck is an image's features.

    The encoder is a stack of 3x3 convolutions with stride 2 (ReLU between them), so a
    ``S x S`` image becomes a ``C x S/2^L x S/2^L`` map; the decoder mirrors it with
    nearest-neighbour upsampling and 3x3 convolutions, and a sigmoid gives pixels in
    ``[0, 1]``. The features are the bottleneck map averaged over a ``2 x 2`` grid of cells,
    which keeps the coarse layout (a flag's stripes, a silhouette's head) that a global
    average would lose:

    .. math::
        \mathbf{f}(I) = \mathrm{vec}\big(\mathrm{avgpool}_{2 \times 2}(E(I))\big)
        \in \mathbb{R}^{4C}.

    Args:
        channels (Sequence[int], optional): Channels of each encoder block, the last one the
            bottleneck. (default: ``(16, 32, 32)``)
        in_channels (int, optional): Image channels. (default: :obj:`3`)

    Shapes:
        - **input:** images ``[B, C_in, S, S]`` (float in ``[0, 1]``)
        - **output:** :meth:`forward`: reconstructions ``[B, C_in, S, S]``; :meth:`features`:
          ``[B, 4 * channels[-1]]``
    """

    def __init__(self, channels: Sequence[int] = (16, 32, 32), in_channels: int = 3) -> None:
        super().__init__()
        if len(channels) == 0 or any(
            not isinstance(c, int) or isinstance(c, bool) or c < 1 for c in channels
        ):
            raise ValueError(
                "Expected 'channels' to be a non-empty sequence of positive ints "
                f"(got {channels!r})"
            )
        self.channels = tuple(channels)
        self.in_channels = in_channels
        widths = (in_channels, *self.channels)
        self.down = nn.ModuleList(
            nn.Conv2d(a, b, kernel_size=3, stride=2, padding=1) for a, b in zip(widths, widths[1:])
        )
        # Transposed 2x2 convolutions with stride 2 undo each halving at a fraction of the
        # cost of upsampling and convolving at full resolution.
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(b, a, kernel_size=2, stride=2) for a, b in zip(widths, widths[1:])
        )
        self.reset_parameters()

    @property
    def out_channels(self) -> int:
        """Size of the features."""
        return 4 * self.channels[-1]

    def reset_parameters(self) -> None:
        """Re-initialise every layer (from the global random state)."""
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                module.reset_parameters()

    def encode_map(self, images: Tensor) -> tuple[Tensor, list[tuple[int, int]]]:
        """The bottleneck map and the spatial size at the input of each block."""
        sizes = []
        h = images
        for i, conv in enumerate(self.down):
            sizes.append((int(h.size(-2)), int(h.size(-1))))
            h = conv(h)
            if i + 1 < len(self.down):
                h = F.relu(h)
        return h, sizes

    def features(self, images: Tensor) -> Tensor:
        """Pooled bottleneck features ``[B, 4C]``."""
        h, _ = self.encode_map(images)
        return F.adaptive_avg_pool2d(h, 2).flatten(1)

    def forward(self, images: Tensor) -> Tensor:
        """Reconstructions of ``images`` in ``[0, 1]``."""
        h, sizes = self.encode_map(images)
        for i in reversed(range(len(self.up))):
            h = self.up[i](F.relu(h) if i + 1 < len(self.up) else h)
            if tuple(h.shape[-2:]) != sizes[i]:  # odd sides: crop the extra row or column
                h = h[..., : sizes[i][0], : sizes[i][1]]
        return torch.sigmoid(h)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(channels={self.channels}, out_channels={self.out_channels})"
        )


class ImageAutoencoder:
    r"""Features of node images from a small denoising autoencoder fitted once on them.

    :meth:`fit` trains a :class:`ConvAutoencoder` without labels on the images of the nodes
    in ``mask`` (a seeded sample of at most ``max_train_images`` of them), resized to
    ``size x size``, for a fixed ``steps`` mini-batches of ``batch_size``: each image is
    corrupted with Gaussian noise (``noise``) and blanked ``patch x patch`` squares (a share
    ``mask_ratio`` of them) and the network learns to restore the clean image (mean squared
    error, Adam). The cost is therefore fixed (a few seconds on two CPU cores at the
    defaults) whatever the size of the graph. The features are then standardised with the
    mean and standard deviation over the training images. :meth:`encode` runs the frozen
    network once per image.

    Why a denoising autoencoder rather than a contrastive objective (SimCLR-style, with
    crops, shifts and brightness jitter): the label signal in node images is often colour
    and coarse layout (a default grey avatar, a flag's colours and stripes), which
    reconstruction must keep and augmentations tend to wash out. In a linear-probe check
    on the same network and budget (400 steps of 64 images), SimCLR matched the
    autoencoder on the synthetic avatars (label accuracy 70.6% against 71-74%; both find
    the default avatar 99-100% of the time) and was within noise on the 250 country flags'
    regions (37% against 32-34%, 5-fold) while taking about three times as long to train
    (two augmented views per image). Accuracy inside a graph model, against end-to-end
    training: ``benchmarks/results/image_features.md``.

    Everything is seeded (initialisation, sample, batches, corruption) and runs on the CPU,
    so the same images and ``seed`` give the same features. The fitted state (weights,
    settings, standardisation) is saved with :meth:`save` as safetensors plus a JSON file,
    nothing pickled. With ``use_cache``, the trained weights are kept under
    ``<cache_dir>/image-autoencoder/<key>``, the key naming the settings, the seed and a hash
    of the training pixels, so fitting again on the same images loads them instead of
    training; and the features go to a :class:`~mmgraph.encoders.cache.FeatureCache` keyed
    by the weights and each image's pixels. A changed image changes the key (and the
    features are recomputed; the network is retrained when the image was in the sample).

    Args:
        channels (Sequence[int], optional): Encoder channels (:class:`ConvAutoencoder`); the
            features have ``4 * channels[-1]`` dimensions. (default: ``(16, 32, 32)``)
        size (int, optional): Side of the square the images are resized to. (default: :obj:`32`)
        steps (int, optional): Training steps (mini-batches). (default: :obj:`400`)
        batch_size (int, optional): Images per step. (default: :obj:`64`)
        lr (float, optional): Adam learning rate. (default: :obj:`0.003`)
        noise (float, optional): Standard deviation of the added Gaussian noise.
            (default: :obj:`0.1`)
        mask_ratio (float, optional): Share of ``patch x patch`` squares blanked.
            (default: :obj:`0.25`)
        patch (int, optional): Side of the blanked squares, in pixels. (default: :obj:`4`)
        max_train_images (int, optional): Most images trained on. (default: :obj:`4096`)
        seed (int, optional): Seed of everything random in :meth:`fit`. (default: :obj:`0`)
        cache_dir (str, optional): Root of the caches. (default: ``$MMGRAPH_CACHE`` or
            ``~/.cache/mmgraph``)
        use_cache (bool, optional): Read and write the weight and feature caches.
            (default: :obj:`True`)
        batch_size_encode (int, optional): Images per forward pass of :meth:`encode`.
            (default: :obj:`256`)
        on_error (str, optional): For unreadable image files given as paths, ``"raise"`` or
            ``"missing"``. (default: ``"raise"``)
        progress (bool, optional): Show a progress bar while training. (default: :obj:`True`)

    Shapes:
        - **input:** images ``[N, C, H, W]`` (float in ``[0, 1]`` or ``uint8``; ``C`` = 1
          or 3) or ``N`` paths (:obj:`None` for missing), mask ``[N]`` (bool, optional)
        - **output:** ``(x [N, 4 * channels[-1]], mask [N])``
    """

    def __init__(
        self,
        channels: Sequence[int] = (16, 32, 32),
        size: int = 32,
        steps: int = 400,
        batch_size: int = 64,
        lr: float = 3e-3,
        noise: float = 0.1,
        mask_ratio: float = 0.25,
        patch: int = 4,
        max_train_images: int = 4096,
        seed: int = 0,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        batch_size_encode: int = 256,
        on_error: str = "raise",
        progress: bool = True,
    ) -> None:
        for key, value in (
            ("size", size),
            ("steps", steps),
            ("batch_size", batch_size),
            ("patch", patch),
            ("max_train_images", max_train_images),
            ("batch_size_encode", batch_size_encode),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Expected '{key}' to be a positive int (got {value!r})")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"Expected 'seed' to be an int (got {type(seed).__name__!r})")
        if not 0.0 <= mask_ratio < 1.0:
            raise ValueError(f"Expected 'mask_ratio' in [0, 1) (got {mask_ratio})")
        if noise < 0 or lr <= 0:
            raise ValueError(f"Expected 'noise' >= 0 and 'lr' > 0 (got {noise}, {lr})")
        check_on_error(on_error)
        self.channels = tuple(channels)
        self.size = size
        self.steps = steps
        self.batch_size = batch_size
        self.lr = float(lr)
        self.noise = float(noise)
        self.mask_ratio = float(mask_ratio)
        self.patch = patch
        self.max_train_images = max_train_images
        self.seed = seed
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.batch_size_encode = batch_size_encode
        self.on_error = on_error
        self.progress = progress
        self.network = ConvAutoencoder(self.channels)
        self.register_scale(torch.zeros(self.out_channels), torch.ones(self.out_channels))
        self.fitted = False
        self.loaded_from_cache = False

    # ------------------------------------------------------------------ state
    @property
    def out_channels(self) -> int:
        """Size of the features."""
        return self.network.out_channels

    def register_scale(self, mean: Tensor, std: Tensor) -> None:
        """Set the standardisation of the features (``(f - mean) / std``)."""
        self.mean = mean.detach().float().clone()
        self.std = std.detach().float().clone()

    def settings(self) -> dict[str, Any]:
        """The hyperparameters that make the fitted network what it is (JSON-safe)."""
        return {
            "format": FORMAT,
            "channels": list(self.channels),
            "size": self.size,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "noise": self.noise,
            "mask_ratio": self.mask_ratio,
            "patch": self.patch,
            "max_train_images": self.max_train_images,
            "seed": self.seed,
        }

    def state_dict(self) -> dict[str, Tensor]:
        """The network's weights and the standardisation, as plain tensors."""
        state = {f"network.{k}": v.detach().clone() for k, v in self.network.state_dict().items()}
        state["mean"], state["std"] = self.mean.clone(), self.std.clone()
        return state

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Load what :meth:`state_dict` returned (strict)."""
        network = {k[len("network.") :]: v for k, v in state.items() if k.startswith("network.")}
        self.network.load_state_dict(network)
        self.register_scale(state["mean"], state["std"])
        self.fitted = True

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the fitted state as ``autoencoder.json`` + ``autoencoder.safetensors``."""
        if not self.fitted:
            raise ValueError("ImageAutoencoder is not fitted: nothing to save; call fit first")
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file(
            {k: v.contiguous() for k, v in self.state_dict().items()},
            str(folder / AUTOENCODER_WEIGHTS),
        )
        (folder / AUTOENCODER_META).write_text(json.dumps(self.settings(), indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike[str], **options: Any) -> ImageAutoencoder:
        """Rebuild an encoder written by :meth:`save`.

        Args:
            folder (str): The folder :meth:`save` wrote.
            **options: Settings that do not change the features (``cache_dir``,
                ``use_cache``, ``batch_size_encode``, ``on_error``, ``progress``).
        """
        folder = Path(folder)
        meta_path = folder / AUTOENCODER_META
        if not meta_path.is_file():
            raise FileNotFoundError(f"No fitted image autoencoder in {folder} ({AUTOENCODER_META})")
        fix = "restore the file, or train the run again with --overwrite"
        meta = read_json(meta_path, "fitted image autoencoder file", fix)
        if not isinstance(meta, dict):
            raise InputError(f"The fitted image autoencoder file '{meta_path}' is damaged: {fix}")
        if meta.get("format") != FORMAT:
            raise ValueError(
                f"The image autoencoder in {folder} has format {meta.get('format')!r}; this "
                f"version of mmgraph reads format {FORMAT}: train the run again"
            )
        settings = {k: v for k, v in meta.items() if k != "format"}
        weights = _load_weights(folder)
        try:
            encoder = cls(**settings, **options)
            encoder.load_state_dict(weights)
        except (TypeError, KeyError, RuntimeError) as error:
            detail = " ".join(str(error).split())[:300]
            raise InputError(
                f"The fitted image autoencoder in '{folder}' does not rebuild ({detail}): its "
                f"files come from different runs or were edited; {fix}"
            ) from None
        return encoder

    def model_key(self) -> str:
        """Key of the fitted network (settings and weights) for the feature cache."""
        return make_model_key(
            "mmgraph/image-autoencoder",
            self.settings(),
            kind="image",
            weights=fingerprint_module(self.network),
            scale=hash_tensor(torch.cat([self.mean, self.std])),
        )

    # -------------------------------------------------------------------- fit
    def pixels(
        self,
        images: ImageInput,
        root: str | os.PathLike[str] | None = None,
        mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Images as float pixels ``[N, 3, size, size]`` in ``[0, 1]`` and their mask.

        Paths are read (``on_error`` applies to unreadable files); tensors are converted
        (``uint8`` scaled, grey repeated to RGB) and resized when their side differs.
        """
        n = num_images(images)
        present = torch.ones(n, dtype=torch.bool)
        if mask is not None:
            present = check_node_mask(mask, n).cpu().clone()
        if isinstance(images, Tensor):
            check_image_tensor(images)
            pixels = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
            pixels = pixels.cpu()
            if pixels.size(1) == 1:
                pixels = pixels.expand(-1, 3, -1, -1)
            if tuple(pixels.shape[-2:]) != (self.size, self.size):
                pixels = F.interpolate(
                    pixels,
                    size=(self.size, self.size),
                    mode="bilinear",
                    antialias=True,
                    align_corners=False,
                )
            pixels = pixels.contiguous()
        else:
            paths = [p if keep else None for p, keep in zip(images, present.tolist())]
            pixels, read = read_images(
                paths, root=root, size=(self.size, self.size), on_error=self.on_error
            )
            present &= read
        pixels = pixels.clone()
        pixels[~present] = 0.0
        return pixels, present

    def fit(
        self,
        images: ImageInput,
        root: str | os.PathLike[str] | None = None,
        mask: Tensor | None = None,
    ) -> ImageAutoencoder:
        """Train the autoencoder on the images in ``mask`` (all by default); returns itself.

        Nodes without an image (mask :obj:`False`, no path, an unreadable file with
        ``on_error="missing"``) are left out. Loads the weights from the cache instead when
        the same settings were fitted on the same sample of images before.
        """
        pixels, present = self.pixels(images, root, mask)
        rows = present.nonzero().flatten()
        gen = make_generator(self.seed)
        if rows.numel() > self.max_train_images:
            pick = torch.randperm(rows.numel(), generator=gen)[: self.max_train_images]
            rows = rows[pick.sort().values]
        train = pixels[rows]
        key = make_model_key(
            "mmgraph/image-autoencoder/fit", self.settings(), data=hash_tensor(train)
        )
        folder = self._weights_folder(key)
        self.loaded_from_cache = False
        if folder is not None and (folder / AUTOENCODER_META).is_file():
            try:
                self.load_state_dict(_load_weights(folder))
                self.loaded_from_cache = True
                logger.info("Loaded the image autoencoder from the cache %s", folder)
                return self
            except (OSError, ValueError, KeyError, RuntimeError) as error:
                logger.warning("Ignoring the damaged cached autoencoder %s (%s)", folder, error)
        self._train(train, gen)
        self.fitted = True
        if folder is not None:
            _save_atomically(self, folder)
        return self

    def _train(self, train: Tensor, gen: torch.Generator) -> None:
        """Fit the network on ``train`` ``[M, 3, S, S]`` and set the standardisation."""
        from tqdm.auto import trange

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.network.reset_parameters()
        self.network.train()
        m = int(train.size(0))
        if m == 0:
            logger.warning("No images to train the image autoencoder on: its weights stay random")
        else:
            optimizer = torch.optim.Adam(self.network.parameters(), lr=self.lr)
            order = torch.randperm(m, generator=gen)
            start = 0
            for step in trange(
                self.steps, desc="Training the image autoencoder", disable=not self.progress
            ):
                if start + min(self.batch_size, m) > m:
                    order, start = torch.randperm(m, generator=gen), 0
                batch = train[order[start : start + self.batch_size]]
                start += self.batch_size
                loss = F.mse_loss(self.network(self._corrupt(batch, gen)), batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                heartbeat.beat(step + 1, self.steps, "image autoencoder step", eta=True)
            logger.info(
                "Image autoencoder: reconstruction MSE %.4f after %d steps",
                float(loss.detach()),
                self.steps,
            )
        self.network.eval()
        if m > 1:
            self.register_scale(torch.zeros(self.out_channels), torch.ones(self.out_channels))
            f = self._features(train)
            self.register_scale(f.mean(0), f.std(0).clamp_min(1e-6))

    def _corrupt(self, batch: Tensor, gen: torch.Generator) -> Tensor:
        noisy = batch + self.noise * torch.randn(batch.shape, generator=gen)
        if self.mask_ratio > 0:
            b, _, h, w = batch.shape
            cells = (-(-h // self.patch), -(-w // self.patch))
            keep = (torch.rand(b, 1, *cells, generator=gen) >= self.mask_ratio).float()
            keep = keep.repeat_interleave(self.patch, 2).repeat_interleave(self.patch, 3)
            noisy = noisy * keep[..., :h, :w]
        return noisy

    # ----------------------------------------------------------------- encode
    @torch.no_grad()
    def _features(self, pixels: Tensor) -> Tensor:
        self.network.eval()
        parts = [
            self.network.features(pixels[i : i + self.batch_size_encode])
            for i in range(0, int(pixels.size(0)), self.batch_size_encode)
        ]
        f = torch.cat(parts) if parts else torch.zeros(0, self.out_channels)
        return (f - self.mean) / self.std

    def encode(
        self,
        images: ImageInput,
        root: str | os.PathLike[str] | None = None,
        mask: Tensor | None = None,
        progress: bool | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Features ``[N, D]`` of the images in ``mask`` (zeros elsewhere) and the mask.

        Args:
            images (torch.Tensor or Sequence[str]): A tensor ``[N, C, H, W]`` or one path
                per node (:obj:`None` where missing).
            root (str, optional): Folder that relative paths are resolved against.
            mask (torch.Tensor, optional): Bool ``[N]``, nodes that have an image.
            progress (bool, optional): Unused (encoding is one quick pass); accepted for
                the frozen-encoder interface.
        """
        if not self.fitted:
            raise ValueError("ImageAutoencoder is not fitted: call fit (or load) first")
        pixels, present = self.pixels(images, root, mask)
        n = int(pixels.size(0))
        x = torch.zeros(n, self.out_channels)
        rows = present.nonzero().flatten()
        if rows.numel() == 0:
            return x, present
        cache = self._feature_cache()
        keys = [hash_tensor(pixels[i]) for i in rows.tolist()] if cache is not None else []
        todo = rows
        if cache is not None:
            found, cached = cache.get_many(keys)
            if cached.size(1) == self.out_channels:
                x[rows] = cached
                todo = rows[~found]
        if todo.numel():
            x[todo] = self._features(pixels[todo])
            if cache is not None:
                hit = set(todo.tolist())
                new = [k for i, k in zip(rows.tolist(), keys) if i in hit]
                cache.put_many(new, x[todo])
        return x, present

    def _feature_cache(self) -> FeatureCache | None:
        if not self.use_cache:
            return None
        return FeatureCache(
            self.model_key(), self.cache_dir, description={"model": "image-autoencoder"}
        )

    def _weights_folder(self, key: str) -> Path | None:
        if not self.use_cache:
            return None
        root = Path(self.cache_dir) if self.cache_dir is not None else default_cache_dir()
        return root / "image-autoencoder" / key

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}(channels={self.channels}, "
            f"out_channels={self.out_channels}, "
            f"size={self.size}, steps={self.steps}, seed={self.seed})"
        )


def _load_weights(folder: Path) -> dict[str, Tensor]:
    tensors, _ = read_safetensors(folder / AUTOENCODER_WEIGHTS, "fitted image autoencoder file")
    return tensors


def _save_atomically(encoder: ImageAutoencoder, folder: Path) -> None:
    """Save into a temporary sibling folder, then rename it into place (first writer wins)."""
    tmp = folder.with_name(f".tmp-{uuid.uuid4().hex}-{folder.name}")
    try:
        encoder.save(tmp)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process wrote it first: keep theirs
            pass
    finally:
        if tmp.exists():
            for file in tmp.iterdir():
                file.unlink()
            tmp.rmdir()
