"""Fuzzing the file loaders: SubGNN, TU, Planetoid, TwiBot-20 and WebKB files.

Each test writes a data set folder (copied from ``../shared/data``, shrunk where the real
file is large, or generated), damages it (truncation, flipped bytes, a deleted or
repeated line, a token replaced by a huge, negative, non-finite or non-numeric value, an
emptied or deleted file) and checks that loading gives a data set or a ValueError /
OSError naming a file, that ``mmgraph info`` exits 0 or 2 with one line, and that the
folder is left as it was.
"""

from __future__ import annotations

import json
import pickle
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import fuzzkit
import numpy as np
import scipy.sparse as sp
from fuzzkit import SHARED_DATA, check_load, cli, fuzz, mutate_files, mutated, record, snapshot
from hypothesis import given
from hypothesis import strategies as st


def _check_folder(folder: Path, target: Path | None = None) -> Any:
    """Load ``target`` (default: ``folder``) directly and through ``mmgraph info``."""
    target = folder if target is None else target
    names = [p.name for p in folder.rglob("*")] + [folder.name, target.name]
    before = snapshot(folder)
    result = check_load(target, names)
    record("loaded" if not isinstance(result, BaseException) else type(result).__name__)
    cli(["info", "--data", str(target), "--json"], "info")
    assert snapshot(folder) == before, "loading changed the data folder"
    return result


# ====================================================================== SubGNN
@cache
def subgnn_files(kind: str) -> dict[str, bytes]:
    """``edge_list.txt`` and ``subgraphs.pth``: the real ``density`` set or a tiny one."""
    if kind == "real":
        folder = SHARED_DATA / "subgnn-synthetic" / "density"
    else:
        from mmgraph.data.synthetic_subgraphs import make_synthetic_subgraphs, save_subgnn

        data = make_synthetic_subgraphs("density", seed=0, num_nodes=40, num_subgraphs=12)
        folder = save_subgnn(data, Path(tempfile.mkdtemp(prefix="fuzz-subgnn-")))
    return {name: (folder / name).read_bytes() for name in ("edge_list.txt", "subgraphs.pth")}


def _damage_and_load(
    draw: st.DrawFn,
    folder: Path,
    originals: dict[str, bytes],
    names: list[str] | None = None,
    load: Path | None = None,
) -> None:
    """Write ``originals`` into ``folder``, damage some of them (``names``: which may be
    drawn, default all), then load ``load`` (default ``folder``) and check the outcome."""
    for name, content in originals.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    mutate_files(draw, folder, names or sorted(originals), originals)
    _check_folder(load or folder)


@fuzz(40)
@given(data=st.data(), kind=st.sampled_from(["tiny", "tiny", "tiny", "real"]))
def test_subgnn_damaged_files(data: st.DataObject, kind: str) -> None:
    originals = subgnn_files(kind)
    with tempfile.TemporaryDirectory() as tmp:
        _damage_and_load(data.draw, Path(tmp) / "sub", originals)


