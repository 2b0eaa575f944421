"""SubGNN's subgraph classification format (``edge_list.txt`` + ``subgraphs.pth``)."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import torch
from torch import Tensor

from mmgraph.data.edges import count_duplicate_edges, make_undirected
from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.loaders._common import as_path
from mmgraph.data.subgraphs import SubgraphDataset, parse_split
from mmgraph.errors import InputError, read_text

log = logging.getLogger(__name__)

SUBGNN_FILES: tuple[str, ...] = ("edge_list.txt", "subgraphs.pth")
"""The files of a SubGNN data set folder."""


def is_subgnn_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding SubGNN's ``edge_list.txt`` and ``subgraphs.pth``."""
    p = Path(path)
    return p.is_dir() and all((p / f).is_file() for f in SUBGNN_FILES)


def load_subgnn(folder: str | Path, name: str | None = None) -> SubgraphDataset:
    """Load a SubGNN subgraph classification data set.

    ``edge_list.txt`` holds one ``u v`` pair a line (non-negative integer node ids, each
    undirected edge once; both directions are stored). ``subgraphs.pth`` is a text file
    with one subgraph a line: ``n1-n2-...<TAB>label<TAB>train|val|test``. The base graph
    has ``max id + 1`` nodes of the edge list and no node attributes (SubGNN's synthetic
    sets have none); class names are the sorted label values.

    A file where one label joins other labels of the file with ``-`` (``a-b``, as SubGNN's
    HPO-NEURO lists a subgraph's several labels) is multi-label: every label is split at
    ``-`` and the data set's ``y`` holds a 0/1 row per subgraph (``[S, C]``).

    The split may be left out on every line: the data set then has none (``subgraph train``
    draws a seeded stratified one). Most subgraphs having no edge between their own nodes
    is warned of: the two files are then probably numbered otherwise (1-based and 0-based).

    Both files are checked line by line, and errors name the file and the line: a line
    without exactly two ids (edges) or two or three tab-separated fields (subgraphs; a split
    on some lines and not on others); node ids not joined by ``-``; an id that
    is not a non-negative integer; a subgraph node that is not a node of the edge list
    (beyond its largest id), repeated in its subgraph, or an empty subgraph; an empty
    label; a split other than ``train``, ``val`` (``valid``) or ``test``. Ids are expected
    to run ``0 .. n - 1``: an edge list whose largest id is more than twice its number of
    distinct nodes (plus 1,024) is refused rather than padded with isolated nodes.

    Args:
        folder (str or Path): The folder holding both files.
        name (str, optional): Name of the data set. (default: the folder's name)

    Raises:
        InputError: A malformed file (the message names the file, the line and the fix).
    """
    base = as_path(folder, "SubGNN data set folder")
    for f in SUBGNN_FILES:
        if not (base / f).is_file():
            raise FileNotFoundError(
                f"SubGNN file '{f}' not found in '{base}': a SubGNN folder holds "
                f"{' and '.join(SUBGNN_FILES)}"
            )
    edge_index, n = _read_edge_list(base / "edge_list.txt")
    node_sets, labels, splits = _read_subgraphs(base / "subgraphs.pth", n)
    label_sets = _label_sets(labels)
    edge_index, _, _ = make_undirected(edge_index, n)
    _warn_of_subgraphs_without_edges(node_sets, edge_index, n, base)
    graph = MultimodalGraph(edge_index, num_nodes=n, name=name or base.name)
    return SubgraphDataset.from_lists(
        graph,
        node_sets,
        labels if label_sets is None else label_sets,
        split=splits,
        name=name or base.name,
    )


def _warn_of_subgraphs_without_edges(
    node_sets: list[list[int]], edge_index: Tensor, n: int, base: Path
) -> None:
    """Warn when most subgraphs have no edge between their own nodes.

    The sign of two files numbered otherwise (an edge list written 1-based beside 0-based
    subgraphs): every id is valid, so nothing else would tell, and the model learns from
    nodes that are not the subgraphs'.
    """
    import numpy as np
    from scipy.sparse import csr_matrix

    sized = [nodes for nodes in node_sets if len(nodes) > 1]
    if not sized or edge_index.numel() == 0:
        return
    rows = np.repeat(np.arange(len(sized)), [len(nodes) for nodes in sized])
    member = csr_matrix((np.ones(len(rows)), (rows, np.concatenate(sized))), shape=(len(sized), n))
    src, dst = edge_index.numpy()
    adjacency = csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    internal = np.asarray((member @ adjacency).multiply(member).sum(axis=1)).ravel()
    empty = int((internal == 0).sum())
    if empty * 2 > len(sized):
        warnings.warn(
            f"{empty} of the {len(sized)} subgraphs of several nodes in '{base}' have no edge "
            "between their nodes in edge_list.txt: check that both files number the nodes "
            "alike (an edge list written 1-based beside 0-based subgraphs shifts every node)",
            UserWarning,
            stacklevel=3,
        )


