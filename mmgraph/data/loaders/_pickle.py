"""Restricted unpickling: read data pickles without letting them run code.

:func:`pickle.load` calls whatever a file names (``os.system``, ``builtins.exec``...), so
a crafted data file runs code on whoever loads it. :func:`safe_unpickle` reads a pickle
with an :class:`pickle.Unpickler` whose ``find_class`` hands out only the objects of an
allow list and refuses every other global with :class:`~mmgraph.errors.UnsafeFileError`.
The allow lists here (:data:`NUMPY_GLOBALS`, :data:`SPARSE_GLOBALS`,
:data:`CONTAINER_GLOBALS`) give harmless stand-ins rather than the real classes where the
real ones could be misused: arrays are rebuilt only through NumPy's own ``_reconstruct``
(so their size is checked against the bytes in the file), dtypes holding Python objects
are refused, and SciPy sparse matrices come back as :class:`SparseState` records of their
arrays, for the caller to check and rebuild (no SciPy code runs while unpickling).
"""

from __future__ import annotations

import builtins
import collections
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mmgraph.errors import InputError, UnsafeFileError

# NumPy 1 pickles name ``numpy.core.multiarray``, NumPy 2 ``numpy._core.multiarray``:
# take the functions from what this NumPy's own pickles use.
_RECONSTRUCT: Callable[..., np.ndarray] = np.ndarray.__reduce__(np.zeros(1))[0]  # type: ignore[assignment]
_SCALAR: Callable[..., Any] = np.float32(0).__reduce__()[0]  # type: ignore[assignment]

_UNPICKLING_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    OverflowError,
    UnicodeDecodeError,
    MemoryError,
    RecursionError,
)
"""What a truncated or corrupt pickle raises from the unpickler or NumPy's ``__setstate__``."""


class _ArrayClass:
    """Stands for ``numpy.ndarray`` in a pickle: usable only as ``_reconstruct``'s subtype."""

    def __repr__(self) -> str:
        return "numpy.ndarray"


_NDARRAY = _ArrayClass()


def _no_objects(dtype: np.dtype[Any]) -> np.dtype[Any]:
    if dtype.hasobject:
        raise UnsafeFileError(
            f"asks for an array of Python objects (dtype {dtype}), which a data file never holds"
        )
    return dtype


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """NumPy's array unpickling start (an empty array, filled by ``__setstate__``)."""
    if subtype is not _NDARRAY or shape != (0,):
        raise UnsafeFileError(
            f"asks to build a {subtype!r} of shape {shape!r}, where NumPy pickles build an "
            "empty numpy.ndarray"
        )
    return _RECONSTRUCT(np.ndarray, shape, dtype)


def _dtype(*args: Any) -> np.dtype[Any]:
    return _no_objects(np.dtype(*args))


def _scalar(dtype: Any, *args: Any) -> Any:
    if not isinstance(dtype, np.dtype):
        raise UnsafeFileError(f"asks for a NumPy scalar of {type(dtype).__name__!r}")
    _no_objects(dtype)
    return _SCALAR(dtype, *args)


class SparseState:
    """The pickled state of a SciPy sparse matrix, not yet a matrix.

    ``kind`` is ``"csr"``, ``"csc"`` or ``"coo"``; ``state`` the attributes the pickle
    set (``data``, ``indices``, ``indptr``, ``_shape``... as stored by the SciPy that
    wrote it). The reader checks them and builds the matrix itself.
    """

    kind = ""

    def __init__(self) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2 and state[0] is None:
            state = state[1]  # (None, slots) is not used by SciPy, but dict-only is
        if not isinstance(state, dict):
            raise UnsafeFileError(
                f"sets the state of a sparse matrix to a {type(state).__name__}, not a dict"
            )
        self.state = {str(k): v for k, v in state.items()}


class _CsrState(SparseState):
    kind = "csr"


class _CscState(SparseState):
    kind = "csc"


class _CooState(SparseState):
    kind = "coo"


def _reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """``copyreg._reconstructor`` (protocols 0 and 1) for the sparse stand-ins only."""
    if not (isinstance(cls, type) and issubclass(cls, SparseState)) or base is not object:
        raise UnsafeFileError(f"asks copyreg to build {cls!r} from {base!r}")
    if state is not None:
        raise UnsafeFileError("asks copyreg to build a sparse matrix with a constructor state")
    return cls()


