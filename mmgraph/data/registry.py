"""Load a data set by built-in name or by path, detecting its format from its files."""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmgraph.data.graph import MultimodalGraph
from mmgraph.data.loaders.card import load_card
from mmgraph.data.loaders.planetoid import load_planetoid
from mmgraph.data.loaders.subgnn import is_subgnn_folder, load_subgnn
from mmgraph.data.loaders.tu import is_tu_folder, load_tu
from mmgraph.data.loaders.tu_dortmund import (
    find_tu_dortmund,
    is_tu_dortmund_folder,
    load_tu_dortmund,
)
from mmgraph.data.loaders.twibot import load_twibot
from mmgraph.data.loaders.webkb import WEBKB_COLUMNS, load_webkb
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.errors import InputError
from mmgraph.names import DATASETS as NAMED_DATASETS

DATA_ROOT_ENV = "MMGRAPH_DATA_ROOT"
"""Environment variable naming the folder that built-in data sets are read from."""

DATASETS = NAMED_DATASETS
"""Built-in data set names and a one-line description of each (:data:`mmgraph.names.
DATASETS`, which the command line's ``info --list`` reads without importing torch)."""

SYNTHETIC: dict[str, dict[str, Any]] = {
    "synthetic": {},
    "synthetic-activity": {"with_activity": True},
}
"""The built-in names drawn by :func:`~mmgraph.data.synthetic.make_social_graph`, and its
options for each (``synthetic-activity`` is ``synthetic`` with the activity sequences; the
other fields are the same)."""


def _builtin_loaders() -> dict[str, tuple[str, Callable[..., MultimodalGraph | SubgraphDataset]]]:
    return {
        "cora": ("planetoid", lambda p, **kw: load_planetoid(p, "cora", **kw)),
        "citeseer": ("planetoid", lambda p, **kw: load_planetoid(p, "citeseer", **kw)),
        "cornell": ("webkb/Cornell.csv", load_webkb),
        "texas": ("webkb/Texas.csv", load_webkb),
        "twibot20-sample": ("twibot20-sample/TwiBot-20_sample.json", load_twibot),
        "density": ("subgnn-synthetic/density", load_subgnn),
        "component": ("subgnn-synthetic/component", load_subgnn),
        "mutag": ("tu/MUTAG", load_tu),
        "ptc": ("tu/PTC", load_tu),
        "enzymes": ("tu/ENZYMES", load_tu),
        "imdb-multi": ("tu/IMDBMULTI", load_tu),
        "country-flags": ("country-flags/dataset.yaml", load_card),
    }


def resolve_root(root: str | Path | None) -> Path:
    """The data root: ``root``, else the ``MMGRAPH_DATA_ROOT`` environment variable."""
    value = root if root is not None else os.environ.get(DATA_ROOT_ENV)
    if value is None or str(value) == "":
        raise ValueError(
            "No data root given: pass `root=` (`--root` on the command line) or set the "
            f"environment variable {DATA_ROOT_ENV} to the folder holding the data sets"
        )
    path = Path(value).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"Data root '{path}' is not a folder: check `root`/{DATA_ROOT_ENV}")
    return path


def _warn_of_a_shadowed_path(name: str | Path, path: Path, target: Path | None) -> None:
    """Warn where a built-in name is also a file or folder here, which is not the one read.

    ``--data cora`` in a folder holding one's own ``cora/`` loads the built-in Cora; the
    warning names the path form that loads the folder. ``target``: where the built-in set
    is read from (:obj:`None` for a generated one); the same place is no clash.
    """
    if not path.exists():
        return
    if target is not None and target.exists() and path.resolve() == target.resolve():
        return
    warnings.warn(
        f"{str(name)!r} names the built-in data set, which is what is loaded; the "
        f"{'folder' if path.is_dir() else 'file'} '{path}' here is not read: give "
        f"'./{path}' (a path with a '/') to load it instead",
        UserWarning,
        stacklevel=3,
    )


