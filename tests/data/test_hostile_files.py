"""Hostile and broken input files: each is refused with one clear error, none runs code.

Every case checks the error type (:class:`InputError` or :class:`UnsafeFileError`, never
a traceback type such as ``EOFError`` or ``IndexError``) and that the message names the
file, and, where it runs code, that the code did not run.
"""

from __future__ import annotations

import builtins
import json
import os
import pickle
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import yaml
from torch_geometric.io import read_planetoid_data

from mmgraph.data.loaders import (
    load_card,
    load_planetoid,
    load_subgnn,
    load_tu,
    load_twibot,
    load_webkb,
)
from mmgraph.data.loaders._pickle import NUMPY_GLOBALS, safe_unpickle
from mmgraph.errors import InputError, UnsafeFileError


# =================================================================== Planetoid
@pytest.fixture
def cora_raw(shared_data: Path, tmp_path: Path) -> Path:
    """A writable copy of Cora's raw files."""
    raw = tmp_path / "Cora" / "raw"
    shutil.copytree(shared_data / "planetoid" / "Cora" / "raw", raw)
    return raw


@pytest.mark.parametrize(("name", "folder"), [("cora", "Cora"), ("citeseer", "CiteSeer")])
def test_planetoid_reader_matches_pyg(shared_data: Path, name: str, folder: str) -> None:
    graph = load_planetoid(shared_data / "planetoid", name)
    data = read_planetoid_data(str(shared_data / "planetoid" / folder / "raw"), name)
    present = graph.numeric_present
    assert graph.num_nodes == data.num_nodes
    assert torch.equal(graph.edge_index, data.edge_index)
    assert torch.equal(graph.numeric[present], data.x[present])
    assert torch.equal(graph.y[present], data.y[present])
    for mask in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(getattr(graph, mask), getattr(data, mask))
    # PyG fills CiteSeer's featureless rows with zeros; we mark them missing.
    assert bool((data.x[~present] == 0).all())
    assert bool(torch.isnan(graph.numeric[~present]).all())
    assert bool((graph.y[~present] == -1).all())


class _Payload:
    """Pickles as a call of ``func(*args)``: what a crafted file does."""

    def __init__(self, func: object, *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


def _payloads(marker: Path) -> dict[str, object]:
    touch = f"open({str(marker)!r}, 'w').close()"
    matrix = sp.csr_matrix(np.eye(3, dtype=np.float32))
    matrix.data = _Payload(builtins.exec, touch)  # hidden inside a genuine-looking matrix
    return {
        "os.system": _Payload(os.system, f"touch '{marker}'"),
        "builtins.exec": _Payload(builtins.exec, touch),
        "builtins.eval": _Payload(builtins.eval, touch),
        "pathlib.Path.touch": _Payload(Path.touch, marker),
        "inside a csr matrix": matrix,
    }


def test_the_payloads_do_run_code_under_plain_pickle(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    data = pickle.dumps(_Payload(builtins.exec, f"open({str(marker)!r}, 'w').close()"))
    pickle.loads(data)  # noqa: S301 (shows the payload works)
    assert marker.exists()


@pytest.mark.parametrize("payload", list(_payloads(Path("m"))))
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_malicious_planetoid_file_is_refused_and_runs_nothing(
    cora_raw: Path, tmp_path: Path, payload: str, protocol: int
) -> None:
    marker = tmp_path / "ran"
    (cora_raw / "ind.cora.x").write_bytes(
        pickle.dumps(_payloads(marker)[payload], protocol=protocol)
    )
    with pytest.raises(UnsafeFileError, match=r"ind\.cora\.x' asks to load '.*refusing"):
        load_planetoid(cora_raw, "cora")
    assert not marker.exists()


def test_malicious_graph_file_is_refused(cora_raw: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (cora_raw / "ind.cora.graph").write_bytes(
        pickle.dumps({0: _Payload(os.system, f"touch '{marker}'")}, protocol=2)
    )
    with pytest.raises(UnsafeFileError, match=r"ind\.cora\.graph' asks to load 'posix\.system'"):
        load_planetoid(cora_raw, "cora")
    assert not marker.exists()


def test_the_refusal_names_the_global(tmp_path: Path) -> None:
    path = tmp_path / "ind.cora.x"
    path.write_bytes(b"cos\nsystem\n(S'true'\ntR.")  # protocol 0: os.system('true')
    with pytest.raises(UnsafeFileError) as info:
        safe_unpickle(path, NUMPY_GLOBALS, "a Planetoid file")
    assert str(info.value).startswith(
        f"'{path}' asks to load 'os.system', which a Planetoid file never holds: refusing to "
        "unpickle it"
    )


def test_object_arrays_are_refused(cora_raw: Path) -> None:
    array = np.array([{"a": 1}, [2]], dtype=object)
    (cora_raw / "ind.cora.y").write_bytes(pickle.dumps(array, protocol=2))
    with pytest.raises(UnsafeFileError, match=r"ind\.cora\.y' .*array of Python objects"):
        load_planetoid(cora_raw, "cora")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"this is not a pickle\n", id="garbage"),
        pytest.param(b"\x80\x02", id="header-only"),
        pytest.param(None, id="truncated"),
    ],
)
@pytest.mark.parametrize("suffix", ["x", "allx", "graph"])
def test_broken_planetoid_pickles_name_the_file(
    cora_raw: Path, content: bytes | None, suffix: str
) -> None:
    path = cora_raw / f"ind.cora.{suffix}"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if content is None else content)
    with pytest.raises(InputError, match=rf"'{path}' is not a readable pickle"):
        load_planetoid(cora_raw, "cora")


