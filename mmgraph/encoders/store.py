"""An out-of-core store of node features: one float32 ``[N, D]`` file, written chunk by chunk.

Features of a graph too large for memory are encoded in chunks of consecutive nodes and
written straight to disk; training then reads them through a memory map, so a mini-batch
loader's ``index_select`` touches only the rows of its batch. Layout of a store folder::

    <path>/
        meta.json          rows, feature size, chunk size, and the key of what is stored
        features.npy       float32 [N, D], a plain .npy file (np.load(..., mmap_mode="r"))
        mask.npy           bool [N], which rows hold the modality (the encoder's mask)
        done/chunk-<i>     one marker per finished chunk

Every file is created under a temporary name and linked into place only if absent, so
processes that open the same new store at once agree on one set of files. A chunk's rows
are written with ``pwrite`` into the two arrays, flushed to disk, and only then is its
marker written (atomically, by rename): an interrupted encoding leaves at most a
half-written chunk without a marker, which :meth:`FeatureStore.fill` encodes again.
Processes write disjoint byte ranges and separate markers, so the ranks of a ``torchrun``
job can each fill their share of the chunks of one store. Per-item caching (the
:class:`~mmgraph.encoders.cache.FeatureCache` of a transformer encoder) is unaffected: the
store only decides which nodes are encoded when.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mmgraph import heartbeat
from mmgraph.encoders.cache import _atomic_write, _jsonable

DEFAULT_CHUNK_SIZE = 16384
"""Rows per chunk when a new store is created without a chunk size."""

META = "meta.json"
FEATURES = "features.npy"
MASK = "mask.npy"
DONE = "done"

ChunkEncoder = Callable[[int, int], tuple[Tensor, Tensor]]
"""``encode(start, stop) -> (x [stop - start, D], mask [stop - start])``."""


def _check_positive(value: object, name: str, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"Expected '{name}' to be an int (got {type(value).__name__!r})")
    if value < minimum:
        raise ValueError(f"Expected '{name}' to be at least {minimum} (got {value})")
    return value


def _create_once(path: Path, write: Callable[[Path], None]) -> None:
    """Create ``path`` through ``write(tmp)`` unless it exists; never replace an existing file.

    The file is written under a temporary name and hard-linked into place, which fails when
    another process got there first (its file is then kept and ours dropped).
    """
    if path.exists():
        return
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        write(tmp)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def _write_json(path: Path, value: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(value, indent=1))


def _write_zeros(path: Path, shape: tuple[int, ...], dtype: Any) -> None:
    """A zero-filled .npy file (sparse on disk until written), fsynced."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    del array
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    """Write every byte of ``data`` at ``offset`` (``pwrite`` may write less than asked)."""
    while len(data):
        written = os.pwrite(fd, data, offset)
        data, offset = data[written:], offset + written


