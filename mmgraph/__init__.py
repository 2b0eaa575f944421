"""mmgraph: graph neural networks over multimodal nodes (text, images, attributes)."""

from __future__ import annotations

import mmgraph._openmp  # noqa: F401 (first: OpenMP threads sleep, set before torch loads)
import mmgraph.coordination  # noqa: F401 (registers the autoencoder and DBM fusion heads)
from mmgraph.data.graph import MODALITIES, MultimodalGraph
from mmgraph.seed import make_generator, seed_everything

__version__ = "0.1.0"

__all__ = [
    "MODALITIES",
    "MultimodalGraph",
    "make_generator",
    "seed_everything",
    "__version__",
]