@st.composite
def subgnn_text(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A small valid SubGNN pair of files (edge list, subgraph lines)."""
    n = draw(st.integers(1, 8))
    node = st.integers(0, n - 1)
    edges = draw(st.lists(st.tuples(node, node), min_size=1, max_size=12))
    lines = draw(
        st.lists(
            st.tuples(
                st.lists(node, min_size=1, max_size=4, unique=True),
                st.sampled_from(["A", "B", "1"]),
                st.sampled_from(["train", "val", "test"]),
            ),
            min_size=1,
            max_size=8,
        )
    )
    edge_text = "".join(f"{u} {v}\n" for u, v in edges)
    sub_text = "".join(
        "-".join(map(str, ns)) + f"\t{label}\t{split}\n" for ns, label, split in lines
    )
    return edge_text.encode(), sub_text.encode()


@fuzz(40)
@given(data=st.data(), files=subgnn_text())
def test_subgnn_generated_files(data: st.DataObject, files: tuple[bytes, bytes]) -> None:
    edges, subgraphs = files
    if data.draw(st.booleans()):
        edges = data.draw(mutated(edges))
    if data.draw(st.booleans()):
        subgraphs = data.draw(mutated(subgraphs))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sub"
        folder.mkdir()
        (folder / "edge_list.txt").write_bytes(edges)
        (folder / "subgraphs.pth").write_bytes(subgraphs)
        _check_folder(folder)


# ====================================================================== TU
@cache
def tu_files() -> dict[str, bytes]:
    """MUTAG: ``MUTAG.txt`` and the 20 files of ``10fold_idx/``."""
    folder = SHARED_DATA / "tu" / "MUTAG"
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@fuzz(25)
@given(data=st.data())
def test_tu_damaged_files(data: st.DataObject) -> None:
    originals = tu_files()
    names = ["MUTAG.txt"] * 8 + sorted(n for n in originals if n != "MUTAG.txt")
    with tempfile.TemporaryDirectory() as tmp:
        _damage_and_load(data.draw, Path(tmp) / "MUTAG", originals, names)


@cache
def tu_dortmund_files() -> dict[str, bytes]:
    """A small set in the TU Dortmund format: 12 graphs, node labels and attributes."""
    edges, indicator, labels, tags, attributes = [], [], [], [], []
    node = 0
    for g in range(12):
        n = 2 + g % 3
        for i in range(n):
            indicator.append(str(g + 1))
            tags.append(str(i % 2))
            attributes.append(f"{0.5 * i}, {g}")
            if i:
                edges += [f"{node + i}, {node + i + 1}", f"{node + i + 1}, {node + i}"]
        node += n
        labels.append("1" if g % 2 else "-1")
    text = {"A": edges, "graph_indicator": indicator, "graph_labels": labels}
    text |= {"node_labels": tags, "node_attributes": attributes}
    return {f"T_{k}.txt": ("\n".join(v) + "\n").encode() for k, v in text.items()}


@fuzz(25)
@given(data=st.data())
def test_tu_dortmund_damaged_files(data: st.DataObject) -> None:
    originals = tu_dortmund_files()
    with tempfile.TemporaryDirectory() as tmp:
        _damage_and_load(data.draw, Path(tmp) / "T", originals)


@st.composite
def tu_text(draw: st.DrawFn) -> bytes:
    """A small valid TU file: the graph count, then per graph ``n label`` and its nodes."""
    graphs = draw(st.lists(st.tuples(st.integers(1, 4), st.integers(0, 2)), min_size=1, max_size=4))
    lines = [str(len(graphs))]
    for n, label in graphs:
        lines.append(f"{n} {label}")
        for _ in range(n):
            neighbours = draw(st.lists(st.integers(0, n - 1), max_size=3, unique=True))
            lines.append(
                " ".join(map(str, [draw(st.integers(0, 2)), len(neighbours), *neighbours]))
            )
    return ("\n".join(lines) + "\n").encode()


@fuzz(40)
@given(data=st.data(), text=tu_text())
def test_tu_generated_files(data: st.DataObject, text: bytes) -> None:
    if data.draw(st.integers(0, 3)):
        text = data.draw(mutated(text))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "TINY"
        folder.mkdir()
        (folder / "TINY.txt").write_bytes(text)
        _check_folder(folder)


# ====================================================================== Planetoid
_PLANETOID = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


@cache
def planetoid_files(kind: str) -> dict[str, bytes]:
    """The eight ``ind.cora.*`` files: Cora's own, or a 10-node graph written like them."""
    if kind == "real":
        raw = SHARED_DATA / "planetoid" / "Cora" / "raw"
        return {f"ind.cora.{s}": (raw / f"ind.cora.{s}").read_bytes() for s in _PLANETOID}
    rng = np.random.default_rng(0)
    features = sp.csr_matrix((rng.random((10, 5)) > 0.5).astype(np.float32))
    labels = np.eye(3, dtype=np.int64)[rng.integers(0, 3, 10)]
    graph: dict[int, list[int]] = {i: [(i + 1) % 10, (i + 3) % 10] for i in range(10)}
    objects = {
        "x": features[:4],
        "y": labels[:4],
        "allx": features[:7],
        "ally": labels[:7],
        "tx": features[7:],
        "ty": labels[7:],
        "graph": graph,
    }
    files = {f"ind.cora.{s}": pickle.dumps(v, protocol=2) for s, v in objects.items()}
    files["ind.cora.test.index"] = b"7\n8\n9\n"
    return files


@fuzz(30)
@given(data=st.data(), kind=st.sampled_from(["tiny", "tiny", "real"]))
def test_planetoid_damaged_files(data: st.DataObject, kind: str) -> None:
    originals = planetoid_files(kind)
    with tempfile.TemporaryDirectory() as tmp:
        _damage_and_load(data.draw, Path(tmp) / "Cora" / "raw", originals, load=Path(tmp) / "Cora")


class _Call:
    """A pickle that calls ``function(*args)`` when loaded."""

    def __init__(self, function: Any, *args: Any) -> None:
        self.function, self.args = function, args

    def __reduce__(self) -> tuple[Any, ...]:
        return self.function, self.args


def _payloads(marker: Path) -> dict[str, Any]:
    import builtins
    import os
    import pathlib
    import subprocess

    return {
        "touch": _Call(pathlib.Path.touch, pathlib.Path(marker)),
        "system": _Call(os.system, f"touch '{marker}'"),
        "exec": _Call(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
        "eval": _Call(builtins.eval, f"open({str(marker)!r}, 'w').close()"),
        "subprocess": _Call(subprocess.call, ["touch", str(marker)]),
        "open": _Call(builtins.open, str(marker), "w"),
    }


@fuzz(30)
@given(
    payload=st.sampled_from(["touch", "system", "exec", "eval", "subprocess", "open"]),
    target=st.sampled_from(_PLANETOID[:7]),
    wrap=st.sampled_from(["bare", "list", "dict", "defaultdict", "array_state"]),
    protocol=st.integers(0, pickle.HIGHEST_PROTOCOL),
)
def test_planetoid_pickles_that_run_code_are_refused(
    payload: str, target: str, wrap: str, protocol: int
) -> None:
    import collections

    with tempfile.TemporaryDirectory() as tmp:
        marker = Path(tmp) / "marker"
        call = _payloads(marker)[payload]
        value: Any = {
            "bare": call,
            "list": [1, [call]],
            "dict": {0: [1], 1: call},
            "defaultdict": collections.defaultdict(list, {0: [call]}),
            "array_state": _Call(np.zeros, _Call(len, [call])),
        }[wrap]
        folder = Path(tmp) / "Cora"
        (folder / "raw").mkdir(parents=True)
        for name, content in planetoid_files("tiny").items():
            (folder / "raw" / name).write_bytes(content)
        bad = folder / "raw" / f"ind.cora.{target}"
        bad.write_bytes(pickle.dumps(value, protocol=protocol))
        error = _check_folder(folder)
        assert isinstance(error, ValueError), error
        assert bad.name in str(error)
        assert not marker.exists(), f"loading ran the pickle's {payload}"


# ====================================================================== TwiBot-20
@cache
def twibot_file() -> bytes:
    """The first 4 users of the TwiBot-20 sample, each with at most 3 tweets."""
    users = json.loads((SHARED_DATA / "twibot20-sample" / "TwiBot-20_sample.json").read_bytes())
    small = []
    for user in users[:4]:
        user = dict(user)
        user["tweet"] = (user.get("tweet") or [])[:3]
        small.append(user)
    return json.dumps(small, indent=1).encode()


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.sampled_from(fuzzkit.NASTY),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


@fuzz(40)
@given(data=st.data())
def test_twibot_damaged_file(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "twibot"
        folder.mkdir()
        path = folder / "TwiBot-20_sample.json"
        path.write_bytes(data.draw(mutated(twibot_file())))
        _check_folder(folder, path)


@fuzz(40)
@given(
    data=st.data(),
    key=st.sampled_from(["ID", "profile", "tweet", "neighbor", "domain", "label", None]),
    subkey=st.sampled_from(
        ["followers_count", "created_at", "verified", "description", "screen_name", "following"]
    ),
    value=_JSON,
)
def test_twibot_wrong_types(data: st.DataObject, key: str | None, subkey: str, value: Any) -> None:
    users: Any = json.loads(twibot_file())
    if key is None:
        users = value  # the whole file
    else:
        user = users[data.draw(st.integers(0, len(users) - 1))]
        if key in ("profile", "neighbor") and isinstance(user.get(key), dict):
            user[key][subkey] = value
        else:
            user[key] = value
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "twibot"
        folder.mkdir()
        path = folder / "TwiBot-20_sample.json"
        path.write_text(json.dumps(users))
        _check_folder(folder, path)


# ====================================================================== WebKB
@cache
def webkb_file() -> bytes:
    """Cornell's header and first 12 pages (their links to other pages left dangling)."""
    import pandas as pd

    table = pd.read_csv(SHARED_DATA / "webkb" / "Cornell.csv").head(12)
    table["raw_text"] = table["raw_text"].str.slice(0, 80)
    kept = set(table["node_id"])
    table["neighbor_ids"] = [
        json.dumps([k for k in json.loads(ids) if k in kept]) for ids in table["neighbor_ids"]
    ]
    return table.to_csv(index=False).encode()


@fuzz(40)
@given(data=st.data())
def test_webkb_damaged_file(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "webkb"
        folder.mkdir()
        path = folder / "Cornell.csv"
        path.write_bytes(data.draw(mutated(webkb_file())))
        _check_folder(folder, path)


# ====================================================================== paths
@fuzz(20)
@given(
    name=st.sampled_from(
        ["missing", "missing.yaml", "empty_dir", "file.bin", "x.txt", "x.json", "x.csv", "x.yml"]
    ),
    content=st.sampled_from([b"", b"\x00\xff", b"[]", b"{}", b"1\n", b"a,b\n"]),
)
def test_missing_and_unknown_paths(name: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        folder.mkdir()
        target = folder / name
        if name == "empty_dir":
            target.mkdir()
        elif name != "missing" and name != "missing.yaml":
            target.write_bytes(content)
        _check_folder(folder, target)