class FeatureStore:
    """Features ``[num_rows, dim]`` of one modality on disk, filled chunk by chunk with resume.

    Opening a folder that holds no store creates an empty one (zeros, no chunk finished);
    opening an existing store checks that it holds what is asked for (same rows, size and
    key). :meth:`fill` encodes the unfinished chunks; :meth:`features` then returns the
    whole array as a tensor backed by the memory map (nothing is read until used).

    Args:
        path (str or os.PathLike): The store folder.
        num_rows (int): Rows (nodes) :math:`N`.
        dim (int): Feature size :math:`D`.
        chunk_size (int, optional): Rows per chunk: the unit of encoding, of resume and of
            the work split across processes; one chunk's features are held in memory at a
            time. :obj:`None` takes the existing store's, or
            :data:`DEFAULT_CHUNK_SIZE` for a new one. (default: :obj:`None`)
        key (str, optional): What the features are (encoder and input identity); opening a
            store written under another key raises an error. (default: ``""``)
        description (Mapping, optional): Written to ``meta.json`` for people reading the
            folder. (default: :obj:`None`)

    Shapes:
        - **output:** :meth:`features` ``[N, D]`` float32, :meth:`mask` ``[N]`` bool

    Example:
        >>> store = FeatureStore(tmp / "text", num_rows=n, dim=256, key=key)
        >>> store.fill(lambda start, stop: encoder.encode(texts[start:stop]))
        >>> x = store.features()  # memory-mapped, [n, 256]
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        num_rows: int,
        dim: int,
        chunk_size: int | None = None,
        key: str = "",
        description: Mapping[str, Any] | None = None,
    ) -> None:
        num_rows = _check_positive(num_rows, "num_rows", minimum=0)
        dim = _check_positive(dim, "dim")
        if chunk_size is not None:
            _check_positive(chunk_size, "chunk_size")
        if not isinstance(key, str):
            raise TypeError(f"Expected 'key' to be a str (got {type(key).__name__!r})")
        self.path = Path(path)
        meta_file = self.path / META
        if not meta_file.is_file():
            self.path.mkdir(parents=True, exist_ok=True)
            (self.path / DONE).mkdir(exist_ok=True)
            meta = {
                "num_rows": num_rows,
                "dim": dim,
                "chunk_size": chunk_size or DEFAULT_CHUNK_SIZE,
                "dtype": "float32",
                "key": key,
                "description": _jsonable(dict(description or {})),
            }
            _create_once(self.path / FEATURES, lambda p: _write_zeros(p, (num_rows, dim), "<f4"))
            _create_once(self.path / MASK, lambda p: _write_zeros(p, (num_rows,), "|b1"))
            _create_once(meta_file, lambda p: _write_json(p, meta))  # last: the store exists
        self._load_meta()
        asked = {"num_rows": num_rows, "dim": dim, "key": key}
        if chunk_size is not None:
            asked["chunk_size"] = chunk_size
        found = {k: self._meta[k] for k in asked}
        if found != asked:
            raise ValueError(
                f"The feature store at {str(self.path)!r} holds {found} (asked for {asked}); "
                "use another folder for other features, or delete this one"
            )

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> FeatureStore:
        """Open an existing store, whatever its size and key."""
        meta_file = Path(path) / META
        if not meta_file.is_file():
            raise FileNotFoundError(
                f"No feature store at {str(path)!r} (expected {META} there); create one with "
                "FeatureStore(path, num_rows, dim)"
            )
        meta = json.loads(meta_file.read_text())
        return cls(path, meta["num_rows"], meta["dim"], meta["chunk_size"], meta["key"])

    def _load_meta(self) -> None:
        self._meta = json.loads((self.path / META).read_text())
        data = np.load(self.path / FEATURES, mmap_mode="r")
        mask = np.load(self.path / MASK, mmap_mode="r")
        expected = (self._meta["num_rows"], self._meta["dim"])
        if data.shape != expected or data.dtype != np.float32 or mask.shape != expected[:1]:
            raise ValueError(
                f"The feature store at {str(self.path)!r} is damaged: {FEATURES} holds "
                f"{data.dtype} {list(data.shape)} and {MASK} {list(mask.shape)} (expected "
                f"float32 {list(expected)}); delete the folder and encode again"
            )
        self._offsets = (int(data.offset), int(mask.offset))

    # ------------------------------------------------------------------ layout
    @property
    def num_rows(self) -> int:
        """Rows (nodes) of the store."""
        return int(self._meta["num_rows"])

    @property
    def dim(self) -> int:
        """Feature size."""
        return int(self._meta["dim"])

    @property
    def chunk_size(self) -> int:
        """Rows per chunk."""
        return int(self._meta["chunk_size"])

    @property
    def key(self) -> str:
        """What the features are (see the constructor)."""
        return str(self._meta["key"])

    @property
    def num_chunks(self) -> int:
        """Number of chunks (the last may be shorter)."""
        return -(-self.num_rows // self.chunk_size)

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        """Rows ``[start, stop)`` of chunk ``chunk``."""
        if not isinstance(chunk, int) or not 0 <= chunk < self.num_chunks:
            raise ValueError(f"Expected a chunk index in [0, {self.num_chunks}) (got {chunk!r})")
        start = chunk * self.chunk_size
        return start, min(start + self.chunk_size, self.num_rows)

    # ---------------------------------------------------------------- progress
    def finished_chunks(self) -> list[int]:
        """Chunks whose rows are on disk (read afresh: sees other processes' progress)."""
        done = self.path / DONE
        if not done.is_dir():
            return []
        found = (name[6:] for name in os.listdir(done) if name.startswith("chunk-"))
        return sorted(int(i) for i in found if i.isdigit() and int(i) < self.num_chunks)

    def missing_chunks(self) -> list[int]:
        """Chunks still to encode."""
        finished = set(self.finished_chunks())
        return [i for i in range(self.num_chunks) if i not in finished]

    @property
    def complete(self) -> bool:
        """Whether every chunk is finished."""
        return len(self.finished_chunks()) == self.num_chunks

    # ------------------------------------------------------------------- write
    def write_chunk(self, chunk: int, x: Tensor, mask: Tensor | None = None) -> None:
        """Write the features ``x`` ``[k, D]`` (and ``mask`` ``[k]``) of one chunk, durably.

        The rows are flushed to disk before the chunk is marked finished.
        """
        start, stop = self.chunk_range(chunk)
        rows = stop - start
        if not isinstance(x, Tensor) or x.shape != (rows, self.dim):
            shape = list(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"Expected features of shape [{rows}, {self.dim}] for chunk {chunk} (rows "
                f"{start} to {stop}) (got {shape})"
            )
        if mask is None:
            mask = torch.ones(rows, dtype=torch.bool)
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.shape != (rows,):
            got = f"{mask.dtype} {list(mask.shape)}" if isinstance(mask, Tensor) else mask
            raise ValueError(
                f"Expected a bool mask of shape [{rows}] for chunk {chunk} (got {got})"
            )
        values = x.detach().to("cpu", torch.float32).contiguous().numpy()
        present = mask.detach().cpu().contiguous().numpy()
        data_offset, mask_offset = self._offsets
        for name, array, offset in (
            (FEATURES, values, data_offset + start * self.dim * 4),
            (MASK, present, mask_offset + start),
        ):
            fd = os.open(self.path / name, os.O_WRONLY)
            try:
                _pwrite_all(fd, array.reshape(-1).view(np.uint8).data, offset)
                os.fsync(fd)
            finally:
                os.close(fd)
        marker = {"rows": [start, stop], "pid": os.getpid()}
        _atomic_write(
            self.path / DONE / f"chunk-{chunk:06d}", lambda h: h.write(json.dumps(marker).encode())
        )

    def fill(
        self,
        encode: ChunkEncoder,
        rank: int = 0,
        world_size: int = 1,
        progress: bool = False,
    ) -> int:
        """Encode and write the unfinished chunks; return how many this process wrote.

        Args:
            encode (Callable): ``encode(start, stop) -> (x, mask)``, the features
                ``[stop - start, D]`` and bool mask of rows ``start`` to ``stop``.
            rank (int, optional): This process's rank: it takes the unfinished chunks ``i``
                with ``i % world_size == rank``, so that processes sharing the store split
                the work without talking. (default: :obj:`0`)
            world_size (int, optional): Number of processes. (default: :obj:`1`)
            progress (bool, optional): Show a progress bar. (default: :obj:`False`)
        """
        from tqdm.auto import tqdm

        world_size = _check_positive(world_size, "world_size")
        if not isinstance(rank, int) or not 0 <= rank < world_size:
            raise ValueError(f"Expected 'rank' in [0, {world_size}) (got {rank!r})")
        todo = [i for i in self.missing_chunks() if i % world_size == rank]
        for done, chunk in enumerate(
            tqdm(todo, desc="Encoding chunks", disable=not progress, leave=False)
        ):
            start, stop = self.chunk_range(chunk)
            x, mask = encode(start, stop)
            self.write_chunk(chunk, x, mask)
            heartbeat.beat(done + 1, len(todo), "chunks encoded", eta=True)
        return len(todo)

    # -------------------------------------------------------------------- read
    def _check_complete(self) -> None:
        missing = self.missing_chunks()
        if missing:
            raise ValueError(
                f"The feature store at {str(self.path)!r} has {len(missing)} of "
                f"{self.num_chunks} chunks unfinished (first: {missing[0]}); call `fill` first"
            )

    def features(self) -> Tensor:
        """The features ``[N, D]`` as a tensor backed by the memory map of the file.

        Rows are read from disk (or the page cache) when used, e.g. by the ``index_select``
        of a mini-batch. The map is copy-on-write: changing the tensor in place changes this
        process's view only, never the file.

        Raises:
            ValueError: Some chunk is unfinished.
        """
        self._check_complete()
        return torch.from_numpy(np.load(self.path / FEATURES, mmap_mode="c"))

    def mask(self) -> Tensor:
        """The bool mask ``[N]`` of rows that hold the modality (read into memory)."""
        self._check_complete()
        return torch.from_numpy(np.load(self.path / MASK))

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({str(self.path)!r}, num_rows={self.num_rows}, "
            f"dim={self.dim}, chunk_size={self.chunk_size}, "
            f"finished={len(self.finished_chunks())}/{self.num_chunks})"
        )