def _dump(path: Path, obj: object) -> None:
    path.write_bytes(pickle.dumps(obj, protocol=2))


def test_inconsistent_planetoid_files(cora_raw: Path) -> None:
    x = cora_raw / "ind.cora.x"
    _dump(x, [1, 2, 3])
    with pytest.raises(InputError, match=r"ind\.cora\.x' holds a list, not a matrix"):
        load_planetoid(cora_raw, "cora")
    _dump(x, np.zeros((3, 1433), dtype=np.float32))
    with pytest.raises(InputError, match=r"ind\.cora\.x' has 3 rows but .*ind\.cora\.y' has 140"):
        load_planetoid(cora_raw, "cora")
    _dump(x, np.zeros(140, dtype=np.float32))
    with pytest.raises(InputError, match=r"1-D array .*2-D matrix"):
        load_planetoid(cora_raw, "cora")
    _dump(x, np.full((140, 1433), np.nan, dtype=np.float32))
    with pytest.raises(InputError, match="NaN or infinite"):
        load_planetoid(cora_raw, "cora")
    # a sparse matrix whose column ids run past its width
    bad = sp.csr_matrix(np.eye(140, 1433, dtype=np.float32))
    bad.indices[0] = 5000
    _dump(x, bad)
    with pytest.raises(InputError, match=r"ind\.cora\.x' holds an inconsistent csr"):
        load_planetoid(cora_raw, "cora")
    # a tiny file that declares a huge matrix
    _dump(x, sp.csr_matrix((10**6, 10**6), dtype=np.float32))
    with pytest.raises(InputError, match=r"declares a 1000000 x 1000000 matrix"):
        load_planetoid(cora_raw, "cora")


def test_planetoid_labels_must_be_one_hot(cora_raw: Path) -> None:
    y = pickle.loads((cora_raw / "ind.cora.y").read_bytes())  # noqa: S301 (trusted copy)
    y[3] = 1
    _dump(cora_raw / "ind.cora.y", y)
    with pytest.raises(InputError, match=r"Row 3 of '.*ind\.cora\.y' is not a one-hot label"):
        load_planetoid(cora_raw, "cora")


