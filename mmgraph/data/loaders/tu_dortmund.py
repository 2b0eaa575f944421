"""Graph classification sets in the TU Dortmund format (what PyG's ``TUDataset`` reads).

A folder of ``<NAME>_A.txt`` (one ``row, col`` edge a line, 1-based node ids over the whole
set), ``<NAME>_graph_indicator.txt`` (each node's 1-based graph id) and
``<NAME>_graph_labels.txt`` (each graph's class), optionally ``<NAME>_node_labels.txt``
and ``<NAME>_node_attributes.txt``: the layout of https://chrsmrrs.github.io/datasets/,
as unzipped (``NAME/``) or as PyG keeps it (``NAME/raw/``).
"""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mmgraph.data.loaders._common import as_path
from mmgraph.data.loaders.tu import FOLD_SEED as FOLD_SEED  # re-exported, as before
from mmgraph.data.loaders.tu import FOLDS, stratified_folds, whole_graph_dataset
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.errors import InputError, read_text

log = logging.getLogger(__name__)

REQUIRED = ("A", "graph_indicator", "graph_labels")
"""The files every TU Dortmund set has (``<NAME>_<part>.txt``)."""

IGNORED = ("edge_labels", "edge_attributes", "graph_attributes")
"""Files read by no model here: their presence is logged, not an error."""


def find_tu_dortmund(path: str | Path) -> tuple[Path, str] | None:
    """``(folder, NAME)`` of the TU Dortmund set at ``path``, or :obj:`None`.

    ``path`` is the set's folder, its ``raw/`` folder (PyG's layout), or one of its files;
    :obj:`None` when there is no ``<NAME>_A.txt``.
    """
    p = Path(path).expanduser()
    if p.is_file():
        if p.name.endswith("_A.txt"):
            return p.parent, p.name[: -len("_A.txt")]
        for part in REQUIRED[1:]:
            if p.name.endswith(f"_{part}.txt"):
                return p.parent, p.name[: -len(f"_{part}.txt")]
        return None
    if not p.is_dir():
        return None
    for folder in (p, p / "raw", p / p.name, p / p.name / "raw"):
        if (folder / f"{p.name}_A.txt").is_file():
            return folder, p.name
    for folder in (p, p / "raw"):
        if folder.is_dir():
            found = sorted(f.name[: -len("_A.txt")] for f in folder.glob("*_A.txt"))
            if len(found) == 1:
                return folder, found[0]
    return None


def is_tu_dortmund_folder(path: str | Path) -> bool:
    """Whether ``path`` holds a set in the TU Dortmund format (see :func:`find_tu_dortmund`)."""
    return Path(path).is_dir() and find_tu_dortmund(path) is not None


