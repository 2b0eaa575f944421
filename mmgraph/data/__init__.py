"""Multimodal graph container, validation, conversions, loaders and generators."""

from __future__ import annotations

from mmgraph.data.convert import from_data, from_networkx, to_data, to_networkx
from mmgraph.data.edges import coalesce_typed, make_undirected
from mmgraph.data.graph import (
    MISSING_CODE,
    MODALITIES,
    UNLABELLED,
    MultimodalGraph,
    pad_sequences,
    step_mask,
)
from mmgraph.data.loaders import (
    load_card,
    load_planetoid,
    load_subgnn,
    load_tu,
    load_tu_dortmund,
    load_twibot,
    load_webkb,
    save_card,
)
from mmgraph.data.registry import DATASETS, load_dataset
from mmgraph.data.split import stratified_split
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.data.summary import format_summary, summarize

__all__ = [
    "DATASETS",
    "MISSING_CODE",
    "MODALITIES",
    "UNLABELLED",
    "MultimodalGraph",
    "SubgraphDataset",
    "coalesce_typed",
    "format_summary",
    "from_data",
    "from_networkx",
    "load_card",
    "load_dataset",
    "load_planetoid",
    "load_subgnn",
    "load_tu",
    "load_tu_dortmund",
    "load_twibot",
    "load_webkb",
    "make_undirected",
    "pad_sequences",
    "save_card",
    "step_mask",
    "stratified_split",
    "summarize",
    "to_data",
    "to_networkx",
]