def test_planetoid_test_index_errors(cora_raw: Path) -> None:
    path = cora_raw / "ind.cora.test.index"
    ids = path.read_text().split()
    path.write_text("")
    with pytest.raises(InputError, match=r"test\.index' is empty"):
        load_planetoid(cora_raw, "cora")
    path.write_text("\n".join([*ids[:-1], "nine"]))
    with pytest.raises(InputError, match=r"line 1000: 'nine'"):
        load_planetoid(cora_raw, "cora")
    path.write_text("\n".join(ids[:-1]))
    with pytest.raises(InputError, match="lists 999 test nodes but .* has 1000 rows"):
        load_planetoid(cora_raw, "cora")
    path.write_text("\n".join([*ids[:-1], "99999999"]))
    with pytest.raises(InputError, match=r"test node 99999999, outside \[1708, 2708\)"):
        load_planetoid(cora_raw, "cora")
    path.write_text("\n".join([*ids[:-1], "5"]))
    with pytest.raises(InputError, match=r"test node 5, outside"):
        load_planetoid(cora_raw, "cora")
    path.write_text("\n".join([*ids[:-1], ids[0]]))
    with pytest.raises(InputError, match=rf"test node {ids[0]} twice"):
        load_planetoid(cora_raw, "cora")
    path.write_bytes(b"\xff\xfe1708\n")
    with pytest.raises(InputError, match=r"test\.index' is not UTF-8"):
        load_planetoid(cora_raw, "cora")


def test_planetoid_graph_errors(cora_raw: Path) -> None:
    path = cora_raw / "ind.cora.graph"
    graph = pickle.loads(path.read_bytes())  # noqa: S301 (trusted copy)
    graph[5] = [*graph[5], 99999999]
    _dump(path, graph)
    with pytest.raises(InputError, match=r"names node 99999999 but the feature files cover 2708"):
        load_planetoid(cora_raw, "cora")
    graph[5] = ["seven"]
    _dump(path, graph)
    with pytest.raises(InputError, match=r"node id 'seven' \(str\)"):
        load_planetoid(cora_raw, "cora")
    _dump(path, [[0, 1]])
    with pytest.raises(InputError, match=r"graph' holds a list: .*dict of node id"):
        load_planetoid(cora_raw, "cora")


@pytest.mark.parametrize("protocol", [0, 2, 4])
def test_planetoid_files_repickled_by_python3_still_load(
    shared_data: Path, cora_raw: Path, protocol: int
) -> None:
    for suffix in ("x", "tx", "allx", "y", "ty", "ally", "graph"):
        path = cora_raw / f"ind.cora.{suffix}"
        with warnings.catch_warnings():  # SciPy's old `scipy.sparse.csr` module name
            warnings.simplefilter("ignore", DeprecationWarning)
            obj = pickle.loads(path.read_bytes(), encoding="latin1")  # noqa: S301 (trusted copy)
        path.write_bytes(pickle.dumps(obj, protocol=protocol))
    a = load_planetoid(cora_raw, "cora")
    b = load_planetoid(shared_data / "planetoid", "cora")
    assert torch.equal(a.edge_index, b.edge_index)
    assert torch.equal(a.numeric, b.numeric)
    assert torch.equal(a.y, b.y)


# ====================================================================== SubGNN
def _subgnn(folder: Path, edges: str | bytes, subgraphs: str | bytes) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in (("edge_list.txt", edges), ("subgraphs.pth", subgraphs)):
        data = text.encode() if isinstance(text, str) else text
        (folder / name).write_bytes(data)
    return folder


EDGES = "0 1\n1 2\n2 3\n"


