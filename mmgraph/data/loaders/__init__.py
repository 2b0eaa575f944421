"""Loaders for data set cards and public graph data formats, all reading from any path."""

from __future__ import annotations

from mmgraph.data.loaders.card import load_card, save_card
from mmgraph.data.loaders.planetoid import load_planetoid
from mmgraph.data.loaders.subgnn import load_subgnn
from mmgraph.data.loaders.tu import load_tu
from mmgraph.data.loaders.tu_dortmund import load_tu_dortmund
from mmgraph.data.loaders.twibot import load_twibot
from mmgraph.data.loaders.webkb import load_webkb

__all__ = [
    "load_card",
    "load_planetoid",
    "load_subgnn",
    "load_tu",
    "load_tu_dortmund",
    "load_twibot",
    "load_webkb",
    "save_card",
]
