"""Input checks shared by the evaluation functions (private)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mmgraph import resolver


def to_numpy(value: Any, name: str) -> np.ndarray:
    """Return ``value`` (tensor, array or nested sequence) as a NumPy array."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple, range)):
        return np.asarray(value)
    raise TypeError(
        f"Expected '{name}' to be a torch.Tensor, a numpy.ndarray or a sequence "
        f"(got {type(value).__name__!r})"
    )


def as_labels(value: Any, name: str) -> np.ndarray:
    """Return integer labels of shape ``[N]`` as an ``int64`` array."""
    arr = to_numpy(value, name)
    if arr.ndim != 1:
        raise ValueError(f"Expected '{name}' of shape [N] (got {list(arr.shape)})")
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        if arr.size == 0:
            return arr.astype(np.int64)
        raise TypeError(f"Expected '{name}' to be of integer type (got {str(arr.dtype)!r})")
    return arr.astype(np.int64, copy=False)


def as_matrix(value: Any, name: str, rows: str = "N", cols: str = "D") -> np.ndarray:
    """Return a finite float matrix ``[rows, cols]`` as a ``float64`` array."""
    arr = to_numpy(value, name)
    if arr.ndim != 2:
        raise ValueError(f"Expected '{name}' of shape [{rows}, {cols}] (got {list(arr.shape)})")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"Expected '{name}' to be of numeric type (got {str(arr.dtype)!r})")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        shown = ", ".join(map(str, bad[:5].tolist())) + (", ..." if bad.size > 5 else "")
        raise ValueError(
            f"Expected '{name}' to be finite (got NaN or infinite values in {bad.size} rows: "
            f"{shown}, counting from 0); drop or impute those rows first"
        )
    return arr


def as_mask(value: Any, n: int, name: str) -> np.ndarray:
    """Return a bool mask ``[n]`` from a bool mask or an array of integer indices."""
    arr = to_numpy(value, name)
    if arr.ndim != 1:
        raise ValueError(f"Expected '{name}' of shape [N] (got {list(arr.shape)})")
    if arr.dtype == np.bool_:
        if arr.shape[0] != n:
            raise ValueError(
                f"Expected '{name}' to have {n} entries, one per node (got {len(arr)})"
            )
        return arr
    if arr.size > 0 and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"Expected '{name}' to be a bool mask or integer indices (got {str(arr.dtype)!r})"
        )
    idx = arr.astype(np.int64, copy=False)
    if idx.size > 0 and (idx.min() < -n or idx.max() >= n):
        raise ValueError(
            f"Expected the indices in '{name}' to lie in [0, {n}) (got values in "
            f"[{int(idx.min())}, {int(idx.max())}])"
        )
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    return mask


def check_same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise when two arrays do not have the same number of rows."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"Expected '{name_a}' and '{name_b}' to have the same number of rows "
            f"(got {a.shape[0]} and {b.shape[0]})"
        )


def check_edge_index(edge_index: Any, num_nodes: int) -> np.ndarray:
    """Return ``edge_index`` (array-like ``[2, E]``) as an ``int64`` array.

    The check is :func:`mmgraph.resolver.check_edge_index`, on the edges as a tensor.
    """
    edges = to_numpy(edge_index, "edge_index")
    if edges.size == 0 and edges.ndim == 2:  # an empty list of edges reads as floats
        edges = edges.astype(np.int64)
    resolver.check_edge_index(torch.as_tensor(edges), num_nodes)
    return edges.astype(np.int64, copy=False)


def resolve_seed(seed: int | None) -> int:
    """Return ``seed``, or a fresh one from :func:`mmgraph.seed.make_generator` when ``None``."""
    from mmgraph.seed import make_generator

    if seed is None:
        return int(torch.randint(0, 2**31 - 1, (1,), generator=make_generator(None)).item())
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"Expected 'seed' to be an int or None (got {type(seed).__name__!r})")
    return int(seed) % 2**32