_ID = re.compile(r"[0-9]+")

_MAX_SPARE_IDS = 1024
"""Ids beyond twice the distinct nodes of an edge list that are still accepted."""


def _node_id(text: str, where: str) -> int:
    if not _ID.fullmatch(text):
        raise InputError(
            f"Expected a non-negative integer node id on {where} (got {text[:50]!r}): fix the id"
        )
    return int(text)


def _read_edge_list(path: Path) -> tuple[Tensor, int]:
    """The edges of ``edge_list.txt`` (long ``[2, E]``) and the node count (max id + 1)."""
    text = read_text(path, "SubGNN edge list")
    pairs = _edge_pairs(text)
    if pairs is None:  # something else than plain pairs: line by line, naming the error
        pairs = _edge_lines(text, path)
    if pairs.numel() == 0:
        raise InputError(f"'{path}' is empty: it should list the edges, one 'u v' pair a line")
    largest = int(pairs.max())
    distinct = int(torch.unique(pairs).numel())
    if largest >= 2 * distinct + _MAX_SPARE_IDS:
        edge = int((pairs == largest).any(1).nonzero()[0])
        raise InputError(
            f"'{path}' names node {largest} on line {_line_of(text, edge)} but has only "
            f"{distinct} distinct nodes: SubGNN node ids run 0..n-1; renumber the nodes"
        )
    edge_index = pairs.t().contiguous()
    repeats = count_duplicate_edges(edge_index, largest + 1)
    if repeats:  # a line per direction is not a repeat; the same 'u v' twice is
        warnings.warn(
            f"{repeats} line{'s' if repeats > 1 else ''} of '{path}' repeat an earlier edge "
            "(the same 'u v'); the graph is undirected, so each edge is kept once. Remove the "
            "repeated lines",
            UserWarning,
            stacklevel=3,
        )
    return edge_index, largest + 1


def _edge_lines(text: str, path: Path) -> Tensor:
    """The ``[E, 2]`` ids of an edge list read line by line; the first bad line named."""
    pairs: list[tuple[int, int]] = []
    for line_no, line in enumerate(text.split("\n"), 1):
        parts = line.split()
        if not parts:
            continue
        where = f"line {line_no} of '{path}'"
        if len(parts) != 2:
            raise InputError(
                f"Expected 'u v' (two node ids) on {where} (got {len(parts)} values: "
                f"{line.strip()[:50]!r})"
            )
        u, v = (_node_id(p, where) for p in parts)
        pairs.append((u, v))
    return torch.tensor(pairs, dtype=torch.long).view(-1, 2)


_EDGE_LIST = re.compile(
    r"(?:[^\S\n]*(?:[0-9]+[^\S\n]+[0-9]+[^\S\n]*)?\n)*[^\S\n]*(?:[0-9]+[^\S\n]+[0-9]+[^\S\n]*)?"
)
"""An edge list whose every line is blank or two ASCII digit strings."""


def _edge_pairs(text: str) -> Tensor | None:
    """The ``[E, 2]`` ids of an edge list, checked by one pattern and parsed at once.

    :obj:`None` when a line is anything but blank or two ASCII digit strings (the
    line-by-line reader then names the error) or an id overflows.
    """
    if _EDGE_LIST.fullmatch(text) is None:
        return None
    try:
        return torch.tensor(list(map(int, text.split())), dtype=torch.long).view(-1, 2)
    except (ValueError, RuntimeError, OverflowError):
        return None


def _line_of(text: str, edge: int) -> int:
    """The 1-based line of the ``edge``-th non-blank line of ``text``."""
    seen = -1
    for line_no, line in enumerate(text.split("\n"), 1):
        if line.split():
            seen += 1
            if seen == edge:
                return line_no
    return line_no


