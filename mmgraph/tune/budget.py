"""Wall-clock budgets written as ``90s``, ``15m``, ``1h30m`` or ``2h``."""

from __future__ import annotations

import re

from mmgraph.errors import InputError

_UNITS = {"h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")


def parse_budget(text: str | float | int) -> float:
    """Seconds of a budget: ``"90s"``, ``"15m"``, ``"1h"``, ``"1h30m"``, ``"2.5h"``, or a number.

    A bare number counts seconds. Units come in the order hours, minutes, seconds, each at
    most once.

    Raises:
        InputError: Anything else, or a budget of zero.
    """
    if isinstance(text, bool):
        raise InputError(f"Expected a time budget such as 15m, 90s or 1h30m (got {text!r})")
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        value = str(text).strip().lower().replace(" ", "")
        seconds = 0.0
        if re.fullmatch(r"\d+(?:\.\d+)?", value):
            seconds = float(value)
        else:
            parts = _PART.findall(value)
            units = [unit for _, unit in parts]
            if (
                not parts
                or "".join(number + unit for number, unit in parts) != value
                or units != sorted(set(units), key="hms".index)
            ):
                raise InputError(f"Expected a time budget such as 15m, 90s or 1h30m (got {text!r})")
            seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if not seconds > 0 or seconds == float("inf"):
        raise InputError(f"Expected a time budget > 0, such as 15m, 90s or 1h30m (got {text!r})")
    return seconds
