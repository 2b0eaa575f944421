"""The one error type of bad input, and file readers that raise it.

Every expected failure (a malformed file, an out-of-range option, a missing column, a
file that would run code when unpickled) raises :class:`InputError` or another
:class:`ValueError` / :class:`OSError` whose message names the file, option or column and
says what to do. The command line turns those into one line on stderr and exit code 2;
anything else is a bug.

This module sits at the bottom of the package: it imports nothing from ``mmgraph``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml


class InputError(ValueError):
    """Bad input: the message names the file, option or column, and the fix."""


class UnsafeFileError(InputError):
    """A file asks for something a loader refuses to do (run code, leave its folder)."""


def as_flag(name: str) -> str:
    """The command-line flag of option ``name`` (``"lr_step_size"`` -> ``"--lr-step-size"``)."""
    return "--" + name.replace("_", "-")


def names_preview(names: Sequence[Any], limit: int = 8) -> str:
    """``names`` for an error message: all of them when few, else the first and a count.

    Example:
        >>> names_preview(["a", "b"])
        "['a', 'b']"
        >>> names_preview([f"w{i}" for i in range(1433)], limit=3)
        "['w0', 'w1', 'w2', ...] (1433 in all)"
    """
    items = list(names)
    if len(items) <= limit:
        return repr(items)
    shown = ", ".join(repr(x) for x in items[:limit])
    return f"[{shown}, ...] ({len(items)} in all)"


def read_text(path: str | Path, what: str = "file") -> str:
    """The text of a UTF-8 file; an :class:`InputError` naming the file if it is not UTF-8.

    A leading byte-order mark (as Windows editors write) is dropped.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"The {what} '{path}' is not UTF-8 text (byte {error.start}: "
            f"{data[error.start : error.start + 1]!r}): save it as UTF-8"
        ) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that repeats a key."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> Any:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            line = seen.get(key)
        except TypeError:  # an unhashable key: let the base class report it
            continue
        if line is not None:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"found the key {key!r} twice (first on line {line + 1}): keep one",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)


def parse_yaml(text: str, source: str = "<string>") -> Any:
    """Parse YAML safely; duplicate keys and syntax errors raise an :class:`InputError`."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or " ".join(str(error).split())
        raise InputError(f"Invalid YAML in {source}{where}: {problem}; fix the file") from None


def read_yaml(path: str | Path, what: str = "YAML file") -> Any:
    """Read a YAML file (UTF-8, no duplicate keys); errors name the file and the line."""
    path = Path(path)
    return parse_yaml(read_text(path, what), source=f"the {what} '{path}'")


def read_json(path: str | Path, what: str = "JSON file", fix: str = "restore it") -> Any:
    """Read a JSON file; a damaged one raises an :class:`InputError` naming it and ``fix``."""
    import json

    path = Path(path)
    try:
        return json.loads(read_text(path, what))
    except json.JSONDecodeError as error:
        raise InputError(
            f"The {what} '{path}' is truncated or not JSON ({error.msg} at line {error.lineno} "
            f"column {error.colno}): {fix}"
        ) from None


def read_safetensors(
    path: str | Path, what: str = "weights file"
) -> tuple[dict[str, Any], dict[str, str]]:
    """The tensors and metadata of a safetensors file.

    Raises:
        FileNotFoundError: No file at ``path``.
        InputError: The file is empty, truncated or not safetensors (the message names it).
    """
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No {what} at {path}: train a model first or check the path")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            metadata = fh.metadata() or {}
            tensors = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118
    except SafetensorError as error:
        raise InputError(
            f"The {what} '{path}' is truncated or not a safetensors file ({error}): retrain "
            "with --overwrite or restore it"
        ) from None
    return tensors, dict(metadata)
