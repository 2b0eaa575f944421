"""Planetoid citation graphs (Cora, CiteSeer, PubMed) from their raw ``ind.<name>.*`` files."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from mmgraph.data.graph import UNLABELLED, MultimodalGraph
from mmgraph.data.loaders._common import as_path
from mmgraph.data.loaders._pickle import (
    CONTAINER_GLOBALS,
    NUMPY_GLOBALS,
    SPARSE_GLOBALS,
    SparseState,
    safe_unpickle,
)
from mmgraph.errors import InputError, read_text

log = logging.getLogger(__name__)

PLANETOID_NAMES: dict[str, str] = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
"""Lower-case name -> folder name of the Planetoid data sets."""

_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")

_MATRIX_GLOBALS = {**NUMPY_GLOBALS, **SPARSE_GLOBALS}
"""What a feature or label file may name: NumPy arrays and SciPy sparse matrices."""

_GRAPH_GLOBALS = CONTAINER_GLOBALS
"""What ``ind.<name>.graph`` may name: ``defaultdict`` and plain containers."""

_NUM_VAL = 500
"""Validation nodes of the public split: the 500 after the training nodes."""

_MAX_DENSE = 2**30
"""Most values a feature matrix may hold when densified (4 GiB of float32)."""


def find_planetoid_raw(root: str | Path, name: str) -> Path:
    """The folder holding ``ind.<name>.*``: ``root/<Name>/raw``, ``root/raw`` or ``root``."""
    base = as_path(root, "Planetoid root folder")
    key = _file_key(name)
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

    Reads ``ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}`` with our own reader, which
    builds the same tensors as PyG's :func:`torch_geometric.io.read_planetoid_data` but
    unpickles with an allow list (NumPy arrays, SciPy csr/csc/coo matrices,
    ``defaultdict``/``list``/``dict``; see :mod:`mmgraph.data.loaders._pickle`): a file
    that names anything else (``os.system``...) is refused with
    :class:`~mmgraph.errors.UnsafeFileError` before it can run. Empty, truncated or
    inconsistent files (rows of ``x`` and ``y`` that disagree, a test id or neighbour
    beyond the graph, a label row that is not one-hot) raise
    :class:`~mmgraph.errors.InputError` naming the file.

    The bag-of-words vectors become the ``numeric`` modality; ``y`` and the public split
    (20 labelled nodes per class for training, the next 500 nodes for validation, the
    1,000 nodes of ``test.index`` for testing) come with it; edges are the directed pairs
    of the symmetric citation graph without self loops, sorted by target then source as
    PyG sorts them (Cora: 2,708 nodes, 10,556 edges, 7 classes).

    Nodes ``0 .. len(allx) - 1`` take the rows of ``allx``/``ally``, node
    ``test.index[i]`` the row ``i`` of ``tx``/``ty``. CiteSeer lists 15 nodes in the
    range of test ids that are not in ``test.index`` (they have no features, label or
    edges). PyG fills them with zeros; here they are marked missing instead: their
    ``numeric`` row is NaN, ``numeric_present`` is false and their label is -1
    (unlabelled). They are in no split. A label row of zeros is unlabelled too (none in
    Cora or CiteSeer).

    Args:
        root (str or Path): A folder holding ``<Name>/raw/`` (PyG's layout), or the data
            set folder itself (holding ``raw/``), or the raw folder.
        name (str): ``cora``, ``citeseer`` or ``pubmed`` (any case), or the ``<name>`` of
            any other set of files in this format (as its files spell it).

    Returns:
        The graph, with ``node_id`` the row numbers. The raw files hold no topic names, so
        ``class_names`` are the label numbers (``"0"``, ``"1"``, ...).
    """
    key = _file_key(name)
    folder = find_planetoid_raw(root, key)
    for suffix in _SUFFIXES:
        if not (folder / f"ind.{key}.{suffix}").is_file():
            raise FileNotFoundError(
                f"Planetoid raw file 'ind.{key}.{suffix}' not found in '{folder}': all of "
                f"{', '.join(f'ind.{key}.{s}' for s in _SUFFIXES)} are needed"
            )
    raw = PlanetoidFiles.read(folder, key)
    return raw.to_graph(PLANETOID_NAMES.get(key, name))