@pytest.mark.parametrize(
    ("edges", "subgraphs", "message"),
    [
        (
            EDGES,
            "0-99999999\tA\ttrain\n",
            r"line 1 of '.*subgraphs\.pth'.*names node 99999999, "
            r"which is not in the base graph \('.*edge_list\.txt' has nodes 0\.\.3\)",
        ),
        (EDGES, "0-1\tA\ttrain\n1-4\tB\ttest\n", r"line 2 of .* names node 4"),
        (EDGES, "0-1.5\tA\ttrain\n", r"non-negative integer node id on line 1 .* '1\.5'"),
        (EDGES, "0-1-\tA\ttrain\n", r"node id on line 1 .* \(got ''\)"),
        (EDGES, "0-1-1\tA\ttrain\n", r"lists node 1 twice"),
        (EDGES, "\tA\ttrain\n", r"Empty node list on line 1"),
        (EDGES, "0-1\t\ttrain\n", r"Empty label on line 1"),
        (EDGES, "0-1\tA\ttrain\n1-2\tB\t\n", r"Line 2 of .* has no split and earlier lines"),
        (EDGES, "0-1\tA\tdev\n", r"Unknown split 'dev' on line 1"),
        (EDGES, "0-1\n", r"line 1 .*got 1 tab-separated fields"),
        (EDGES, "0-1\tA\ttrain\textra\n", r"got 4 tab-separated fields"),
        (EDGES, "", r"subgraphs\.pth' lists no subgraphs"),
        (EDGES, b"0-1\t\xff\ttrain\n", r"subgraphs\.pth' is not UTF-8"),
        ("", "0\tA\ttrain\n", r"edge_list\.txt' is empty"),
        ("0 1\n2\n", "0\tA\ttrain\n", r"Expected 'u v' \(two node ids\) on line 2 .*got 1"),
        ("0 1 2\n", "0\tA\ttrain\n", r"got 3 values"),
        ("0 -1\n", "0\tA\ttrain\n", r"non-negative integer node id on line 1 .*'-1'"),
        ("0 99999999\n", "0\tA\ttrain\n", r"names node 99999999 on line 1 but has only 2 dist"),
        (b"0 1\n\x80 2\n", "0\tA\ttrain\n", r"edge_list\.txt' is not UTF-8"),
    ],
)
def test_broken_subgnn_files(
    tmp_path: Path, edges: str | bytes, subgraphs: str | bytes, message: str
) -> None:
    folder = _subgnn(tmp_path / "set", edges, subgraphs)
    with pytest.raises(InputError, match=message):
        load_subgnn(folder)


def test_subgnn_good_tiny_set(tmp_path: Path) -> None:
    folder = _subgnn(tmp_path / "set", EDGES + "\n", "0-1\tA\ttrain\r\n3\tB\tvalid\n\n")
    ds = load_subgnn(folder)
    assert ds.graph.num_nodes == 4
    assert [s.tolist() for s in ds.subgraphs] == [[0, 1], [3]]
    assert ds.val_mask.tolist() == [False, True]


