"""Turn a graph's raw modalities into the tensors a model reads (frozen encoders run once)."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from mmgraph.config import ConfigBase
from mmgraph.data.graph import MODALITY_FIELDS, MultimodalGraph
from mmgraph.data.images import ON_ERROR, check_image_files
from mmgraph.distributed import (
    gather_rows,
    is_distributed,
    is_main_process,
    rank,
    shard,
    world_size,
)
from mmgraph.errors import InputError, read_json
from mmgraph.names import DEFAULT_TEXT_ENCODER as DEFAULT_TEXT_ENCODER

MODEL_DTYPE = torch.float32
"""The dtype of the models' weights, which :func:`featurize` gives every float input."""

log = logging.getLogger(__name__)

FROZEN_CNN = "cnn"
"""The default image encoder: a small CNN trained once on the graph's images, then frozen."""
END_TO_END_IMAGE_ENCODERS = ("cnn-e2e",)
"""Image encoders that hand the model pixels, for a CNN trained with it."""
AUTOENCODER_MAX_SIZE = 32
"""Largest side the ``"cnn"`` image encoder works at (larger images are downscaled)."""


@dataclasses.dataclass
class FeatureConfig(ConfigBase):
    """How each modality is turned into features before training.

    Args:
        text_encoder (str, optional): ``"tfidf"``, ``"bow"`` (which words a node's text has),
            ``"hashing"``, or a ``transformers`` model
            name or folder, run frozen once (cached on disk); :obj:`None` (or ``"none"``, the
            command line's word) drops the text.
            ``"auto"`` is not an encoder: :func:`~mmgraph.tasks.train_node_classifier` (and
            ``mmgraph train``, whose default it is) trains with each of
            :data:`~mmgraph.models.auto.TEXT_CANDIDATES` and keeps one on validation data;
            :func:`featurize` refuses it. (default: ``"sentence-transformers/all-MiniLM-L6-v2"``)
        image_encoder (str, optional): ``"cnn"`` (a small convolutional autoencoder trained
            once without labels on the graph's own images, then frozen:
            :class:`~mmgraph.encoders.ImageAutoencoder`; its features become ``x_image``),
            ``"cnn-e2e"`` (pixels, for a small CNN trained end to end with the model: slower,
            the CNN runs forward and backward over every image in every epoch) or a
            ``transformers`` vision model name or folder, run frozen once; :obj:`None` (or
            ``"none"``) drops the images. (default: ``"cnn"``)
        image_size (int): Side of the square the images are resized to for the CNN (for
            ``"cnn"``, at most :data:`AUTOENCODER_MAX_SIZE`). (default: :obj:`32`)
        text_dim (int, optional): Output size of the ``"tfidf"`` and ``"bow"`` encoders (SVD
            components); :obj:`None` keeps their raw features, one column per word of the
            vocabulary.
            (default: :obj:`128`)
        cache_dir (str, optional): Folder of the feature cache. (default: :obj:`None`, the
            encoders' default: ``$MMGRAPH_CACHE`` or ``~/.cache/mmgraph``)
        on_image_error (str): An image path to no file, or a file that does not decode:
            ``"raise"`` names it before any encoding, ``"missing"`` marks its node as lacking
            an image (one warning lists them). (default: ``"raise"``)
        hashing_dim (int): Output size (hash buckets) of the hashing encoder.
            (default: :obj:`1024`)
        store_dir (str, optional): Folder of out-of-core feature stores
            (:class:`~mmgraph.encoders.store.FeatureStore`): the frozen encoders write
            ``x_text`` (and ``x_image``) there chunk by chunk, an interrupted encoding
            resumes with the unfinished chunks, and the graph gets tensors backed by memory
            maps of the files, for graphs whose features do not fit in memory. Each modality
            goes to a subfolder named by what it holds (encoder, inputs), so other encoders or
            graphs never reuse it. Pixels for the ``"cnn-e2e"`` image encoder stay in memory.
            :obj:`None` keeps the features in memory. (default: :obj:`None`)
        store_chunk_size (int, optional): Nodes per chunk of a new store (one chunk's
            features are in memory at a time). (default: :obj:`None`, 16384)
        image_steps (int): Training steps (mini-batches of 64 images) of the ``"cnn"``
            image autoencoder. (default: :obj:`400`)
        image_seed (int): Seed of the ``"cnn"`` image autoencoder (initialisation, sample of
            training images, batches, corruption). (default: :obj:`0`)

    Run configs written before the ``"cnn"`` encoder was frozen (they lack ``image_steps``)
    meant end-to-end training by ``"cnn"``: :meth:`from_dict` reads them as ``"cnn-e2e"``.
    """

    text_encoder: str | None = DEFAULT_TEXT_ENCODER
    image_encoder: str | None = "cnn"
    image_size: int = 32
    text_dim: int | None = 128
    cache_dir: str | None = None
    on_image_error: str = "raise"
    hashing_dim: int = 1024
    store_dir: str | None = None
    store_chunk_size: int | None = None
    image_steps: int = 400
    image_seed: int = 0

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> FeatureConfig:
        """Build the config from a dict (a run's ``features``); see the class notes on ``"cnn"``."""
        values = dict(values)
        if values.get("image_encoder") == FROZEN_CNN and "image_steps" not in values:
            values["image_encoder"] = END_TO_END_IMAGE_ENCODERS[0]  # a run of an older version
        return super().from_dict(values)

    def __post_init__(self) -> None:
        from mmgraph.encoders.text import LIGHT_TEXT_ENCODERS

        for key, names in (
            ("text_encoder", ("auto", *LIGHT_TEXT_ENCODERS)),
            ("image_encoder", (FROZEN_CNN, *END_TO_END_IMAGE_ENCODERS)),
        ):
            name = getattr(self, key)
            if isinstance(name, str) and name.lower() == "none":
                setattr(self, key, None)  # the command line's word for no encoder
                continue
            _refuse_a_mistyped_name(key, name, names)
            if isinstance(name, str) and name not in names and Path(name).expanduser().exists():
                # a model folder: a run's config.yaml (and the feature cache's key) must name
                # it the same from any working directory
                setattr(self, key, str(Path(name).expanduser().resolve()))
        for key in ("cache_dir", "store_dir"):
            folder = getattr(self, key)
            if folder is not None and Path(folder).exists() and not Path(folder).is_dir():
                raise InputError(
                    f"The {key.replace('_', '-')} '{folder}' is a file, not a folder: give "
                    f"--{key.replace('_', '-')} a folder path"
                )
        optional = ("store_chunk_size", "text_dim")  # None: the default chunk, every word
        for key in ("store_chunk_size", "image_steps", "image_size", "hashing_dim", "text_dim"):
            value = getattr(self, key)
            if value is None and key in optional:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                what = " or None (one column per word)" if key == "text_dim" else ""
                raise ValueError(
                    f"Expected FeatureConfig's {key!r} to be a positive int{what} (got {value!r})"
                )
        if self.on_image_error not in ON_ERROR:
            raise ValueError(
                f"Expected FeatureConfig's 'on_image_error' to be one of {ON_ERROR} (got "
                f"{self.on_image_error!r})"
            )
        if not isinstance(self.image_seed, int) or isinstance(self.image_seed, bool):
            raise ValueError(f"Expected 'image_seed' to be an int (got {self.image_seed!r})")


