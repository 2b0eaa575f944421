"""Argument checks shared by the subgraph models."""

from __future__ import annotations

import math
from typing import Any


def check_positive(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` if it is an int of at least ``minimum``, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"Expected '{name}' to be an int >= {minimum} (got {value!r})")
    return value


def check_fraction(value: Any, name: str, closed: bool = False) -> float:
    """``value`` as a float in ``[0, 1)`` (``[0, 1]`` when ``closed``), else a ValueError."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = not math.isnan(v) and 0.0 <= v and (v <= 1.0 if closed else v < 1.0)
    if not ok:
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"Expected '{name}' in {interval} (got {value!r})")
    return float(value)
