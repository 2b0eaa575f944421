"""Configuration dataclasses that round-trip to YAML."""

from __future__ import annotations

import dataclasses
import numbers
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from mmgraph.errors import InputError, read_yaml

C = TypeVar("C", bound="ConfigBase")


@dataclasses.dataclass
class ConfigBase:
    """Base for config dataclasses: ``to_dict``/``from_dict`` and YAML round trips."""

    def to_dict(self) -> dict[str, Any]:
        """Return the config as a plain, YAML-safe dict."""
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls: type[C], values: Mapping[str, Any]) -> C:
        """Build the config from a dict; unknown keys raise an error listing the valid ones."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(
                f"Unknown {cls.__name__} keys {unknown} (valid keys: {sorted(fields)})"
            )
        _check_numbers(cls, values)
        return cls(**dict(values))

    def to_yaml(self, path: str | Path) -> Path:
        """Write the config to a YAML file and return its path."""
        path = Path(path)
        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))
        return path

    @classmethod
    def from_yaml(cls: type[C], path: str | Path) -> C:
        """Read a config written by :meth:`to_yaml`."""
        values = read_yaml(path, f"{cls.__name__} file") or {}
        if not isinstance(values, Mapping):
            raise InputError(f"Expected a mapping of {cls.__name__} keys in '{path}'")
        return cls.from_dict(values)


def _check_numbers(cls: type, values: Mapping[str, Any]) -> None:
    """Refuse text (or a list, a mapping) where a field of ``cls`` takes only a number.

    A config file's ``dropout: lots`` would otherwise fail later, in a comparison that
    names neither the key nor the value.
    """
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - an unresolvable annotation: nothing to check
        return
    for key, value in values.items():
        if value is None or isinstance(value, numbers.Real) or not _number_only(hints.get(key)):
            continue
        raise ValueError(f"{cls.__name__} key {key!r} is {value!r}, not a number: write one there")


def _number_only(hint: Any) -> bool:
    """Whether a field annotated ``hint`` takes an int or float alone (or :obj:`None`)."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    kinds = set(typing.get_args(hint) if union else (hint,)) - {type(None)}
    return bool(kinds) and kinds <= {int, float}


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