def _refuse_a_mistyped_name(key: str, name: Any, names: Sequence[str]) -> None:
    """Refuse an encoder name one typo away from a built-in one (``tfidff``).

    Any other name is a transformers model or folder, looked up when it is built.
    """
    import difflib

    if not isinstance(name, str) or name in names or "/" in name or Path(name).exists():
        return
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
    if close:
        what = key.replace("_", " ")
        raise InputError(
            f"Unknown {what} {name!r}: did you mean {close[0]!r}? Give one of "
            f"{', '.join(map(repr, names))}, 'none', or a transformers model name or folder"
        )


def featurize(
    graph: MultimodalGraph,
    config: FeatureConfig | None = None,
    progress: bool = True,
    state_dir: str | Path | None = None,
    load_state: bool | None = None,
) -> MultimodalGraph:
    """Return a shallow copy of ``graph`` with model-ready modality tensors attached.

    * text -> ``x_text`` ``[N, D]`` (TF-IDF is fitted on the training nodes when the graph
      has a ``train_mask``, else on all nodes), presence mask updated;
    * images -> with ``"cnn"``: ``x_image`` ``[N, D]`` from a small autoencoder fitted once
      on the graph's images (all nodes that have one; no labels); with ``"cnn-e2e"``:
      ``image`` as a float tensor ``[N, 3, S, S]`` (files read and resized); with a
      ``transformers`` model: ``x_image`` ``[N, D]``;
    * numeric and categorical attributes stay as they are (the model's trainable
      :class:`~mmgraph.encoders.AttributeEncoder` reads them).

    Float inputs of another dtype (float64 from NumPy, for one) come out in
    :data:`MODEL_DTYPE`, the dtype of the models' weights.

    Modalities whose encoder is :obj:`None` are removed from the copy. With ``state_dir``,
    an encoder fitted on data (TF-IDF, the ``"cnn"`` image autoencoder) is saved there
    after fitting (in ``text_encoder/``, ``image_encoder/``), or loaded from there instead
    of refitted, so new graphs get the same features: ``load_state=True`` loads it (a
    missing one is an error), ``False`` fits it and replaces any saved one, :obj:`None`
    loads it when present (the default).
    With ``config.store_dir``, frozen encoders write their features to disk in chunks and
    ``x_text`` / ``x_image`` are memory-mapped (see :class:`FeatureConfig`).

    The graph is checked first (:meth:`MultimodalGraph.validate`), so a field set after
    construction (``graph.edge_index = ...``) is refused with the message it would have
    had then.
    """
    from mmgraph.encoders import ImageEncoder, build_text_encoder, encode_graph
    from mmgraph.encoders.text import WORD_TEXT_ENCODERS

    config = config or FeatureConfig()
    if isinstance(graph, MultimodalGraph):
        graph.validate()  # fields a user set after construction (``graph.edge_index = ...``)
    if config.image_encoder is not None and config.on_image_error == "raise":
        _check_image_files(graph)  # before any encoding
    out = copy.copy(graph)
    for key in (*MODALITY_FIELDS, "x_text", "x_image"):  # numpy's float64, for one
        value = getattr(graph, key, None)
        if isinstance(value, Tensor) and value.is_floating_point() and value.dtype != MODEL_DTYPE:
            setattr(out, key, value.to(MODEL_DTYPE))
    cache: dict[str, Any] = {"cache_dir": Path(config.cache_dir)} if config.cache_dir else {}
    if getattr(graph, "text", None) is not None:
        if config.text_encoder is None:
            del out.text, out.text_present
        else:
            text_name = config.text_encoder
            if text_name == "auto":
                raise InputError(
                    "text_encoder 'auto' is chosen on validation data by `mmgraph train` "
                    "(mmgraph.tasks.train_node_classifier): give a text encoder name here, "
                    "e.g. 'tfidf' or a transformers model"
                )
            kwargs: dict[str, Any] = {}
            if text_name in WORD_TEXT_ENCODERS:
                kwargs = {"out_channels": config.text_dim, "seed": 0}
            elif text_name == "hashing":
                kwargs = {"out_channels": config.hashing_dim}
            else:
                kwargs = dict(cache)
            encoder: Any = build_text_encoder(text_name, **kwargs)
            _check_pretrained_weights(encoder, "text", state_dir, load_state)
            fitted_per_run = getattr(encoder, "fitted_per_run", False)
            if fitted_per_run:
                saved = Path(state_dir) / "text_encoder" if state_dir is not None else None
                found = saved is not None and encoder.is_saved(saved)
                if load_state and not found:
                    raise InputError(
                        f"No fitted text encoder in '{saved}': the run folder is incomplete; "
                        "train it again with --overwrite"
                    )
                if saved is not None and found and load_state is not False:
                    encoder = _loaded_as_named(text_name, encoder, type(encoder).load(saved), saved)
                else:
                    encoder.fit(graph.text, mask=getattr(graph, "train_mask", None))
                    if saved is not None and is_main_process():
                        encoder.save(saved)
            if config.store_dir is not None:
                x, present = _encode_to_store(out, "text", encoder, config, progress)
            elif fitted_per_run:  # fitted in this process: encode here
                x, present = encode_graph(out, text_encoder=encoder, progress=progress)["text"]
            else:
                x, present = _encode_sharded(out, "text", encoder, progress)
            out.x_text, out.text_present = x, present
    if getattr(graph, "image", None) is not None:
        name = config.image_encoder
        if name is None:
            del out.image, out.image_present
        elif name in END_TO_END_IMAGE_ENCODERS:
            out.image, out.image_present = _pixels(graph, config)
        elif name == FROZEN_CNN:
            out.x_image, out.image_present = _autoencoder_features(
                graph, config, progress, state_dir, load_state
            )
            del out.image
        else:
            try:
                image_encoder = ImageEncoder(name, on_error=config.on_image_error, **cache)
            except FileNotFoundError as error:
                raise FileNotFoundError(
                    f"{error}. Other image encoders: 'cnn' (the default: a small CNN trained "
                    "on the graph's own images), 'cnn-e2e', or 'none'"
                ) from error
            _check_pretrained_weights(image_encoder, "image", state_dir, load_state)
            if config.store_dir is not None:
                x, present = _encode_to_store(out, "image", image_encoder, config, progress)
            else:
                x, present = _encode_sharded(out, "image", image_encoder, progress)
            out.x_image, out.image_present = x, present
            del out.image
    return out


