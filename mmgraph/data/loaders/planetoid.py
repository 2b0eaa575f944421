"""Planetoid citation graphs (Cora, CiteSeer, PubMed) from their raw ``ind.<name>.*`` files."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from mmgraph.data.graph import UNLABELLED, MultimodalGraph
from mmgraph.data.loaders._common import as_path

log = logging.getLogger(__name__)

PLANETOID_NAMES: dict[str, str] = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
"""Lower-case name -> folder name of the Planetoid data sets."""

_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def find_planetoid_raw(root: str | Path, name: str) -> Path:
    """The folder holding ``ind.<name>.*``: ``root/<Name>/raw``, ``root/raw`` or ``root``."""
    base = as_path(root, "Planetoid root folder")
    key = name.lower()
    candidates = [base / PLANETOID_NAMES.get(key, name) / "raw", base / key / "raw"]
    if base.is_dir():
        candidates += [
            child / "raw" for child in sorted(base.iterdir()) if child.name.lower() == key
        ]
    candidates += [base / "raw", base]
    for folder in candidates:
        if (folder / f"ind.{key}.graph").is_file():
            return folder
    raise FileNotFoundError(
        f"No Planetoid raw files 'ind.{key}.*' found under '{base}' (looked in "
        f"{', '.join(str(c) for c in dict.fromkeys(candidates))}): pass the folder that holds "
        f"'{PLANETOID_NAMES.get(key, name)}/raw/' or the data set folder itself"
    )


def load_planetoid(root: str | Path, name: str) -> MultimodalGraph:
    """Load a Planetoid citation graph from its raw files, writing nothing to disk.

    Reads ``ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}`` with PyG's
    :func:`torch_geometric.io.read_planetoid_data` (PyG's own layout, no processing step),
    so a read-only folder works.

    The bag-of-words vectors become the ``numeric`` modality; ``y`` and the public split
    (20 labelled nodes per class for training, 500 validation, 1,000 test nodes) come with
    it; edges are the directed pairs of the symmetric citation graph without self loops
    (Cora: 2,708 nodes, 10,556 edges, 7 classes).

    CiteSeer lists 15 test nodes that have no features and no label in the raw files (the
    ids missing from ``ind.citeseer.test.index``; they have no edges either). PyG fills them
    with zeros; here they are marked missing instead: their ``numeric`` row is NaN,
    ``numeric_present`` is false and their label is -1 (unlabelled). They are in no split.

    Args:
        root (str or Path): A folder holding ``<Name>/raw/`` (PyG's layout), or the data
            set folder itself (holding ``raw/``), or the raw folder.
        name (str): ``cora``, ``citeseer`` or ``pubmed`` (any case).

    Returns:
        The graph, with ``node_id`` the row numbers. The raw files hold no topic names, so
        ``class_names`` are the label numbers (``"0"``, ``"1"``, ...).
    """
    from torch_geometric.io import read_planetoid_data

    key = name.lower()
    if key not in PLANETOID_NAMES:
        raise ValueError(
            f"Unknown Planetoid data set {name!r}: valid names are {list(PLANETOID_NAMES)}"
        )
    folder = find_planetoid_raw(root, key)
    for suffix in _SUFFIXES:
        if not (folder / f"ind.{key}.{suffix}").is_file():
            raise FileNotFoundError(
                f"Planetoid raw file 'ind.{key}.{suffix}' not found in '{folder}': all of "
                f"{', '.join(f'ind.{key}.{s}' for s in _SUFFIXES)} are needed"
            )
    data = read_planetoid_data(str(folder), key)
    x = data.x.to_dense() if data.x.is_sparse else data.x
    numeric = x.float().clone()
    y = data.y.clone()
    n = y.numel()
    test_index = data.test_mask.nonzero().view(-1)
    # PyG stacks `allx` and one row per id in [min, max] of `test.index`; the ids of that
    # range missing from `test.index` had no features (CiteSeer's isolated nodes).
    lo, hi = int(test_index.min()), int(test_index.max())
    missing = torch.zeros(n, dtype=torch.bool)
    missing[n - (hi - lo + 1) :] = True
    missing[test_index] = False
    if bool(missing.any()):
        log.info(
            "%s: %d test rows without features or labels marked missing", name, int(missing.sum())
        )
        numeric[missing] = float("nan")
        y[missing] = UNLABELLED
    num_classes = int(y.max()) + 1
    return MultimodalGraph(
        data.edge_index,
        numeric=numeric,
        presence={"numeric": ~missing},
        numeric_names=[f"word_{i}" for i in range(numeric.size(1))],
        y=y,
        class_names=[str(c) for c in range(num_classes)],
        train_mask=data.train_mask,
        val_mask=data.val_mask,
        test_mask=data.test_mask,
        node_id=[str(i) for i in range(n)],
        name=PLANETOID_NAMES[key],
    )
