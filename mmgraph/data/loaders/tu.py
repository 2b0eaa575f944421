"""Graph classification sets (MUTAG, PTC, ...) in the DGCNN/GIN text format."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor

from mmgraph.data.edges import make_undirected
from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.loaders._common import as_path
from mmgraph.data.subgraphs import SubgraphDataset, sort_labels
from mmgraph.errors import InputError, read_text

log = logging.getLogger(__name__)

FOLD_FOLDER = "10fold_idx"

FOLDS = 10
FOLD_SEED = 0
"""Sets without folds of their own (TU Dortmund files; DGCNN files without a
``10fold_idx/`` folder): ``FOLDS`` stratified folds are drawn with scikit-learn's
``StratifiedKFold(shuffle=True, random_state=FOLD_SEED)``, as the GIN authors' code draws
them."""

T = TypeVar("T", int, float)


def find_tu_file(root: str | Path, name: str | None = None) -> Path:
    """The ``<NAME>.txt`` file: ``root``, ``root/<NAME>.txt`` or ``root/<NAME>/<NAME>.txt``."""
    p = as_path(root, "TU data set folder")
    if p.is_file():
        return p
    if name is None:
        name = p.name
    for folder in (p, p / name, p / name.upper()):
        for candidate in (folder / f"{name}.txt", folder / f"{name.upper()}.txt"):
            if candidate.is_file():
                return candidate
    if p.is_dir():
        for child in p.iterdir():
            if child.is_dir() and child.name.lower() == name.lower():
                for candidate in child.iterdir():
                    if candidate.name.lower() == f"{name.lower()}.txt":
                        return candidate
        lone = _lone_dgcnn_file(p)
        if lone is not None:  # a renamed folder: its one file names the set
            return lone
    raise FileNotFoundError(
        f"No '{name}.txt' found in '{p}' or '{p / name}': pass the folder that holds the "
        "DGCNN-format file (with its 10fold_idx/ folder) or the file itself"
    )


def is_tu_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding a DGCNN-format set.

    That is ``<folder name>.txt``, or, in a folder renamed since (``MUTAG_v2/MUTAG.txt``), a
    single ``.txt`` file that starts with the number of graphs, beside a ``10fold_idx/``
    folder or alone.
    """
    p = Path(path)
    return p.is_dir() and ((p / f"{p.name}.txt").is_file() or _lone_dgcnn_file(p) is not None)


def _lone_dgcnn_file(folder: Path) -> Path | None:
    """The folder's only ``.txt`` file when its first line is one integer, else None."""
    texts = [f for f in folder.iterdir() if f.suffix.lower() == ".txt" and f.is_file()]
    if len(texts) != 1:
        return None
    try:
        with texts[0].open(encoding="utf-8-sig") as fh:
            first = fh.readline().split()
    except (OSError, UnicodeDecodeError):
        return None
    return texts[0] if len(first) == 1 and first[0].isdigit() else None