PRETRAINED_WEIGHTS = "{modality}_model.json"
"""The file, in a run's folder, that records the weights of its transformers model."""


def _loaded_as_named(name: str, named: Any, loaded: Any, saved: Path) -> Any:
    """``loaded`` (a run's fitted word encoder), refused where it is not the kind ``named`` is.

    A run's ``features.text_encoder`` edited from ``tfidf`` to ``bow`` (or back) would
    otherwise load the fitted encoder of the other kind without a word.
    """

    def kind(encoder: Any) -> tuple[Any, Any]:
        return getattr(encoder, "binary", None), getattr(encoder, "use_idf", None)

    if kind(named) != kind(loaded):
        saved_kind = "a bag of words (bow)" if kind(loaded) == (True, False) else "TF-IDF (tfidf)"
        raise InputError(
            f"The fitted text encoder in '{saved}' is {saved_kind}, but the run's features."
            f"text_encoder is {name!r}: restore text_encoder in the run's config.yaml, or "
            "train the run again with --overwrite"
        )
    return loaded


def _check_pretrained_weights(
    encoder: Any, modality: str, state_dir: str | Path | None, load_state: bool | None
) -> None:
    """Record the weights of a transformers ``encoder`` in a run, or check them against it.

    A run keeps the path of a local model, not a copy: new weights saved there since would
    give the run's model features it never learnt from, and its outputs would be wrong
    without a word. A run being trained (``load_state=False``) records a fingerprint of the
    weights (:func:`~mmgraph.encoders.cache.fingerprint_module`); a run read again warns
    when they differ. Runs written before this record nothing and pass.
    """
    model = getattr(encoder, "model", None)
    if state_dir is None or not isinstance(model, torch.nn.Module):
        return
    import json
    import warnings

    from mmgraph.encoders.cache import fingerprint_module

    path = Path(state_dir) / PRETRAINED_WEIGHTS.format(modality=modality)
    now = {"model": encoder.name, "weights": fingerprint_module(model)}
    if load_state is False or (load_state is None and not path.is_file()):
        # a run being trained; None (fitted state loaded where saved, else fitted, as the
        # design choice featurizes its candidates) records what it does not find
        if is_main_process():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(now, indent=1) + "\n")
        return
    if not path.is_file():
        return
    then = read_json(path, f"{modality} model record", "delete it, or train the run again")
    if then.get("weights") != now["weights"]:
        warnings.warn(
            f"The {modality} model {encoder.name!r} has other weights than when the run in "
            f"'{state_dir}' was trained: its {modality} features are not those the run learnt "
            "from, so its outputs may be wrong. Put the training weights back, or train the "
            "run again",
            stacklevel=3,
        )


