"""Fuzzing data set cards: the YAML text, its values, and the node and edge tables it names.

Cards come from the country-flags card in ``../shared/data`` (its tables cut to 30
countries) and from a 40-node synthetic graph saved with :func:`mmgraph.data.save_card`.
Each example damages the YAML (bytes, or one key set to a value of a wrong type) or a
table (bytes, one cell, a dropped or renamed column), loads it directly and through
``mmgraph info``, and, for a few, trains on it; nothing in the folder may change.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from fuzzkit import NASTY, SHARED_DATA, check_load, cli, copy_tree, fuzz, mutated, record, snapshot
from hypothesis import given
from hypothesis import strategies as st

from mmgraph.data import save_card
from mmgraph.data.loaders.card import CARD_KEYS
from mmgraph.data.synthetic import make_social_graph

FILES = ("dataset.yaml", "nodes.csv", "edges.csv")


@cache
def flags_files() -> dict[str, bytes]:
    """The country-flags card with its first 30 countries and the borders between them."""
    folder = SHARED_DATA / "country-flags"
    nodes = pd.read_csv(folder / "nodes.csv", dtype=str, keep_default_na=False).head(30)
    edges = pd.read_csv(folder / "edges.csv", dtype=str, keep_default_na=False)
    edges = edges[edges["src"].isin(nodes["cca3"]) & edges["dst"].isin(nodes["cca3"])]
    return {
        "dataset.yaml": (folder / "dataset.yaml").read_bytes(),
        "nodes.csv": nodes.to_csv(index=False).encode(),
        "edges.csv": edges.to_csv(index=False).encode(),
    }


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Card folders (images included) whose three card files each example rewrites."""
    root = tmp_path_factory.mktemp("fuzz-cards")
    flags = root / "flags"
    flags.mkdir()
    shutil.copytree(SHARED_DATA / "country-flags" / "images", flags / "images")
    synthetic = save_card(make_social_graph(40, seed=0, image_size=8), root / "social").parent
    originals = {"flags": flags_files(), "social": {n: (synthetic / n).read_bytes() for n in FILES}}
    for file, content in originals["flags"].items():
        (flags / file).write_bytes(content)
    yield {"flags": flags, "social": synthetic}
    shutil.rmtree(root, ignore_errors=True)


def originals(kind: str, folder: Path) -> dict[str, bytes]:
    return flags_files() if kind == "flags" else _social(folder)


_SOCIAL: dict[str, bytes] = {}


def _social(folder: Path) -> dict[str, bytes]:
    if not _SOCIAL:
        _SOCIAL.update({n: (folder / n).read_bytes() for n in FILES})
    return _SOCIAL


def check_card(folder: Path, files: dict[str, bytes], train: bool = False) -> Any:
    """Write ``files`` into ``folder``, load the card, run ``info`` (and ``train``)."""
    for name, content in files.items():
        (folder / name).write_bytes(content)
    for name in set(FILES) - set(files):
        (folder / name).unlink(missing_ok=True)
    before = snapshot(folder)
    result = check_load(folder / "dataset.yaml", [*FILES, folder.name, "images"])
    record("loaded" if not isinstance(result, BaseException) else type(result).__name__)
    cli(["info", "--data", str(folder / "dataset.yaml")], "info")
    if train:
        with tempfile.TemporaryDirectory() as tmp:
            argv = ["train", "--data", str(folder), "--text-encoder", "hashing"]
            argv += ["--image-encoder", "none", "--epochs", "2", "--hidden", "4", "--quiet"]
            record(f"train exit {cli([*argv, '--out', f'{tmp}/run'], 'train').code}")
    assert snapshot(folder) == before, "reading the card changed its folder"
    return result


# ====================================================================== YAML text
@fuzz(60)
@given(data=st.data(), kind=st.sampled_from(["flags", "social"]))
def test_card_yaml_damaged(folders: dict[str, Path], data: st.DataObject, kind: str) -> None:
    files = dict(originals(kind, folders[kind]))
    files["dataset.yaml"] = data.draw(mutated(files["dataset.yaml"]))
    check_card(folders[kind], files)


