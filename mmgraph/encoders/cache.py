"""A persistent, process-safe cache of encoded features, keyed by model and item.

Layout on disk (one folder per model key)::

    <cache_dir>/features/<model_key>/
        meta.json                 what the key stands for, the feature size and dtype
        shard-<id>.npy            float32 array [k, D], one row per item
        shard-<id>.keys           the k item keys, one a line, in row order

Each :meth:`FeatureCache.put_many` writes one new shard. Files are written under a temporary
name, flushed to disk and renamed into place; the ``.keys`` file is renamed last, so a shard
only counts once it is complete. A crash therefore leaves at most an orphan ``.npy`` (ignored,
removed by :meth:`FeatureCache.compact`), never a half-written shard. Processes never write
to the same file (shard ids are random), so several can fill one cache at once.

Shards are plain fixed-width float arrays read through memory maps, so a later chunked
feature store (features of a graph too large for memory, encoded chunk by chunk with resume)
can use the same files with node-range keys.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

CACHE_ENV = "MMGRAPH_CACHE"
"""Environment variable naming the cache folder (default ``~/.cache/mmgraph``)."""

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".onnx")
_FINGERPRINT_CHUNK = 1 << 20


def default_cache_dir() -> Path:
    """The cache folder: ``$MMGRAPH_CACHE`` when set, else ``~/.cache/mmgraph``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "mmgraph"


def hash_text(text: str) -> str:
    """SHA-256 hex digest of a text (UTF-8), stable across processes."""
    return hashlib.sha256(b"text\0" + text.encode("utf-8")).hexdigest()


def hash_bytes(data: bytes) -> str:
    """SHA-256 hex digest of raw bytes (such as the contents of an image file)."""
    return hashlib.sha256(b"bytes\0" + data).hexdigest()


def hash_tensor(tensor: Tensor) -> str:
    """SHA-256 hex digest of a tensor's dtype, shape and values."""
    array = tensor.detach().cpu().contiguous().numpy()
    digest = hashlib.sha256(f"tensor\0{array.dtype.str}\0{tuple(array.shape)}\0".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def fingerprint_path(path: str | os.PathLike[str]) -> str:
    """A fingerprint of a model file or folder that changes when its contents change.

    Small files are hashed whole; large ones (weights) by size, first and last MiB, which is
    fast for multi-gigabyte checkpoints and still changes when a fine-tuned model is saved
    over the original. Hidden files and READMEs are ignored.
    """
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"Cannot fingerprint {str(root)!r}: no such file or folder")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        rel = file.name if file == root else file.relative_to(root).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts) or file.name.startswith("README"):
            continue
        size = file.stat().st_size
        digest.update(f"{rel}\0{size}\0".encode())
        with open(file, "rb") as handle:
            if size <= 2 * _FINGERPRINT_CHUNK and file.suffix not in _WEIGHT_SUFFIXES:
                digest.update(handle.read())
            else:
                digest.update(handle.read(_FINGERPRINT_CHUNK))
                handle.seek(max(size - _FINGERPRINT_CHUNK, 0))
                digest.update(handle.read(_FINGERPRINT_CHUNK))
    return digest.hexdigest()


