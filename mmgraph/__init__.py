"""mmgraph: graph neural networks over multimodal nodes (text, images, attributes).

The names below load on first use (PEP 562), so that ``import mmgraph`` and the
``mmgraph --help`` of the command line do not import torch and PyG (seconds).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

import mmgraph._openmp  # noqa: F401 (first: OpenMP threads sleep, set before torch loads)

if TYPE_CHECKING:  # pragma: no cover
    from mmgraph.data.graph import MODALITIES, MultimodalGraph
    from mmgraph.seed import make_generator, seed_everything

__version__ = "0.1.0"

_LAZY = {
    "MODALITIES": "mmgraph.data.graph",
    "MultimodalGraph": "mmgraph.data.graph",
    "make_generator": "mmgraph.seed",
    "seed_everything": "mmgraph.seed",
}
"""Each name of the package and the module that defines it."""

__all__ = [
    "MODALITIES",
    "MultimodalGraph",
    "make_generator",
    "seed_everything",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """A name of :data:`__all__`, or a subpackage (``import mmgraph; mmgraph.data``)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}"):
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # the next look-up is a plain one
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