def load_tu(root: str | Path, name: str | None = None) -> SubgraphDataset:
    """Load a graph classification set in the DGCNN/GIN text format as one disjoint union.

    ``<NAME>.txt`` starts with the number of graphs; each graph is a line ``n label``
    followed by ``n`` node lines ``tag degree neighbour_1 ... neighbour_degree`` (local,
    0-based node ids), optionally followed by continuous node features. The base graph is
    the disjoint union of all graphs (edges symmetrised); subgraph ``i`` is the node set of
    graph ``i`` (``whole_graphs=True``). Node tags become the categorical column ``tag``
    (vocabulary: the sorted tag values), node features (if any) the ``numeric`` modality,
    and graph labels the classes (sorted label values). ``node_id`` is ``"<graph>:<node>"``.

    The folds in ``10fold_idx/train_idx-K.txt`` and ``test_idx-K.txt`` (K = 1..10) become
    ``folds`` as ``(train_idx, test_idx)`` pairs; without that folder, ten seeded stratified
    folds are drawn (:func:`stratified_folds`), as for TU Dortmund files. In the published
    files the indices are 0-based graph indices (they include 0 and never reach the graph
    count); files whose indices run from 1 to the graph count are read as 1-based. MUTAG's
    folds have 18 test graphs each, so 8 graphs are never in a test fold.

    Args:
        root (str or Path): A folder holding ``<NAME>/<NAME>.txt``, the ``<NAME>`` folder
            itself, or the ``.txt`` file.
        name (str, optional): The data set name, e.g. ``MUTAG``, to find ``<NAME>.txt``
            under ``root`` (any case; default: the folder name). The data set takes the
            file's name.
    """
    path = find_tu_file(root, name)
    name = path.stem
    lines = read_text(path, "TU data set file").split("\n")
    if not any(line.strip() for line in lines):
        raise InputError(f"'{path}' is empty: it should start with the number of graphs")
    pos = 0

    def next_line(what: str) -> list[str]:
        nonlocal pos
        last = pos
        while pos < len(lines) and not lines[pos].strip():
            pos += 1
        if pos >= len(lines):
            raise InputError(
                f"'{path}' ends early: expected {what} after line {last}; is the file truncated?"
            )
        pos += 1
        return lines[pos - 1].split()

    def numbers(parts: list[str], cast: Callable[[str], T], expected: str) -> list[T]:
        try:
            return [cast(v) for v in parts]
        except ValueError:
            raise InputError(
                f"Expected {expected} on line {pos} of '{path}' (got {' '.join(parts)[:50]!r})"
            ) from None

    def ints(parts: list[str], what: str, low: int = 0) -> list[int]:
        values = numbers(parts, int, f"integers for {what}")
        for value in values:
            if value < low:
                raise InputError(
                    f"Expected {what} to be at least {low} on line {pos} of '{path}' (got {value})"
                )
        return values

    (num_graphs,) = ints(next_line("the number of graphs")[:1], "the number of graphs", 1)
    labels: list[str] = []
    tags: list[int] = []
    features: list[list[float]] = []
    src: list[int] = []
    dst: list[int] = []
    node_sets: list[Tensor] = []
    node_ids: list[str] = []
    offset = 0
    for g in range(num_graphs):
        head = next_line(f"the 'n label' line of graph {g}")
        if len(head) != 2:
            raise InputError(
                f"Expected 'n label' on line {pos} of '{path}' (graph {g}; got {len(head)} "
                "values): is a node line missing above?"
            )
        (n,) = ints(head[:1], f"the node count of graph {g}", 1)
        labels.append(head[1])
        for i in range(n):
            parts = next_line(f"node {i} of graph {g}")
            if len(parts) < 2:
                raise InputError(
                    f"Expected 'tag degree neighbours...' on line {pos} of '{path}' (graph {g}, "
                    f"node {i})"
                )
            (tag,) = ints(parts[:1], f"the tag of node {i} of graph {g}", -(2**62))
            (degree,) = ints(parts[1:2], f"the degree of node {i} of graph {g}")
            if len(parts) < 2 + degree:
                raise InputError(
                    f"Node {i} of graph {g} (line {pos} of '{path}') has degree {degree} but "
                    f"lists {len(parts) - 2} values"
                )
            neighbours = ints(parts[2 : 2 + degree], f"the neighbours of node {i} of graph {g}")
            for j in neighbours:
                if not 0 <= j < n:
                    raise InputError(
                        f"Node {i} of graph {g} (line {pos} of '{path}') names neighbour {j} "
                        f"but the graph has {n} nodes (ids 0..{n - 1})"
                    )
                src.append(offset + i)
                dst.append(offset + j)
            tags.append(tag)
            extra = parts[2 + degree :]
            values = numbers(extra, float, "numeric node features after the neighbours")
            if not all(math.isfinite(v) for v in values):
                raise InputError(
                    f"Node {i} of graph {g} (line {pos} of '{path}') has a NaN or infinite "
                    "feature: give finite values"
                )
            features.append(values)
            node_ids.append(f"{g}:{i}")
        node_sets.append(torch.arange(offset, offset + n))
        offset += n
    while pos < len(lines) and not lines[pos].strip():
        pos += 1
    if pos < len(lines):
        raise InputError(
            f"'{path}' goes on after its {num_graphs} graphs (line {pos + 1}: "
            f"{lines[pos].strip()[:50]!r}): the first line gives the number of graphs; fix it"
        )

    numeric = None
    dims = {len(f) for f in features}
    if dims != {0}:
        if len(dims) != 1:
            raise InputError(
                f"Node feature counts differ between nodes in '{path}' ({sorted(dims)}): every "
                "node needs the same number of features"
            )
        numeric = torch.tensor(features, dtype=torch.float)
    edge_index = torch.tensor([src, dst], dtype=torch.long).view(2, -1)
    return whole_graph_dataset(
        name,
        edge_index,
        tags,
        node_ids,
        node_sets,
        labels,
        _read_folds(path.parent / FOLD_FOLDER, num_graphs) or stratified_folds(labels, FOLDS, name),
        numeric=numeric,
        numeric_prefix="feature",
    )