def _check_image_files(graph: MultimodalGraph) -> None:
    """Refuse image paths of ``graph`` (nodes marked present) that name no file."""
    image = getattr(graph, "image", None)
    if image is not None and not isinstance(image, Tensor):
        check_image_files(image, graph.image_root, graph.presence_mask("image").tolist())


def _autoencoder_features(
    graph: MultimodalGraph,
    config: FeatureConfig,
    progress: bool,
    state_dir: str | Path | None,
    load_state: bool | None,
) -> tuple[Tensor, Tensor]:
    """``x_image`` and its mask from the ``"cnn"`` autoencoder: loaded, or fitted (and saved)."""
    from mmgraph.encoders import ImageAutoencoder
    from mmgraph.encoders.image_autoencoder import AUTOENCODER_META

    saved = Path(state_dir) / "image_encoder" if state_dir is not None else None
    found = saved is not None and (saved / AUTOENCODER_META).is_file()
    if load_state and not found:
        raise InputError(
            f"No fitted image encoder in '{state_dir}' ({AUTOENCODER_META} is missing): the "
            "run folder is incomplete; train it again with --overwrite"
        )
    options: dict[str, Any] = {
        "cache_dir": config.cache_dir,
        "on_error": config.on_image_error,
        "progress": progress and is_main_process(),
    }
    if saved is not None and found and load_state is not False:
        encoder = ImageAutoencoder.load(saved, **options)
        pixels, present = _pixels(graph, dataclasses.replace(config, image_size=encoder.size))
    else:
        size = min(config.image_size, AUTOENCODER_MAX_SIZE)
        encoder = ImageAutoencoder(
            size=size, steps=config.image_steps, seed=config.image_seed, **options
        )
        pixels, present = _pixels(graph, dataclasses.replace(config, image_size=size))
        encoder.fit(pixels, mask=present)
        if saved is not None and is_main_process():
            encoder.save(saved)
    pixel_graph = copy.copy(graph)
    pixel_graph.image, pixel_graph.image_present = pixels, present
    if config.store_dir is not None:
        return _encode_to_store(pixel_graph, "image", encoder, config, progress)
    return _encode_sharded(pixel_graph, "image", encoder, progress)