_YAML_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.sampled_from(NASTY + ["nodes.csv", "edges.csv", "../nodes.csv", "/etc/passwd"])
    | st.sampled_from(["images", "dataset.yaml", "region", "cca3", "name", "lat"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=5,
)


@fuzz(80)
@given(
    data=st.data(),
    kind=st.sampled_from(["flags", "social"]),
    key=st.sampled_from([*CARD_KEYS, "modalities.text", "modalities.image", "modalities.numeric"])
    | st.sampled_from(["modalities.categorical", "modalities.audio", "unknown", "Nodes"]),
    value=_YAML_VALUES,
    as_tag=st.sampled_from([None, None, None, "!!python/object/apply:os.system", "!!binary"]),
)
def test_card_values_of_wrong_types(
    folders: dict[str, Path],
    data: st.DataObject,
    kind: str,
    key: str,
    value: Any,
    as_tag: str | None,
) -> None:
    files = dict(originals(kind, folders[kind]))
    card = yaml.safe_load(files["dataset.yaml"])
    if "." in key:
        head, tail = key.split(".")
        if not isinstance(card.get(head), dict):
            card[head] = {}
        card[head][tail] = value
    else:
        card[key] = value
    text = yaml.safe_dump(card, allow_unicode=True)
    if as_tag is not None:
        text += f"extra: {as_tag} [touch {folders[kind]}/marker]\n"
    files["dataset.yaml"] = text.encode()
    check_card(folders[kind], files)
    assert not (folders[kind] / "marker").exists()


# ====================================================================== tables
@fuzz(30)
@given(
    data=st.data(),
    kind=st.sampled_from(["flags", "social"]),
    table=st.sampled_from(["nodes.csv", "edges.csv"]),
)
def test_card_tables_damaged(
    folders: dict[str, Path], data: st.DataObject, kind: str, table: str
) -> None:
    files = dict(originals(kind, folders[kind]))
    if data.draw(st.integers(0, 9)) == 0:
        del files[table]  # a missing table
    else:
        files[table] = data.draw(mutated(files[table]))
    check_card(folders[kind], files)


def _edit_table(draw: Callable[..., Any], content: bytes) -> bytes:
    """One cell set to a nasty value, or a column dropped, renamed or repeated."""
    frame = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    column = draw(st.sampled_from(list(frame.columns)))
    action = draw(st.sampled_from(["cell", "cell", "cell", "drop", "rename", "repeat", "rows"]))
    if action == "cell":
        row = draw(st.integers(0, len(frame) - 1))
        frame.loc[frame.index[row], column] = draw(st.sampled_from(NASTY) | st.text(max_size=6))
    elif action == "drop":
        frame = frame.drop(columns=[column])
    elif action == "rename":
        frame = frame.rename(columns={column: draw(st.sampled_from(NASTY))})
    elif action == "repeat":
        frame = frame.head(draw(st.integers(0, 3)))
    else:  # duplicate rows (repeated node ids, repeated edges)
        frame = pd.concat([frame, frame.head(draw(st.integers(1, 3)))])
    return frame.to_csv(index=False).encode()


@fuzz(30)
@given(
    data=st.data(),
    kind=st.sampled_from(["flags", "social"]),
    table=st.sampled_from(["nodes.csv", "nodes.csv", "edges.csv"]),
)
def test_card_table_cells_and_columns(
    folders: dict[str, Path], data: st.DataObject, kind: str, table: str
) -> None:
    files = dict(originals(kind, folders[kind]))
    files[table] = _edit_table(data.draw, files[table])
    check_card(folders[kind], files)


@fuzz(20)
@given(
    data=st.data(),
    target=st.sampled_from(["dataset.yaml", "nodes.csv", "nodes.csv", "edges.csv"]),
)
def test_training_on_damaged_cards(
    folders: dict[str, Path], data: st.DataObject, target: str
) -> None:
    files = dict(originals("social", folders["social"]))
    if target == "dataset.yaml":
        files[target] = data.draw(mutated(files[target], max_ops=1))
    else:
        files[target] = _edit_table(data.draw, files[target])
    check_card(folders["social"], files, train=True)


def test_copy_tree_is_writable(tmp_path: Path) -> None:
    # The shared data is read-only: the fuzz tests work on writable copies.
    copy = copy_tree(SHARED_DATA / "tu" / "MUTAG", tmp_path / "MUTAG")
    (copy / "MUTAG.txt").write_text("1\n")


# ====================================================================== found by fuzzing
@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        # a bad numeric cell named the column and row but not the file
        ("area_km2", "³", "nodes.csv"),
        ("area_km2", "1e309", "nodes.csv"),
        # a NUL byte in an image path: a bare "embedded null byte" ValueError
        ("image", "\x00mages/ALA.png", "nodes.csv"),
    ],
)
def test_cells_found_by_fuzzing(
    folders: dict[str, Path], column: str, value: str, needle: str
) -> None:
    files = dict(flags_files())
    frame = pd.read_csv(io.BytesIO(files["nodes.csv"]), dtype=str, keep_default_na=False)
    frame.loc[0, column] = value
    files["nodes.csv"] = frame.to_csv(index=False).encode()
    error = check_card(folders["flags"], files)
    assert isinstance(error, ValueError) and needle in str(error), error