def _encode(text: Any, encoding: Any = "utf-8") -> bytes:
    """``_codecs.encode``, which Python 3 pickles of protocol 2 use to write bytes."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafeFileError(f"asks _codecs.encode for {type(text).__name__} in {encoding!r}")
    return text.encode("latin1")


def _bytes(*args: Any) -> bytes:
    """``bytes()`` as Python 3 pickles of protocol 2 write an empty ``bytes``; nothing else."""
    if args:
        raise UnsafeFileError(f"asks for bytes{args!r:.50}, where pickles only ask for bytes()")
    return b""


NUMPY_GLOBALS: dict[tuple[str, str], Any] = {
    ("_codecs", "encode"): _encode,
    ("__builtin__", "bytes"): _bytes,
    ("builtins", "bytes"): _bytes,
    **{
        (m, "_reconstruct"): _reconstruct
        for m in ("numpy.core.multiarray", "numpy._core.multiarray")
    },
    **{(m, "scalar"): _scalar for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _dtype,
}
"""NumPy arrays, dtypes and scalars (no object dtypes), as NumPy 1 and 2 pickle them."""

SPARSE_GLOBALS: dict[tuple[str, str], Any] = {
    (module, f"{kind}_matrix"): state
    for kind, state in (("csr", _CsrState), ("csc", _CscState), ("coo", _CooState))
    for module in ("scipy.sparse", f"scipy.sparse.{kind}", f"scipy.sparse._{kind}")
}
SPARSE_GLOBALS.update(
    {
        ("copy_reg", "_reconstructor"): _reconstructor,
        ("copyreg", "_reconstructor"): _reconstructor,
        ("__builtin__", "object"): object,
        ("builtins", "object"): object,
    }
)
"""SciPy csr/csc/coo matrices (old and new module names), as :class:`SparseState`."""

CONTAINER_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "defaultdict"): collections.defaultdict,
    **{
        (module, name): getattr(builtins, name)
        for module in ("__builtin__", "builtins")
        for name in ("list", "dict", "set", "frozenset", "tuple")
    },
}
"""``collections.defaultdict`` and the plain containers (Python 2 and 3 names)."""


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: Any, allowed: Mapping[tuple[str, str], Any], **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self.allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            raise _Refused(f"{module}.{name}") from None


class _Refused(Exception):
    """A global outside the allow list (turned into an UnsafeFileError naming the file)."""


def safe_unpickle(
    path: str | Path,
    allowed: Mapping[tuple[str, str], Any],
    what: str,
    fix: str = "replace it with a genuine copy",
) -> Any:
    """Unpickle ``path`` letting it load only the globals of ``allowed``.

    Python 2 pickles are read with ``encoding="latin1"`` (what NumPy arrays pickled by
    Python 2 need).

    Args:
        path (str or Path): The pickle file.
        allowed (Mapping): ``(module, name)`` of each global the file may name, mapped to
            the object to give it (e.g. :data:`NUMPY_GLOBALS`).
        what (str): What the file is, for messages (``"a Planetoid file"``).
        fix (str, optional): What to do about a corrupt file, for messages.

    Raises:
        UnsafeFileError: The file names a global outside ``allowed``, or asks an allowed one
            for something a data file never holds (an object array...). Nothing it names is
            called after that.
        InputError: The file is empty, truncated or not a pickle.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        unpickler = _RestrictedUnpickler(fh, allowed, encoding="latin1")
        try:
            return unpickler.load()
        except _Refused as refused:
            raise UnsafeFileError(
                f"'{path}' asks to load '{refused}', which {what} never holds: refusing to "
                f"unpickle it; {fix}"
            ) from None
        except UnsafeFileError as error:
            raise UnsafeFileError(f"'{path}' {error}: refusing to unpickle it; {fix}") from None
        except _UNPICKLING_ERRORS as error:
            detail = " ".join(str(error).split())[:200] or "no detail"
            raise InputError(
                f"'{path}' is not a readable pickle of {what} (empty, truncated or corrupt: "
                f"{type(error).__name__}: {detail}); {fix}"
            ) from None