def load_dataset(
    name_or_path: str | Path,
    root: str | Path | None = None,
    **kwargs: Any,
) -> MultimodalGraph | SubgraphDataset:
    """Load a built-in data set by name, or any supported data set by path.

    A path may be a card (``.yaml``) or a folder holding ``dataset.yaml``; a SubGNN folder
    (``edge_list.txt`` + ``subgraphs.pth``); a TU folder (``<NAME>/<NAME>.txt``, the
    DGCNN format, or ``<NAME>_A.txt`` and its siblings, the TU Dortmund format); a
    Planetoid folder (``raw/ind.<name>.*`` or the raw files themselves); a WebKB CSV; a
    TwiBot-20 JSON file or a TwiBot-20/22 folder. Built-in names (case-insensitive, see
    :data:`DATASETS`) are read from their usual place under ``root``: ``planetoid/``,
    ``webkb/``, ``twibot20-sample/``, ``subgnn-synthetic/<name>``, ``tu/<NAME>``,
    ``country-flags/``; ``synthetic`` and ``synthetic-activity`` need no files and pass
    ``kwargs`` to :func:`mmgraph.data.synthetic.make_social_graph` (:data:`SYNTHETIC`).

    Args:
        name_or_path (str or Path): A built-in name or a path.
        root (str or Path, optional): Folder holding the built-in data sets (default: the
            environment variable ``MMGRAPH_DATA_ROOT``).
        **kwargs: Passed to the loader (for ``synthetic``: to ``make_social_graph``).
    """
    key = str(name_or_path).strip().lower()
    path = Path(name_or_path).expanduser()
    if key in SYNTHETIC:
        from mmgraph.data.synthetic import make_social_graph

        _warn_of_a_shadowed_path(name_or_path, path, None)
        return make_social_graph(**{**SYNTHETIC[key], **kwargs})
    if key not in DATASETS and path.exists():
        return load_path(path, **kwargs)
    if key in DATASETS:
        rel, loader = _builtin_loaders()[key]
        target = resolve_root(root) / rel
        _warn_of_a_shadowed_path(name_or_path, path, target)
        if not target.exists():
            raise FileNotFoundError(
                f"Data set {key!r} not found at '{target}': the data root must hold '{rel}' "
                f"(root: '{resolve_root(root)}')"
            )
        return loader(target, **kwargs)
    if _names_a_path(name_or_path):
        raise FileNotFoundError(f"No data set file or folder at '{path}': check the path")
    found = find_under_root(key, root)
    if len(found) == 1:
        return load_path(found[0], **kwargs)
    if len(found) > 1:
        raise ValueError(
            f"The name {str(name_or_path)!r} matches {len(found)} entries under the data root: "
            f"{[str(f) for f in found]}; pass the path of the one you mean"
        )
    from mmgraph.data.synthetic_subgraphs import SYNTHETIC_TASKS

    task = str(name_or_path).lower().replace("-", "_")
    if task in SYNTHETIC_TASKS:  # a task mmgraph draws instances of, not a set on disk
        raise ValueError(
            f"{str(name_or_path)!r} is a synthetic subgraph task with no folder under the data "
            f"root: draw an instance first, `mmgraph subgraph generate --task {task} --out "
            f"{task}`, then pass --data {task} (the folder)"
        )
    close = difflib.get_close_matches(str(name_or_path).lower(), list(DATASETS), n=1)
    raise ValueError(
        f"Unknown data set {str(name_or_path)!r}"
        + (f" (did you mean {close[0]!r}?)" if close else "")
        + f": valid names are {list(DATASETS)}, or a "
        "folder or file of that name under the data root (e.g. planetoid/PubMed, tu/NCI1, "
        "webkb/Wisconsin.csv), or pass the path of a card (.yaml) or a data set folder"
    )


LOADABLE_SUFFIXES = (".csv", ".json", ".yaml", ".yml")
"""The files :func:`find_under_root` looks at beside folders: those :func:`load_path` reads by
their suffix (a TU ``.txt`` file lies inside its folder, which is found instead)."""


def reads_data_root(name_or_path: str | Path) -> bool:
    """Whether :func:`load_dataset` reads ``name_or_path`` from the data root.

    Built-in names and other bare names are looked up under the root; paths (an existing
    file or folder, or a name with a slash or a suffix) and the generated sets
    (:data:`SYNTHETIC`) are not, so a root given with them would change nothing.
    """
    key = str(name_or_path).strip().lower()
    if key in SYNTHETIC:
        return False
    if key in DATASETS:
        return True
    return not (_names_a_path(name_or_path) or Path(name_or_path).expanduser().exists())


def _names_a_path(name_or_path: str | Path) -> bool:
    """A :class:`~pathlib.Path`, or a name with a slash or a suffix: never a bare name."""
    text = str(name_or_path)
    return (
        isinstance(name_or_path, Path) or any(c in text for c in "/\\") or bool(Path(text).suffix)
    )


def _normalized(name: str) -> str:
    return "".join(c for c in name.lower() if c not in "-_ .")


def find_under_root(name: str, root: str | Path | None = None) -> list[Path]:
    """The entries of the data root, or of its folders, named ``name``.

    A name that is not built in is looked for where the built-in ones lie: a folder or a
    loadable file (:data:`LOADABLE_SUFFIXES`) directly under the root or one level down
    (``planetoid/PubMed``, ``tu/NCI1``, ``webkb/Wisconsin.csv``, ``my-card/``), compared
    without case, ``-``, ``_`` or spaces (``imdb-binary`` finds ``IMDBBINARY``). Without a
    data root (:func:`resolve_root` finds none), nothing.
    """
    try:
        base = resolve_root(root)
    except (ValueError, FileNotFoundError):
        return []
    want = _normalized(name)
    levels = [base, *sorted(d for d in base.iterdir() if d.is_dir() and d.name[:1] != ".")]
    return [
        entry
        for level in levels
        for entry in sorted(level.iterdir())
        if entry.name[:1] != "."
        and (entry.is_dir() or entry.suffix.lower() in LOADABLE_SUFFIXES)
        and _normalized(entry.name if entry.is_dir() else entry.stem) == want
    ]