def _file_key(name: str) -> str:
    """The ``<name>`` of the files: lower case for the three sets, else as given."""
    return name.lower() if name.lower() in PLANETOID_NAMES else name


class PlanetoidFiles:
    """The checked contents of one set of ``ind.<name>.*`` files (see :func:`load_planetoid`).

    Use :meth:`read`; attributes: ``x``, ``tx``, ``allx`` (float32 arrays ``[rows, F]``),
    ``y``, ``ty``, ``ally`` (arrays ``[rows, C]``), ``graph`` (node -> neighbour ids),
    ``test_index`` (long ``[len(tx)]``), ``num_nodes``.
    """

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key
        self.arrays: dict[str, np.ndarray] = {}
        self.graph: dict[int, list[int]] = {}
        self.test_index = torch.empty(0, dtype=torch.long)
        self.num_nodes = 0

    def path(self, suffix: str) -> Path:
        """The path of ``ind.<name>.<suffix>``."""
        return self.folder / f"ind.{self.key}.{suffix}"

    @classmethod
    def read(cls, folder: Path, key: str) -> PlanetoidFiles:
        """Read and check all eight files of ``ind.<key>.*`` in ``folder``."""
        files = cls(folder, key)
        for suffix in ("x", "tx", "allx", "y", "ty", "ally"):
            files.arrays[suffix] = _matrix(files.path(suffix))
        files._check_shapes()
        graph = safe_unpickle(files.path("graph"), _GRAPH_GLOBALS, "a Planetoid graph file")
        files.test_index = _read_test_index(files.path("test.index"))
        files._check_test_index(graph)
        files.graph = _adjacency(graph, files.num_nodes, files.path("graph"))
        return files

    def _check_shapes(self) -> None:
        a = self.arrays
        pairs = (("x", "y"), ("tx", "ty"), ("allx", "ally"))
        for features, labels in pairs:
            if a[features].shape[0] != a[labels].shape[0]:
                raise InputError(
                    f"'{self.path(features)}' has {a[features].shape[0]} rows but "
                    f"'{self.path(labels)}' has {a[labels].shape[0]}: one label row per "
                    "feature row is needed; the files do not belong together"
                )
        for group in (("x", "tx", "allx"), ("y", "ty", "ally")):
            widths = {s: a[s].shape[1] for s in group}
            if len(set(widths.values())) != 1:
                raise InputError(
                    f"The Planetoid files {', '.join(str(self.path(s)) for s in group)} "
                    f"differ in width ({widths}): they need the same number of columns"
                )
        if a["x"].shape[0] > a["allx"].shape[0]:
            raise InputError(
                f"'{self.path('x')}' has {a['x'].shape[0]} training rows but "
                f"'{self.path('allx')}' only {a['allx'].shape[0]}: the training nodes are the "
                "first rows of allx; the files do not belong together"
            )
        for name in ("y", "ty", "ally"):
            onehot = a[name]
            bad = ~np.isin(onehot, (0, 1)) | (onehot.sum(axis=1, keepdims=True) > 1)
            if bad.any():
                row = int(np.argwhere(bad)[0][0])
                raise InputError(
                    f"Row {row} of '{self.path(name)}' is not a one-hot label "
                    f"({onehot[row][:10].tolist()}...): label rows hold a single 1 (or all "
                    "zeros for unlabelled)"
                )

    def _check_test_index(self, graph: Any) -> None:
        index, path = self.test_index, self.path("test.index")
        n_all, n_test = self.arrays["allx"].shape[0], self.arrays["tx"].shape[0]
        if index.numel() != n_test:
            raise InputError(
                f"'{path}' lists {index.numel()} test nodes but '{self.path('tx')}' has "
                f"{n_test} rows: one test id per row of tx is needed"
            )
        limit = max(len(graph) if isinstance(graph, Mapping) else 0, n_all + n_test)
        for value in index.tolist():
            if not n_all <= value < limit:
                raise InputError(
                    f"'{path}' names test node {value}, outside [{n_all}, {limit}) (after the "
                    f"{n_all} rows of allx, within the {limit} nodes of the graph): fix the id"
                )
        if index.unique().numel() != index.numel():
            values, counts = index.unique(return_counts=True)
            raise InputError(
                f"'{path}' names test node {int(values[counts > 1][0])} twice: each test id once"
            )
        self.num_nodes = max(n_all, int(index.max()) + 1 if index.numel() else 0)

    def to_graph(self, name: str) -> MultimodalGraph:
        """The :class:`MultimodalGraph` of these files (see :func:`load_planetoid`)."""
        a, n, test_index = self.arrays, self.num_nodes, self.test_index
        n_all = a["allx"].shape[0]
        numeric = torch.full((n, a["allx"].shape[1]), float("nan"))
        numeric[:n_all] = torch.from_numpy(a["allx"]).float()
        numeric[test_index] = torch.from_numpy(a["tx"]).float()
        onehot = torch.zeros(n, a["ally"].shape[1])
        onehot[:n_all] = torch.from_numpy(a["ally"]).float()
        onehot[test_index] = torch.from_numpy(a["ty"]).float()
        present = torch.zeros(n, dtype=torch.bool)
        present[:n_all] = True
        present[test_index] = True
        if not bool(present.all()):
            log.info(
                "%s: %d nodes without features or labels marked missing",
                name,
                int((~present).sum()),
            )
        y = onehot.max(dim=1)[1]
        y[onehot.sum(dim=1) == 0] = UNLABELLED
        num_train = a["y"].shape[0]
        train_mask = torch.zeros(n, dtype=torch.bool)
        train_mask[:num_train] = True
        val_mask = torch.zeros(n, dtype=torch.bool)
        val_mask[num_train : min(num_train + _NUM_VAL, n_all)] = True
        test_mask = torch.zeros(n, dtype=torch.bool)
        test_mask[test_index] = True
        num_classes = a["ally"].shape[1]
        return MultimodalGraph(
            _edge_index(self.graph, n),
            numeric=numeric,
            presence={"numeric": present},
            numeric_names=[f"word_{i}" for i in range(numeric.size(1))],
            y=y,
            class_names=[str(c) for c in range(num_classes)],
            train_mask=train_mask,
            val_mask=val_mask,
            test_mask=test_mask,
            node_id=[str(i) for i in range(n)],
            name=name,
        )