def fingerprint_module(module: nn.Module, samples: int = 4096) -> str:
    """A cheap fingerprint of a module's current weights.

    Hashes each tensor's name, shape, dtype and ``samples`` evenly spaced values (all values
    of smaller tensors), so it changes when weights are fine-tuned or replaced through
    ``load_state_dict`` (and cached features of the old weights are not reused), at a
    fraction of the cost of hashing every value. A change confined to values between the
    samples (a few rows of an embedding table) can go unnoticed: clear the cache then.
    """
    digest = hashlib.sha256()
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            t = tensor.detach()
            digest.update(f"{name}\0{tuple(t.shape)}\0{t.dtype}\0".encode())
            if not t.numel():
                continue
            flat = t.reshape(-1)
            sample = flat[:: max(1, flat.numel() // samples)]
            digest.update(sample.double().cpu().numpy().tobytes())
    return digest.hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return repr(value)


def make_model_key(
    name_or_path: str | os.PathLike[str],
    config: Mapping[str, Any] | None = None,
    **options: Any,
) -> str:
    """A key naming a model's identity and the options that change its output.

    Combines the model's name or path, its configuration (a dict, such as
    ``model.config.to_dict()``), the options (pooling, maximum length, ...) and, when
    ``name_or_path`` is a local file or folder, :func:`fingerprint_path` of its contents.

    Returns:
        A hex string, usable as a folder name.
    """
    source = os.fspath(name_or_path)
    description: dict[str, Any] = {
        "source": source,
        "config": _jsonable(dict(config or {})),
        "options": _jsonable(options),
    }
    if Path(source).exists():
        description["source"] = str(Path(source).resolve())
        description["fingerprint"] = fingerprint_path(source)
    text = json.dumps(description, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _atomic_write(path: Path, write: Any) -> None:
    """Write ``path`` through ``write(handle)`` on a temporary file, then rename it in place."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        with open(tmp, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class FeatureCache:
    """Encoded features of one model, stored on disk and shared between processes.

    Args:
        model_key (str): Identity of the model and its options, see :func:`make_model_key`.
            Letters, digits, ``-``, ``_`` and ``.`` only.
        cache_dir (str or os.PathLike, optional): Root folder; features go to
            ``<cache_dir>/features/<model_key>``. (default: :func:`default_cache_dir`)
        description (Mapping, optional): What the key stands for, written to ``meta.json``
            for people reading the folder. (default: :obj:`None`)

    Example:
        >>> cache = FeatureCache(make_model_key("my-model"), cache_dir=tmp)
        >>> cache.put_many(["a", "b"], torch.randn(2, 8))
        >>> found, x = cache.get_many(["a", "c"])  # found = [True, False]
    """

    def __init__(
        self,
        model_key: str,
        cache_dir: str | os.PathLike[str] | None = None,
        description: Mapping[str, Any] | None = None,
    ) -> None:
        if not model_key or not all(c.isalnum() or c in "-_." for c in model_key):
            raise ValueError(
                f"Expected 'model_key' made of letters, digits, '-', '_' and '.' (got "
                f"{model_key!r}); build it with `make_model_key`"
            )
        self.model_key = model_key
        self.root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.path = self.root / "features" / model_key
        self._description = dict(description or {})
        self._index: dict[str, tuple[str, int]] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._seen: set[str] = set()
        self._dim: int | None = None
        self.refresh()

    # ------------------------------------------------------------------ index
    @property
    def dim(self) -> int | None:
        """Feature size, or :obj:`None` while the cache is empty."""
        return self._dim

    def refresh(self) -> None:
        """Pick up shards that other processes have written since the last look."""
        if self._dim is None:
            meta = self.path / "meta.json"
            if meta.is_file():
                self._dim = int(json.loads(meta.read_text())["dim"])
        if not self.path.is_dir():
            return
        for keys_file in sorted(self.path.glob("shard-*.keys")):
            shard = keys_file.stem
            if shard in self._seen:
                continue
            keys = keys_file.read_text().split("\n")[:-1]
            for row, key in enumerate(keys):
                self._index[key] = (shard, row)
            self._seen.add(shard)

    def _array(self, shard: str) -> np.ndarray:
        if shard not in self._arrays:
            self._arrays[shard] = np.load(self.path / f"{shard}.npy", mmap_mode="r")
        return self._arrays[shard]

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({str(self.path)!r}, items={len(self)}, dim={self.dim})"

    # -------------------------------------------------------------- get / put
    def get_many(self, keys: Sequence[str]) -> tuple[Tensor, Tensor]:
        """Look up many items at once.

        One dictionary lookup per key, then one vectorised read per shard (rows in file
        order) from its memory map.

        Returns:
            ``(found, x)``: a bool tensor ``[K]`` and a float tensor ``[K, D]`` holding the
            cached features of the found keys and zeros elsewhere (``D = 0`` while the cache
            is empty).
        """
        hits = [self._index.get(key) for key in keys]
        if None in hits:
            self.refresh()
            hits = [self._index.get(key) for key in keys]
        out = np.zeros((len(hits), self._dim or 0), dtype=np.float32)
        codes: dict[str, int] = {}
        shard_of = np.fromiter(
            (-1 if hit is None else codes.setdefault(hit[0], len(codes)) for hit in hits),
            dtype=np.int64,
            count=len(hits),
        )
        row_of = np.fromiter(
            (-1 if hit is None else hit[1] for hit in hits), dtype=np.int64, count=len(hits)
        )
        for shard, code in codes.items():
            positions = np.flatnonzero(shard_of == code)
            positions = positions[np.argsort(row_of[positions], kind="stable")]
            out[positions] = self._array(shard)[row_of[positions]]
        return torch.from_numpy(shard_of >= 0), torch.from_numpy(out)

    def put_many(self, keys: Sequence[str], x: Tensor) -> None:
        """Store the features ``x`` ``[K, D]`` of ``keys`` as a new shard (atomically)."""
        keys = list(keys)
        if x.dim() != 2 or x.size(0) != len(keys):
            raise ValueError(
                f"Expected features of shape [{len(keys)}, D] (one row per key) "
                f"(got {list(x.shape)})"
            )
        for key in keys:
            if not isinstance(key, str) or not key or "\n" in key:
                raise ValueError(
                    f"Expected non-empty string keys without line breaks (got {key!r}); "
                    "use `hash_text`, `hash_bytes` or `hash_tensor`"
                )
        if not keys:
            return
        self.refresh()
        dim = int(x.size(1))
        if self._dim is not None and dim != self._dim:
            raise ValueError(
                f"Expected features of size {self._dim} for cache {str(self.path)!r} (got {dim}); "
                "a different model or option needs a different 'model_key'"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        if self._dim is None:
            meta = {"dim": dim, "dtype": "float32", "description": _jsonable(self._description)}
            if not (self.path / "meta.json").exists():
                _atomic_write(
                    self.path / "meta.json", lambda h: h.write(json.dumps(meta, indent=1).encode())
                )
            self._dim = dim
        array = x.detach().to("cpu", torch.float32).contiguous().numpy()
        self._write_shard(keys, array)

    def _write_shard(self, keys: list[str], array: np.ndarray) -> str:
        shard = f"shard-{uuid.uuid4().hex}"
        _atomic_write(self.path / f"{shard}.npy", lambda h: np.save(h, array))
        _atomic_write(self.path / f"{shard}.keys", lambda h: h.write(_keys_bytes(keys)))
        for row, key in enumerate(keys):
            self._index[key] = (shard, row)
        self._seen.add(shard)
        return shard

    # ------------------------------------------------------------ maintenance
    def compact(self) -> None:
        """Merge all shards into one and remove orphan files left by interrupted writes.

        Not safe while another process writes to the same cache (its new shard may be
        merged away half-seen); reading meanwhile is fine.
        """
        self.refresh()
        if not self.path.is_dir():
            return
        old = sorted(self._seen)
        if len(old) > 1:
            keys = list(self._index)
            _, x = self.get_many(keys)
            self._write_shard(keys, x.numpy())
            for shard in old:
                (self.path / f"{shard}.keys").unlink(missing_ok=True)
                self._seen.discard(shard)
                self._arrays.pop(shard, None)
        for data in self.path.glob("shard-*.npy"):
            if data.stem not in self._seen:
                data.unlink(missing_ok=True)
        for tmp in self.path.glob(".tmp-*"):
            tmp.unlink(missing_ok=True)

    def clear(self) -> None:
        """Delete every cached feature of this model."""
        if self.path.is_dir():
            for file in self.path.iterdir():
                file.unlink()
            self.path.rmdir()
        self._index.clear()
        self._arrays.clear()
        self._seen.clear()
        self._dim = None


def _keys_bytes(keys: Iterable[str]) -> bytes:
    return "".join(f"{key}\n" for key in keys).encode("utf-8")