def joins_labels(labels: list[str]) -> bool:
    """Whether one of ``labels`` joins other labels of the list with ``-`` (multi-label).

    SubGNN's HPO-NEURO lists a subgraph's several labels joined by ``-`` (``a-b``); a file
    is read as multi-label when one of its labels is made of labels that also occur alone.
    """
    known = set(labels)
    return any(
        len(parts) > 1 and all(p in known for p in parts)
        for parts in (label.split("-") for label in known)
    )


def _label_sets(labels: list[str]) -> list[list[str]] | None:
    """Each subgraph's labels when the file is multi-label (:func:`joins_labels`), else None.

    Every label of a multi-label file is split at ``-``. Otherwise a ``-`` is part of a
    label's name, and a warning says so: a file where every subgraph has several labels is
    not recognised.
    """
    if not joins_labels(labels):
        dashed = sorted({label for label in labels if "-" in label})
        if dashed:
            log.warning(
                "%d labels contain '-' (e.g. %r) but none joins labels that occur alone, so "
                "each is read as one class; if they list several labels a subgraph (as "
                "SubGNN's HPO-NEURO does), give some subgraph each label alone",
                len(dashed),
                dashed[0],
            )
        return None
    return [[p for p in label.split("-") if p] for label in labels]


def _read_subgraphs(path: Path, n: int) -> tuple[list[list[int]], list[str], list[str] | None]:
    """Node ids, labels and splits of ``subgraphs.pth`` (splits :obj:`None`: no line has one)."""
    node_sets: list[list[int]] = []
    labels: list[str] = []
    splits: list[str] = []
    counts: set[int] = set()
    for line_no, line in enumerate(read_text(path, "SubGNN subgraph file").split("\n"), 1):
        if not line.strip():
            continue
        fields = line.rstrip().split("\t")  # (a trailing tab or space is no field)
        where = f"line {line_no} of '{path}'"
        if len(fields) not in (2, 3):
            raise InputError(
                f"Expected 'n1-n2-...<TAB>label<TAB>train|val|test' on {where} (got "
                f"{len(fields)} tab-separated fields): one tab between the nodes, the label "
                "and the split (which may be left out on every line)"
            )
        counts.add(len(fields))
        if len(counts) > 1:
            raise InputError(
                f"Line {line_no} of '{path}' has {'no split' if len(fields) == 2 else 'a split'}"
                f" and earlier lines {'have one' if len(fields) == 2 else 'none'}: give every "
                "subgraph its split (train, val or test), or none (a seeded stratified split "
                "is then drawn)"
            )
        nodes_text, label, split = (*(f.strip() for f in fields), "train")[:3]
        if not nodes_text:
            raise InputError(f"Empty node list on {where}: every subgraph needs a node")
        if re.search(r"[,;\s]", nodes_text):
            raise InputError(
                f"Expected a subgraph's node ids joined by '-' on {where} (got "
                f"{nodes_text[:50]!r}): write them as n1-n2-n3"
            )
        nodes = [_node_id(v, where) for v in nodes_text.split("-")]
        for node in nodes:
            if node >= n:
                raise InputError(
                    f"Subgraph on {where} names node {node}, which is not in the base graph "
                    f"('{path.parent / 'edge_list.txt'}' has nodes 0..{n - 1}): fix the id or "
                    "add the node's edges"
                )
        if len(set(nodes)) != len(nodes):
            twice = next(v for v in nodes if nodes.count(v) > 1)
            raise InputError(f"Subgraph on {where} lists node {twice} twice: list it once")
        if not label:
            raise InputError(f"Empty label on {where}: every subgraph needs a label")
        if not split:
            raise InputError(
                f"Empty split on {where}: expected 'train', 'val' (or 'valid') or 'test'"
            )
        try:
            parsed = parse_split(split, where)
        except ValueError:  # (its message allows an empty cell, as cards do; not this format)
            raise InputError(
                f"Unknown split {split!r} on {where}: expected 'train', 'val' (or 'valid') or "
                "'test'"
            ) from None
        node_sets.append(nodes)
        labels.append(label)
        splits.append(parsed or "")
    if not node_sets:
        raise InputError(f"'{path}' lists no subgraphs: one 'nodes<TAB>label<TAB>split' a line")
    return node_sets, labels, None if counts == {2} else splits