# ========================================================================== TU
def _tu(tmp_path: Path, text: str | bytes, folds: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "T"
    folder.mkdir(exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    (folder / "T.txt").write_bytes(data)
    if folds:
        (folder / "10fold_idx").mkdir(exist_ok=True)
        for name, content in folds.items():
            (folder / "10fold_idx" / name).write_text(content)
    return folder


TWO_GRAPHS = "2\n2 0\n1 1 1\n1 1 0\n1 1\n2 0\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"T\.txt' is empty"),
        ("\n\n", r"T\.txt' is empty"),
        ("0\n", r"number of graphs to be at least 1 on line 1"),
        ("-3\n", r"number of graphs to be at least 1"),
        ("two\n", r"integers for the number of graphs on line 1 .*'two'"),
        ("2\n2 0\n1 1 1\n", r"ends early: expected node 1 of graph 0 after line 3; .*truncated"),
        ("1\n-2 0\n", r"node count of graph 0 to be at least 1 on line 2"),
        ("1\n0 0\n", r"node count of graph 0 to be at least 1"),
        ("1\n2\n1 0\n1 0\n", r"Expected 'n label' on line 2 .*got 1 values"),
        ("1\n1 0 7\n1 0\n", r"Expected 'n label' on line 2 .*got 3 values"),
        ("1\n1 0\n1 -1\n", r"degree of node 0 of graph 0 to be at least 0 on line 3"),
        ("1\n1 0\n1 1 99999999\n", r"names neighbour 99999999 but the graph has 1 nodes"),
        ("1\n1 0\n1 1 -1\n", r"neighbours of node 0 of graph 0 to be at least 0 on line 3"),
        ("1\n1 0\n1 0 nan\n", r"line 3 .* NaN or infinite feature"),
        ("1\n1 0\n1 0 x\n", r"numeric node features .* line 3 .*'x'"),
        (TWO_GRAPHS + "1 1\n", r"goes on after its 2 graphs \(line 7"),
        (b"1\n1 \xe9\n1 0\n", r"T\.txt' is not UTF-8"),
    ],
)
def test_broken_tu_files(tmp_path: Path, text: str | bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_tu(_tu(tmp_path, text))


def test_tu_fold_errors_name_the_file_and_line(tmp_path: Path) -> None:
    folder = _tu(tmp_path, TWO_GRAPHS, {"train_idx-1.txt": "0\n", "test_idx-1.txt": "1\n7\n"})
    with pytest.raises(InputError, match=r"index 7 on line 2 of '.*test_idx-1\.txt' is out of"):
        load_tu(folder)
    (folder / "10fold_idx" / "test_idx-1.txt").write_text("-1\n")
    with pytest.raises(InputError, match=r"index -1 on line 1 of '.*test_idx-1\.txt'"):
        load_tu(folder)
    (folder / "10fold_idx" / "test_idx-1.txt").write_bytes(b"\xff\n")
    with pytest.raises(InputError, match=r"test_idx-1\.txt' is not UTF-8"):
        load_tu(folder)
    (folder / "10fold_idx" / "test_idx-1.txt").write_text("1.5\n")
    with pytest.raises(InputError, match=r"integer graph indices in .*line 1"):
        load_tu(folder)
    (folder / "10fold_idx" / "test_idx-1.txt").write_text("1\n")
    ds = load_tu(folder)
    assert ds.folds is not None and ds.folds[0][1].tolist() == [1]


# ======================================================================= Cards
def _card(
    folder: Path, card: str, nodes: str | bytes = "id,label\na,x\nb,y\n", **files: str
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.yaml").write_text(card)
    (folder / "nodes.csv").write_bytes(nodes.encode() if isinstance(nodes, str) else nodes)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text)
    return folder / "dataset.yaml"


BASIC = "nodes: nodes.csv\nid: id\nlabel: label\n"


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("nodes: nodes.csv\nnodes: other.csv\n", r"card '.*dataset\.yaml', line 2 .*'nodes' twice"),
        ("nodes: [nodes.csv\n", r"Invalid YAML in the data set card '.*dataset\.yaml', line 2"),
        ("nodes: nodes.csv\n\tid: x\n", r"Invalid YAML .* line 2"),
        ("- nodes.csv\n", r"to hold a YAML mapping of keys \(got list\)"),
        ("nodes: nodes.csv\nallow_outside: yes please\n", r"'allow_outside' .* true or false"),
    ],
)
def test_broken_card_yaml(tmp_path: Path, card: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_card(_card(tmp_path, card))


def test_card_yaml_not_utf8(tmp_path: Path) -> None:
    path = _card(tmp_path, "")
    path.write_bytes(b"nodes: n\xe9.csv\n")
    with pytest.raises(InputError, match=r"data set card '.*dataset\.yaml' is not UTF-8"):
        load_card(path)


@pytest.mark.parametrize(
    ("key", "value"),
    [("nodes", "../outside.csv"), ("nodes", "/etc/hostname"), ("edges", "sub/../../outside.csv")],
)
def test_card_paths_must_stay_inside(tmp_path: Path, key: str, value: str) -> None:
    (tmp_path / "outside.csv").write_text("id,label\na,x\n")
    card = {"nodes": "nodes.csv", "id": "id", key: value}
    path = _card(tmp_path / "card", yaml.safe_dump(card))
    with pytest.raises(
        UnsafeFileError,
        match=rf"The path '{value}' of '{key}' in the card .*leads "
        r"outside the card's folder .*allow_outside: true",
    ):
        load_card(path)


def test_allow_outside_lets_the_owner_point_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "outside.csv").write_text("id,label\na,x\nb,y\n")
    path = _card(tmp_path / "card", "nodes: ../outside.csv\nid: id\nallow_outside: true\n")
    assert load_card(path).node_id == ["a", "b"]