def _matrix(path: Path) -> np.ndarray:
    """A feature or label file as a dense 2-D float32 or int array, checked."""
    obj = safe_unpickle(path, _MATRIX_GLOBALS, "a Planetoid feature or label file")
    if isinstance(obj, SparseState):
        obj = _sparse(obj, path)
    elif isinstance(obj, np.ndarray):
        if obj.ndim != 2:
            raise InputError(
                f"'{path}' holds a {obj.ndim}-D array of shape {list(obj.shape)}: Planetoid "
                "files hold a 2-D matrix (rows are nodes)"
            )
        if obj.dtype.kind not in "biuf":
            raise InputError(
                f"'{path}' holds an array of {obj.dtype}: Planetoid files hold numbers"
            )
    else:
        raise InputError(
            f"'{path}' holds a {type(obj).__name__}, not a matrix: is it a Planetoid "
            "feature (x, tx, allx) or label (y, ty, ally) file?"
        )
    if obj.dtype.kind == "f" and not np.isfinite(obj).all():
        raise InputError(f"'{path}' holds NaN or infinite values: Planetoid features are finite")
    return obj


def _sparse(state: SparseState, path: Path) -> np.ndarray:
    """Check a pickled SciPy matrix's arrays and densify it."""
    import scipy.sparse as sp

    fields = state.state
    shape = fields.get("_shape", fields.get("shape"))
    keys = {"csr": ("data", "indices", "indptr"), "csc": ("data", "indices", "indptr")}
    needed = keys.get(state.kind, ("data", "row", "col"))
    if state.kind == "coo" and "coords" in fields and "row" not in fields:
        coords = fields["coords"]
        if isinstance(coords, tuple) and len(coords) == 2:
            fields = {**fields, "row": coords[0], "col": coords[1]}
    missing = [k for k in needed if not isinstance(fields.get(k), np.ndarray)]
    if (
        missing
        or not isinstance(shape, tuple)
        or len(shape) != 2
        or not all(isinstance(v, int) and v >= 0 for v in shape)
    ):
        raise InputError(
            f"'{path}' holds a {state.kind} sparse matrix without valid "
            f"{', '.join(missing) or 'shape'}: the file is corrupt; replace it"
        )
    rows, cols = shape
    if rows * cols > _MAX_DENSE:
        raise InputError(
            f"'{path}' declares a {rows} x {cols} matrix, too large to load as dense "
            f"features (more than {_MAX_DENSE:,} values): is the file corrupt?"
        )
    arrays = tuple(fields[k] for k in needed)
    try:
        if state.kind == "coo":
            matrix: Any = sp.coo_matrix((arrays[0], (arrays[1], arrays[2])), shape=shape)
        else:
            build = sp.csr_matrix if state.kind == "csr" else sp.csc_matrix
            matrix = build(arrays, shape=shape)
            matrix.check_format(full_check=True)
        dense = matrix.toarray()
    except (ValueError, TypeError, IndexError) as error:
        raise InputError(
            f"'{path}' holds an inconsistent {state.kind} sparse matrix ({error}): the file is "
            "corrupt; replace it"
        ) from None
    if dense.dtype.kind not in "biuf":
        raise InputError(f"'{path}' holds a sparse matrix of {dense.dtype}: expected numbers")
    return dense