def stratified_folds(
    labels: list[str], folds: int, name: str
) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    """``folds`` seeded stratified ``(train_idx, test_idx)`` pairs, or :obj:`None`."""
    if folds < 2:
        return None
    _, counts = np.unique(np.array(labels), return_counts=True)
    if counts.min() < folds:
        log.warning(
            "%s: a class has %d graphs, fewer than %d folds: loading without folds (a seeded "
            "80/10/10 split is drawn instead)",
            name,
            int(counts.min()),
            folds,
        )
        return None
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=FOLD_SEED)
    return [
        (torch.from_numpy(train).long(), torch.from_numpy(test).long())
        for train, test in splitter.split(np.zeros(len(labels)), labels)
    ]


def whole_graph_dataset(
    name: str,
    edge_index: Tensor,
    tags: list[int],
    node_ids: list[str],
    node_sets: list[Tensor],
    labels: list[str],
    folds: list[tuple[Tensor, Tensor]] | None,
    numeric: Tensor | None = None,
    numeric_prefix: str = "feature",
) -> SubgraphDataset:
    """The graphs of a TU set as one disjoint union (both TU formats end here).

    ``tags`` (one int a node) become the categorical column ``tag`` (vocabulary: the
    sorted values), ``numeric`` (``[N, F]``) the numeric modality (``<prefix>_<i>``), the
    edges are symmetrised, and ``node_sets[i]`` with ``labels[i]`` is graph ``i``.
    """
    num_nodes = len(tags)
    values = sorted(set(tags))
    code = {t: i + 1 for i, t in enumerate(values)}
    kwargs: dict[str, Any] = {}
    if numeric is not None:
        kwargs["numeric"] = numeric
        kwargs["numeric_names"] = [f"{numeric_prefix}_{i}" for i in range(numeric.size(1))]
    edge_index, _, _ = make_undirected(edge_index, num_nodes)
    graph = MultimodalGraph(
        edge_index,
        num_nodes=num_nodes,
        categorical=torch.tensor([code[t] for t in tags], dtype=torch.long).view(-1, 1),
        categorical_names=["tag"],
        categorical_vocabs=[[str(t) for t in values]],
        node_id=node_ids,
        name=name,
        **kwargs,
    )
    return SubgraphDataset.from_lists(
        graph,
        node_sets,
        labels,
        class_names=sort_labels(labels),
        folds=folds,
        whole_graphs=True,
        name=name,
    )


def _read_folds(folder: Path, num_graphs: int) -> list[tuple[Tensor, Tensor]] | None:
    if not folder.is_dir():
        log.info("No fold folder '%s': %d seeded stratified folds are drawn", folder, FOLDS)
        return None
    pattern = re.compile(r"^(train|test)_idx-(\d+)\.txt$")
    found: dict[int, dict[str, Path]] = {}
    for f in folder.iterdir():
        match = pattern.match(f.name)
        if match:
            found.setdefault(int(match.group(2)), {})[match.group(1)] = f
    if not found:
        return None
    raw: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]] = []
    for k in sorted(found):
        parts = found[k]
        for part in ("train", "test"):
            if part not in parts:
                raise FileNotFoundError(
                    f"Fold {k} has no '{part}_idx-{k}.txt' in '{folder}': each fold needs both "
                    "a train and a test index file"
                )
        raw.append((_read_index(parts["train"]), _read_index(parts["test"])))
    values = [i for tr, te in raw for i, _ in tr + te]
    lo, hi = min(values, default=0), max(values, default=0)
    shift = 0
    if lo >= 1 and hi == num_graphs:
        log.info("Fold indices in '%s' run 1..%d: read as 1-based", folder, num_graphs)
        shift = 1
    elif lo < 0 or hi >= num_graphs:
        for k, (tr, te) in zip(sorted(found), raw):
            for part, rows in (("train", tr), ("test", te)):
                for value, line_no in rows:
                    if not 0 <= value < num_graphs:
                        raise InputError(
                            f"Fold indices in '{folder}' run {lo}..{hi} but there are "
                            f"{num_graphs} graphs: index {value} on line {line_no} of "
                            f"'{found[k][part]}' is out of range; expected 0-based indices in "
                            f"[0, {num_graphs})"
                        )
    return [
        (
            torch.tensor([i for i, _ in tr], dtype=torch.long) - shift,
            torch.tensor([i for i, _ in te], dtype=torch.long) - shift,
        )
        for tr, te in raw
    ]


def _read_index(path: Path) -> list[tuple[int, int]]:
    """The graph indices of a fold file, each with its line number."""
    out = []
    for line_no, line in enumerate(read_text(path, "fold index file").split("\n"), start=1):
        text = line.strip()
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            raise InputError(
                f"Expected one graph index a line in '{path}' (line {line_no}: {text[:50]!r})"
            ) from None
        if not math.isfinite(value) or value != int(value):
            raise InputError(f"Expected integer graph indices in '{path}' (line {line_no})")
        out.append((int(value), line_no))
    return out