def _encode_sharded(
    graph: MultimodalGraph, modality: str, encoder: Any, progress: bool
) -> tuple[Tensor, Tensor]:
    """Run a frozen encoder over one modality; under torchrun each rank encodes a share.

    Rank ``r`` of ``W`` encodes nodes ``r, r + W, ...`` and the ranks exchange their rows, so
    encoding takes ``1 / W`` of the time (the feature cache is shared through the disk).
    """
    from mmgraph.encoders import encode_graph
    from mmgraph.models.inference import select_nodes

    key = "text_encoder" if modality == "text" else "image_encoder"
    if not is_distributed():
        return encode_graph(graph, progress=progress, **{key: encoder})[modality]
    n = int(graph.num_nodes)
    index = shard(torch.arange(n))
    x, mask = encode_graph(select_nodes(graph, index), progress=progress, **{key: encoder})[
        modality
    ]
    return gather_rows(x, index, n), gather_rows(mask, index, n)


def _encode_to_store(
    graph: MultimodalGraph,
    modality: str,
    encoder: Any,
    config: FeatureConfig,
    progress: bool,
) -> tuple[Tensor, Tensor]:
    """Encode one modality chunk by chunk into a feature store; memory-mapped features.

    Unfinished chunks are encoded (all of them the first time, the rest after an
    interruption); under torchrun each rank takes every ``W``-th chunk, the ranks wait for
    one another, and any chunk still missing (a store folder not shared between machines)
    is encoded locally.
    """
    import torch.distributed as dist

    from mmgraph.encoders import encode_graph
    from mmgraph.encoders.store import FeatureStore
    from mmgraph.models.inference import select_nodes

    assert config.store_dir is not None  # the caller checks
    options = {"on_image_error": config.on_image_error} if modality == "image" else {}
    key = store_key(graph, modality, encoder, **options)
    store = FeatureStore(
        Path(config.store_dir) / f"{modality}-{key[:16]}",
        num_rows=int(graph.num_nodes),
        dim=int(encoder.out_channels),
        chunk_size=config.store_chunk_size,
        key=key,
        description={"modality": modality, "encoder": repr(encoder)},
    )
    argument = "text_encoder" if modality == "text" else "image_encoder"

    def encode(start: int, stop: int) -> tuple[Tensor, Tensor]:
        part = select_nodes(graph, torch.arange(start, stop))
        return encode_graph(part, progress=False, **{argument: encoder})[modality]

    missing = len(store.missing_chunks())
    if missing:
        log.info(
            "Encoding %d of %d chunks of %s into %s", missing, store.num_chunks, modality, store
        )
    share = (rank(), world_size()) if is_distributed() else (0, 1)
    store.fill(encode, *share, progress=progress and is_main_process())
    if is_distributed():
        dist.barrier()
        store.fill(encode)
    return store.features(), store.mask()


