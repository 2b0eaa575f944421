"""Multimodal graph container, validation, conversions, loaders and generators."""

from __future__ import annotations

from mmgraph.data.convert import from_data, from_networkx, to_data, to_networkx
from mmgraph.data.edges import coalesce_typed, make_undirected
from mmgraph.data.graph import MISSING_CODE, MODALITIES, UNLABELLED, MultimodalGraph
from mmgraph.data.split import stratified_split

__all__ = [
    "MISSING_CODE",
    "MODALITIES",
    "UNLABELLED",
    "MultimodalGraph",
    "coalesce_typed",
    "from_data",
    "from_networkx",
    "make_undirected",
    "stratified_split",
    "to_data",
    "to_networkx",
]