def _read_test_index(path: Path) -> Tensor:
    values = []
    for line_no, line in enumerate(read_text(path, "Planetoid test index").splitlines(), 1):
        text = line.strip()
        if not text:
            continue
        try:
            values.append(int(text))
        except ValueError:
            raise InputError(
                f"Expected one integer node id a line in '{path}' (line {line_no}: {text[:50]!r})"
            ) from None
    if not values:
        raise InputError(f"'{path}' is empty: it should list the test node ids, one a line")
    return torch.tensor(values, dtype=torch.long)


def _adjacency(graph: Any, n: int, path: Path) -> dict[int, list[int]]:
    """The ``node -> neighbours`` mapping of the graph file, every id checked in ``[0, n)``."""
    if not isinstance(graph, Mapping):
        raise InputError(
            f"'{path}' holds a {type(graph).__name__}: a Planetoid graph file holds a dict of "
            "node id -> list of neighbour ids"
        )
    out: dict[int, list[int]] = {}
    for node, neighbours in graph.items():
        if not isinstance(neighbours, (list, tuple, set, frozenset)):
            raise InputError(
                f"Node {node!r} of '{path}' maps to a {type(neighbours).__name__}, not a list "
                "of neighbour ids"
            )
        for value in (node, *neighbours):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise InputError(
                    f"'{path}' holds the node id {value!r} ({type(value).__name__}): node ids "
                    "are integers"
                )
            if not 0 <= int(value) < n:
                raise InputError(
                    f"'{path}' names node {int(value)} but the feature files cover {n} nodes "
                    f"(ids 0..{n - 1}): the files do not belong together"
                )
        out[int(node)] = [int(v) for v in neighbours]
    return out


def _edge_index(graph: dict[int, list[int]], n: int) -> Tensor:
    """Directed pairs without self loops or duplicates, sorted by target then source."""
    rows = [node for node, neighbours in graph.items() for _ in neighbours]
    cols = [v for neighbours in graph.values() for v in neighbours]
    row = torch.tensor(rows, dtype=torch.long)
    col = torch.tensor(cols, dtype=torch.long)
    keep = row != col
    key = torch.unique(col[keep] * n + row[keep])  # sorted
    return torch.stack([key % n, key // n])
