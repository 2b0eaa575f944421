"""The argument checks the data generators share (private)."""

from __future__ import annotations

from typing import Any


def check_int(value: Any, name: str, minimum: int) -> int:
    """Return ``value`` when it is an int (not a bool) of at least ``minimum``.

    Raises:
        TypeError: ``value`` is not an int.
        ValueError: ``value`` is below ``minimum``.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"Expected '{name}' to be an int (got {type(value).__name__!r})")
    if value < minimum:
        raise ValueError(f"Expected '{name}' to be at least {minimum} (got {value})")
    return value


def check_seed(seed: Any) -> None:
    """Raise a :class:`TypeError` unless ``seed`` is an int or :obj:`None`."""
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise TypeError(f"Expected 'seed' to be an int or None (got {type(seed).__name__!r})")