def store_key(graph: MultimodalGraph, modality: str, encoder: Any, **options: Any) -> str:
    """A key naming a modality's features: the encoder's identity and the encoded inputs.

    Combines the encoder (its ``model_key()`` when it has one, else its fitted state or
    settings), a digest of the modality's values (texts, image paths and root, or pixels)
    and presence mask, the number of nodes and ``options``.
    """
    from mmgraph.encoders import hash_tensor, make_model_key

    value = getattr(graph, modality)
    digest = hashlib.sha256()
    if isinstance(value, Tensor):
        digest.update(hash_tensor(value).encode())
    else:
        digest.update("\x1e".join(_entry_text(v) for v in value).encode("utf-8", "surrogatepass"))
        if modality == "image":
            digest.update(f"\x1d{graph.image_root}".encode())
    return make_model_key(
        f"store:{modality}",
        {"encoder": _encoder_identity(encoder)},
        num_nodes=int(graph.num_nodes),
        inputs=digest.hexdigest(),
        present=hash_tensor(graph.presence_mask(modality)),
        **options,
    )


def _entry_text(value: Any) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, str):
        return "s" + value
    if isinstance(value, Sequence):
        return "l" + "\x1f".join(str(v) for v in value)
    return "o" + str(value)


def _encoder_identity(encoder: Any) -> Any:
    """What makes an encoder's output what it is: its identity, model key or settings."""
    for method in ("identity", "model_key"):  # fitted/stateless encoders; pretrained models
        found = getattr(encoder, method, None)
        if callable(found):
            return found()
    return repr(encoder)


def _pixels(graph: MultimodalGraph, config: FeatureConfig) -> tuple:
    import torch

    from mmgraph.data.images import read_images

    image = graph.image
    present = graph.presence_mask("image")
    if isinstance(image, torch.Tensor):
        pixels = image.float()
        if image.dtype == torch.uint8:
            pixels = pixels / 255.0
        size = config.image_size
        if pixels.shape[-2:] != (size, size):
            pixels = torch.nn.functional.interpolate(
                pixels, size=(size, size), mode="bilinear", antialias=True, align_corners=False
            )
        return pixels, present
    paths = [p if keep else None for p, keep in zip(image, present.tolist())]
    pixels, mask = read_images(
        paths,
        root=graph.image_root,
        size=(config.image_size, config.image_size),
        on_error=config.on_image_error,
    )
    return pixels, mask & present