def test_image_cells_must_stay_inside(tmp_path: Path) -> None:
    folder = tmp_path / "card"
    card = BASIC + "modalities:\n  image: [image]\n"
    for cell in ("/etc/hostname", "../../etc/hostname", "img/../../x.png"):
        path = _card(folder, card, f"id,label,image\na,x,\nb,y,{cell}\n")
        with pytest.raises(
            UnsafeFileError,
            match=rf"The path '{re.escape(cell)}' of the image column 'image' of the node table "
            r"'nodes\.csv', data row 2 \(node 'b'\) leads outside",
        ):
            load_card(path)


def test_symlinks_out_of_the_folder_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "card"
    path = _card(folder, BASIC + "modalities:\n  image: [image]\n", "id,label,image\na,x,img.png\n")
    (folder / "img.png").symlink_to("/etc/hostname")
    with pytest.raises(UnsafeFileError, match=r"'img\.png' .* leads outside .* \(to '/etc/host"):
        load_card(path)


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        (b"", r"node table '.*nodes\.csv' is empty: it needs a header row"),
        (b"\n\n", r"node table '.*nodes\.csv' is empty"),
        (
            b"id,label\n",
            r"node table '.*nodes\.csv' is empty: it has a header but no rows, so the "
            r"graph has no nodes",
        ),
        (b"id,label\na,\xff\n", r"node table '.*nodes\.csv' is not UTF-8 text \(byte 11"),
        (b"id,id\na,b\n", r"nodes\.csv' repeats the column name 'id'"),
        (b'id,label\na,"x\n', r"nodes\.csv' is not a readable CSV table"),
        (b"id,label\na,x,y,z\n", r"Line 2 of the node table '.*nodes\.csv' has 4 fields but"),
        (b"id,label\na,x\nb\n", r"Line 3 of the node table .* has 1 fields but the header has 2"),
    ],
)
def test_broken_node_tables(tmp_path: Path, nodes: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_card(_card(tmp_path, BASIC, nodes))


def test_garbage_parquet_names_the_file(tmp_path: Path) -> None:
    path = _card(tmp_path, "nodes: nodes.parquet\n")
    (tmp_path / "nodes.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"node table '.*nodes\.parquet' is not a readable Parq"):
        load_card(path)


def test_edge_table_errors(tmp_path: Path) -> None:
    card = BASIC + "edges: edges.csv\n"
    with pytest.raises(InputError, match=r"edge table '.*edges\.csv' is empty: it needs a header"):
        load_card(_card(tmp_path, card, edges__csv=""))
    graph = load_card(_card(tmp_path, card, edges__csv="src,dst\n"))  # no edges: fine
    assert graph.edge_index.shape == (2, 0)
    with pytest.raises(ValueError, match=r"names node 'zz' in column 'dst'"):
        load_card(_card(tmp_path, card, edges__csv="src,dst\na,zz\n"))
    with pytest.raises(ValueError, match=r"Edge row 1 .* has an empty cell in column 'src'"):
        load_card(_card(tmp_path, card, edges__csv="src,dst\n,a\n"))
    weighted = card + "weight: w\n"
    with pytest.raises(ValueError, match=r"Missing \(NaN\) edge weight .* row 1"):
        load_card(_card(tmp_path, weighted, edges__csv="src,dst,w\na,b,nan\n"))
    with pytest.raises(ValueError, match=r"Edge weight 'inf' .* row 1, is not a finite number"):
        load_card(_card(tmp_path, weighted, edges__csv="src,dst,w\na,b,inf\n"))


@pytest.mark.parametrize(
    ("labels", "classes"),
    [
        (["0", "0.0", "1", "1.0", "1e0"], ["0", "1"]),
        (["2", "10", "2.0"], ["2", "10"]),  # numeric order, not text order
        (["0.5", "0.50", "1"], ["0.5", "1.0"]),
        (["true", "True", "FALSE"], ["false", "true"]),
        (["a", "b", " a "], ["a", "b"]),
        (["1", "true"], ["1", "true"]),  # not all numbers, not all booleans: text
    ],
)
def test_labels_are_compared_by_value(
    tmp_path: Path, labels: list[str], classes: list[str]
) -> None:
    rows = "".join(f"n{i},{v}\n" for i, v in enumerate(labels))
    graph = load_card(_card(tmp_path, BASIC, "id,label\n" + rows))
    assert graph.class_names == classes
    assert graph.y.unique().numel() == len(classes)


def test_numeric_classes_and_positive_are_normalised_too(tmp_path: Path) -> None:
    card = BASIC + "classes: [1, 0]\npositive: 1.0\n"
    graph = load_card(_card(tmp_path, card, "id,label\na,0.0\nb,1\nc,1.0\n"))
    assert graph.class_names == ["1", "0"]
    assert graph.y.tolist() == [1, 0, 0]
    assert graph.positive_class == 0


def test_parquet_float_labels_are_one_class_per_value(tmp_path: Path) -> None:
    import pandas as pd

    pd.DataFrame({"id": ["a", "b", "c"], "label": [0.0, 1.0, 0.0]}).to_parquet(
        tmp_path / "nodes.parquet"
    )
    (tmp_path / "dataset.yaml").write_text("nodes: nodes.parquet\nid: id\nlabel: label\n")
    graph = load_card(tmp_path)
    assert graph.class_names == ["0", "1"]
    assert graph.y.tolist() == [0, 1, 0]


def test_one_node_card_loads(tmp_path: Path) -> None:
    graph = load_card(
        _card(
            tmp_path, BASIC + "edges: edges.csv\n", "id,label\na,x\n", edges__csv="src,dst\na,a\n"
        )
    )
    assert graph.num_nodes == 1
    assert graph.edge_index.tolist() == [[0], [0]]
    assert graph.class_names == ["x"]


# ====================================================================== TwiBot
def _user20(**changes: object) -> dict[str, object]:
    user: dict[str, object] = {
        "ID": "1",
        "profile": {"description": "hi", "followers_count": "3 "},
        "tweet": ["a tweet"],
        "neighbor": {"following": ["2"], "follower": []},
        "domain": ["Politics"],
    }
    user.update(changes)
    return user


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"TwiBot-20 file '.*u\.json' is not valid JSON \(line 1 column 1"),
        (b'[{"ID": "1",\n "profile": {}', r"not valid JSON \(line 2 column"),
        (b'[{"ID": "\xff"}]', r"TwiBot-20 file '.*u\.json' is not UTF-8"),
        (b'{"ID": "1"}', r"u\.json' to hold a JSON list of users \(got dict\)"),
        (b"[1, 2]", r"User 0 of '.*u\.json' has no 'ID' field"),
        (json.dumps([_user20(ID=[1])]).encode(), r"User 0 of .* has the ID '\[1\]' \(list\)"),
        (
            json.dumps([_user20(profile="x")]).encode(),
            r"'profile' of user '1' in '.*u\.json' is a str",
        ),
        (json.dumps([_user20(tweet="abc")]).encode(), r"'tweet' of user '1' .* not a list"),
        (json.dumps([_user20(neighbor=[1])]).encode(), r"'neighbor' of user '1' .* not an object"),
        (
            json.dumps([_user20(neighbor={"following": "2"})]).encode(),
            r"'neighbor\.following' of user '1' .* is a str",
        ),
        (json.dumps([_user20(domain="Politics")]).encode(), r"'domain' of user '1' .* str"),
        (json.dumps([_user20(label="maybe")]).encode(), r"Unknown label 'maybe' of user '1'"),
    ],
)
def test_broken_twibot20_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "u.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_twibot(path)