def _numbers(path: Path, what: str, dtype: Any) -> np.ndarray:
    """The numbers of a file, one row a line (``,`` or spaces between values).

    Parsed by NumPy in one pass (the edge file of a large set has millions of lines); a
    file it cannot read to its end is read again line by line to name the bad value.
    """
    text = read_text(path, what)
    rows = 0
    width = None
    for line in io.StringIO(text):  # lazily: no list of millions of lines
        if line.strip():
            rows += 1
            if width is None:
                width = len(line.replace(",", " ").split())
    if width is None:
        raise InputError(f"'{path}' is empty: it should hold {what}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values = np.fromstring(text.replace(",", " "), dtype=np.float64, sep=" ")
    except (DeprecationWarning, ValueError):
        values = None
    if values is None or values.size != rows * width:
        for number, line in enumerate(text.splitlines(), start=1):
            parts = line.replace(",", " ").split()
            bad = next((v for v in parts if not _is_number(v)), None)
            if bad is not None:
                raise InputError(
                    f"Expected numbers in '{path}' ({what}); line {number} holds {bad[:50]!r}"
                )
            if parts and len(parts) != width:
                raise InputError(
                    f"Line {number} of '{path}' holds {len(parts)} values, the first line "
                    f"{width}: each line of {what} needs the same count"
                )
        raise InputError(f"Could not read '{path}' as {rows} lines of {width} numbers")
    if not np.isfinite(values).all():
        raise InputError(f"'{path}' holds a NaN or infinite value: give finite {what}")
    if dtype is not float:
        if not np.array_equal(values, np.round(values)):
            raise InputError(f"Expected integers in '{path}' ({what})")
        values = values.astype(np.int64)
    return values.reshape(rows, width)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_tu_dortmund(root: str | Path, folds: int = FOLDS) -> SubgraphDataset:
    """Load a graph classification set in the TU Dortmund format as one disjoint union.

    As :func:`~mmgraph.data.loaders.tu.load_tu` does for the DGCNN format: the base graph is
    the disjoint union of all graphs (edges symmetrised), subgraph ``i`` is the node set of
    graph ``i`` (``whole_graphs=True``), the node labels become the categorical column
    ``tag`` (one constant tag without ``<NAME>_node_labels.txt``, as the DGCNN files of sets
    without node labels have), the node attributes the ``numeric`` modality, the graph
    labels the classes (sorted values), and ``node_id`` is ``"<graph>:<node>"`` (0-based,
    in the files' node order). Edge labels and attributes are not read.

    The format has no folds: ``folds`` stratified folds are drawn with a fixed seed
    (:data:`FOLD_SEED`), so every run and every command sees the same folds; with fewer
    graphs of some class than ``folds``, or ``folds=0``, the set loads without folds (the
    subgraph task then draws a seeded 80/10/10 split).

    Args:
        root (str or Path): The set's folder (``NAME/`` or ``NAME/raw/``) or one of its
            files.
        folds (int, optional): Cross-validation folds to draw. (default: :obj:`10`)

    Raises:
        InputError: A missing required file, files that disagree (line counts, node or
            graph ids out of range), non-numeric or non-finite values.
    """
    p = as_path(root, "TU Dortmund data set folder")
    found = find_tu_dortmund(p)
    if found is None:
        raise FileNotFoundError(
            f"No '<NAME>_A.txt' in '{p}' or '{p / 'raw'}': pass the folder of a TU Dortmund "
            "set (NAME_A.txt, NAME_graph_indicator.txt, NAME_graph_labels.txt)"
        )
    folder, name = found

    def file(part: str) -> Path:
        return folder / f"{name}_{part}.txt"

    missing = [file(part).name for part in REQUIRED if not file(part).is_file()]
    if missing:
        raise InputError(
            f"'{folder}' lacks {', '.join(missing)}: a TU Dortmund set needs {name}_A.txt, "
            f"{name}_graph_indicator.txt and {name}_graph_labels.txt"
        )
    for part in IGNORED:
        if file(part).is_file():
            log.info("%s is not read (no model here uses %s)", file(part).name, part)

    indicator = _numbers(file("graph_indicator"), "one graph id a node", int)
    if indicator.shape[1] != 1:
        raise InputError(f"Expected one graph id a line in '{file('graph_indicator')}'")
    indicator = indicator[:, 0]
    labels_raw = read_text(file("graph_labels"), "one label a graph").split()
    num_graphs = len(labels_raw)
    num_nodes = len(indicator)
    if indicator.min() < 1 or indicator.max() > num_graphs:
        raise InputError(
            f"'{file('graph_indicator')}' names graphs {indicator.min()}..{indicator.max()} but "
            f"'{file('graph_labels')}' labels {num_graphs} graphs: expected ids 1..{num_graphs}"
        )
    sizes = np.bincount(indicator - 1, minlength=num_graphs)
    if (sizes == 0).any():
        empty = int(np.flatnonzero(sizes == 0)[0]) + 1
        raise InputError(
            f"Graph {empty} of '{name}' has no node in '{file('graph_indicator')}': every "
            "graph needs at least one node"
        )

    edges = _numbers(file("A"), "one 'row, col' edge a line", int)
    if edges.shape[1] != 2:
        raise InputError(f"Expected 'row, col' on each line of '{file('A')}'")
    if edges.min() < 1 or edges.max() > num_nodes:
        raise InputError(
            f"'{file('A')}' names nodes {edges.min()}..{edges.max()} but "
            f"'{file('graph_indicator')}' has {num_nodes}: expected 1-based ids 1..{num_nodes}"
        )
    edges = edges - 1
    across = indicator[edges[:, 0]] != indicator[edges[:, 1]]
    if across.any():
        row = int(np.flatnonzero(across)[0])
        raise InputError(
            f"Line {row + 1} of '{file('A')}' joins nodes of two graphs "
            f"({indicator[edges[row, 0]]} and {indicator[edges[row, 1]]}): edges stay inside "
            "a graph"
        )

    # nodes grouped by graph, in the files' order within each graph
    order = np.argsort(indicator, kind="stable")
    new_id = np.empty(num_nodes, dtype=np.int64)
    new_id[order] = np.arange(num_nodes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    local = np.arange(num_nodes) - starts[indicator[order] - 1]
    node_ids = [f"{g - 1}:{i}" for g, i in zip(indicator[order].tolist(), local.tolist())]

    if file("node_labels").is_file():
        tags = _numbers(file("node_labels"), "one label a node", int)
        if tags.shape[0] != num_nodes:
            raise InputError(
                f"'{file('node_labels')}' has {tags.shape[0]} lines for {num_nodes} nodes"
            )
        tags = tags[order, 0]
    else:
        tags = np.zeros(num_nodes, dtype=np.int64)
    numeric = None
    if file("node_attributes").is_file():
        attributes = _numbers(file("node_attributes"), "the attributes of a node", float)
        if attributes.shape[0] != num_nodes:
            raise InputError(
                f"'{file('node_attributes')}' has {attributes.shape[0]} lines for {num_nodes} nodes"
            )
        numeric = torch.tensor(attributes[order], dtype=torch.float)
    return whole_graph_dataset(
        name,
        torch.from_numpy(new_id[edges].T.copy()),
        tags.tolist(),
        node_ids,
        [torch.arange(s, s + n) for s, n in zip(starts.tolist(), sizes.tolist())],
        labels_raw,
        stratified_folds(labels_raw, folds, name),
        numeric=numeric,
        numeric_prefix="attribute",
    )
