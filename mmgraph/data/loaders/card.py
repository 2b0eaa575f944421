"""Generic data set cards: a YAML file that describes a node table and an edge table.

A card (``dataset.yaml``)::

    name: my-graph
    nodes: nodes.csv        # CSV or Parquet, one row per node
    id: node_id             # optional: default is row order
    edges: edges.csv        # optional; columns src, dst hold node ids
    relation: relation      # optional edge column: edge types
    weight: weight          # optional edge column
    directed: true          # default false: edges are made symmetric
    modalities:
      text: [description, tweets]   # string columns; a JSON-list cell means several texts
      image: [avatar]               # image file paths, relative to the card
      numeric: [followers, friends]
      categorical: [verified, lang]
      sequence: [posts, likes]      # JSON-list cells, one entry per step (or a long table:
                                    # see mmgraph.data.loaders.card_sequence)
    label: label            # optional, any values
    classes: [human, bot]   # optional: the class order (default: sorted label values)
    positive: bot           # optional: the class whose F1 is reported (binary default:
                            # the minority class)
    split: split            # optional, values train/val/test
    allow_outside: false    # optional: true lets paths leave the card's folder

File paths (``nodes``, ``edges`` and the image cells of the node table) are relative to
the card's folder and must stay inside it: an absolute path, a ``..`` that climbs out,
or a symbolic link that points out is refused with
:class:`~mmgraph.errors.UnsafeFileError` (a card from elsewhere must not read
``/etc/...``), unless the card says ``allow_outside: true``, for cards you wrote yourself
over files kept elsewhere. :func:`save_card` writes it when it keeps image paths that
lead out of the folder.

Labels are compared as values, not as text: when every label (and every entry of
``classes`` and ``positive``) reads as a finite number and all of them are whole numbers,
each becomes its integer (``0``, ``0.0`` and ``0e0`` are one class, named ``"0"``) and the
classes are sorted numerically; when they all read as numbers but some are fractional,
each becomes the shortest text of its float (``0.50`` -> ``"0.5"``); when every label is
``true`` or ``false`` in any case, they become ``"true"``/``"false"``. Other labels are
compared as stripped text. An empty label cell marks an unlabelled node (in no split);
a text such as ``NA`` or ``null`` is a class like any other, with a warning unless
``classes`` lists it.

Files by job: :mod:`~mmgraph.data.loaders.card_read` reads a card
(:func:`load_card`), :mod:`~mmgraph.data.loaders.card_write` writes one (:func:`save_card`).
"""

from __future__ import annotations

from mmgraph.data.loaders.card_read import (
    CARD_KEYS,
    CARD_NAME,
    find_card,
    load_card,
    minority_class,
)
from mmgraph.data.loaders.card_write import NODES_FORMATS, save_card

__all__ = [
    "CARD_KEYS",
    "CARD_NAME",
    "NODES_FORMATS",
    "find_card",
    "load_card",
    "minority_class",
    "save_card",
]