def test_broken_twibot22_files(tmp_path: Path) -> None:
    users = [{"id": "u1", "description": "d", "public_metrics": {"followers_count": 1}}]
    (tmp_path / "user.json").write_text(json.dumps(users))
    (tmp_path / "tweet_0.json").write_text('["just text"]')
    with pytest.raises(InputError, match=r"Tweet 0 of '.*tweet_0\.json' is a str"):
        load_twibot(tmp_path)
    (tmp_path / "tweet_0.json").write_text("[{")
    with pytest.raises(InputError, match=r"tweet file '.*tweet_0\.json' is not valid JSON"):
        load_twibot(tmp_path)
    (tmp_path / "tweet_0.json").write_text("[]")
    (tmp_path / "label.csv").write_bytes(b"")
    with pytest.raises(InputError, match=r"label table '.*label\.csv' is empty"):
        load_twibot(tmp_path)
    (tmp_path / "label.csv").write_bytes(b"id,label\nu1,\xff\n")
    with pytest.raises(InputError, match=r"label table '.*label\.csv' is not UTF-8"):
        load_twibot(tmp_path)
    (tmp_path / "label.csv").write_text("id,label\nu1,bot\n")
    (tmp_path / "edge.csv").write_bytes(b"")
    with pytest.raises(InputError, match=r"edge table '.*edge\.csv' is not a readable UTF-8 CSV"):
        load_twibot(tmp_path)
    (tmp_path / "edge.csv").write_bytes(b"source_id,relation,target_id\nu1,following,\xff\n")
    with pytest.raises(InputError, match=r"edge\.csv' is not a readable UTF-8 CSV"):
        load_twibot(tmp_path)
    (tmp_path / "edge.csv").write_text("source_id,relation,target_id\nu1,following,u1\n")
    users[0]["public_metrics"] = [1]
    (tmp_path / "user.json").write_text(json.dumps(users))
    with pytest.raises(InputError, match=r"'public_metrics' of user 'u1' .* is a list"):
        load_twibot(tmp_path)
    users[0]["public_metrics"] = {"followers_count": 1}
    (tmp_path / "user.json").write_text(json.dumps(users))
    assert load_twibot(tmp_path).num_nodes == 1