def _refuse_a_card_table(path: Path) -> None:
    """Refuse a CSV that is no WebKB CSV but a table of the card beside it: name the card.

    A ``.csv`` path is read as a WebKB CSV, whose columns it would be said to lack; a card's
    node table lacks them too, and what it needs is its card.
    """
    import csv

    cards = sorted(path.parent.glob("*.yaml")) + sorted(path.parent.glob("*.yml"))
    if not cards:
        return
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = {c.strip() for c in next(csv.reader(fh), [])}
    except (OSError, UnicodeDecodeError):
        return  # the WebKB loader names what is wrong with the file
    if set(WEBKB_COLUMNS) <= header:
        return
    raise InputError(
        f"'{path}' is not a WebKB CSV (it has no columns {', '.join(WEBKB_COLUMNS)}), and "
        f"the card '{cards[0].name}' lies beside it: a card's tables are read through their "
        f"card, so pass the card or its folder (--data {path.parent})"
    )


def is_card(path: str | Path) -> bool:
    """Whether ``path`` is a dataset card: a ``.yaml`` file, or a folder holding one."""
    p = Path(path).expanduser()
    if p.is_file():
        return p.suffix.lower() in (".yaml", ".yml")
    return (p / "dataset.yaml").is_file() or (p / "dataset.yml").is_file()


def is_twibot(name_or_path: str | Path, root: str | Path | None = None) -> bool:
    """Whether :func:`load_dataset` reads ``name_or_path`` as TwiBot data.

    A TwiBot-20 JSON file, a TwiBot-20/22 folder (as :func:`load_path` tells them), or a name
    under the data root that is one (``twibot20-sample``). Nothing is read but file names.
    """
    key = str(name_or_path).strip().lower()
    if key in SYNTHETIC:
        return False
    path = Path(name_or_path).expanduser()
    if key in DATASETS:
        return _builtin_loaders()[key][1] is load_twibot
    if not path.exists():
        if _names_a_path(name_or_path):
            return False
        found = find_under_root(key, root)
        if len(found) != 1:
            return False
        path = found[0]
    if path.is_file():
        return path.suffix.lower() == ".json"  # (as load_path tells a file)
    return _folder_loader(path) is load_twibot


def load_path(path: str | Path, **kwargs: Any) -> MultimodalGraph | SubgraphDataset:
    """Load the data set at ``path``, its format told by its files (see :func:`load_dataset`)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"No data set file or folder at '{p}': check the path")
    if p.is_file():
        suffix = p.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return load_card(p, **kwargs)
        if suffix == ".csv":
            _refuse_a_card_table(p)
            return load_webkb(p, **kwargs)
        if suffix == ".json":
            return load_twibot(p, **kwargs)
        if suffix == ".txt":
            if find_tu_dortmund(p) is not None:  # NAME_A.txt and its siblings
                return load_tu_dortmund(p, **kwargs)
            return load_tu(p, **kwargs)
        raise ValueError(
            f"Cannot tell the format of '{p}': pass a card (.yaml), a WebKB CSV (.csv), a "
            "TwiBot-20 JSON file (.json), a TU file (.txt) or a data set folder"
        )
    loader = _folder_loader(p)
    if loader is not None:
        return loader(p, **kwargs)
    raise ValueError(
        f"Cannot tell the format of the folder '{p}': expected dataset.yaml (a card), "
        "edge_list.txt + subgraphs.pth (SubGNN), <NAME>.txt (TU), raw/ind.<name>.* (Planetoid) "
        "or user.json / train.json (TwiBot)"
    )


def _folder_loader(p: Path) -> Callable[..., MultimodalGraph | SubgraphDataset] | None:
    """The loader of the data set folder ``p``, told by its files (:obj:`None`: none)."""
    if is_card(p):
        return load_card
    if is_subgnn_folder(p):
        return load_subgnn
    if is_tu_folder(p):
        return load_tu
    if is_tu_dortmund_folder(p):
        return load_tu_dortmund
    planetoid = _planetoid_name(p)
    if planetoid is not None:
        return lambda folder, **kw: load_planetoid(folder, planetoid, **kw)
    if (p / "user.json").is_file() or (p / "train.json").is_file():
        return load_twibot
    return None


def _planetoid_name(folder: Path) -> str | None:
    for candidate in (folder / "raw", folder):
        if candidate.is_dir():
            for f in sorted(candidate.glob("ind.*.graph")):
                return f.name.split(".")[1]
    return None