# ======================================================================= WebKB
WEBKB_HEADER = "url,raw_text,category,node_id,label,len,neighbor_ids\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"WebKB CSV '.*W\.csv' is empty"),
        (WEBKB_HEADER.encode(), r"WebKB CSV '.*W\.csv' is empty: it has a header but no rows"),
        (WEBKB_HEADER.encode() + b"u,\xe9t\xe9,course,0,0,1,[]\n", r"W\.csv' is not UTF-8"),
        ((WEBKB_HEADER + "u,t,course,0,0,1,[],extra\n").encode(), r"Line 2 .* has 8 fields"),
        ((WEBKB_HEADER + 'u,t,course,0,0,1,"[7]"\n').encode(), r"links to node id '7'"),
        ((WEBKB_HEADER + "u,t,course,0,0,1,[0\n").encode(), r"'neighbor_ids' .* list of node"),
    ],
)
def test_broken_webkb_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "W.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_webkb(path)


# ============================================================ one-node graphs
def test_one_node_tu_and_subgnn_sets_load(tmp_path: Path) -> None:
    ds = load_tu(_tu(tmp_path, "1\n1 0\n1 0\n"))
    assert ds.graph.num_nodes == 1 and len(ds) == 1
    sub = load_subgnn(_subgnn(tmp_path / "s", "0 0\n", "0\tA\ttrain\n"))
    assert sub.graph.num_nodes == 1
    assert sub.subgraphs[0].tolist() == [0]
