"""Argparse value types: what each option accepts, refused as ``expected X (got VALUE)``."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

INT_MAX = 2**63 - 1
"""The largest int any option takes: what a 64-bit integer holds (torch, NumPy, seeds)."""

MAX_LAYERS = 1000
"""The most layers (``--layers``, ``--head-layers``) and ``--repeats`` accepted."""

MAX_DIM = 65536
"""The largest embedding size (``--hidden``, ``--modality-dim``, ``--dim``...): a square
weight of this side takes 16 GiB already."""

MAX_IMAGE_SIZE = 4096
"""The largest ``--image-size``: every image is resized to this side in memory."""


def _number(value: str, kind: type, what: str) -> float:
    try:
        number = kind(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what} (got {value!r})") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"expected {what} (got {value!r})")
    return number


def _int(value: str, low: int, high: int, what: str) -> int:
    """An int in ``[low, high]``, else the error ``expected WHAT (got VALUE)``."""
    number = int(_number(value, int, what))
    if not low <= number <= high:
        raise argparse.ArgumentTypeError(f"expected {what} (got {value!r})")
    return number


def positive_int(value: str) -> int:
    """An int >= 1 (argparse type), at most :data:`INT_MAX`."""
    return _int(value, 1, INT_MAX, "a positive int" + _at_most(INT_MAX))


def seed_count(value: str) -> int:
    """``tune --seeds``: how many seeds (argparse type), said as such when refused.

    ``train --seeds 0 1 2`` lists seeds, so ``tune --seeds 0 1`` was a natural mistake; its
    error only asked for a positive int.
    """
    return _int(
        value,
        1,
        INT_MAX,
        "the number of seeds, a positive int (tune's --seeds counts them: --seeds 3 --seed 5 "
        "retrains with seeds 5, 6 and 7, where train's --seeds lists them)",
    )


def non_negative_int(value: str) -> int:
    """An int >= 0 (argparse type), at most :data:`INT_MAX`."""
    return _int(value, 0, INT_MAX, "an int >= 0" + _at_most(INT_MAX))


def _at_most(high: int) -> str:
    return f" <= {high}" if high != INT_MAX else " that fits in 64 bits (<= 2**63 - 1)"


def positive_int_at_most(high: int) -> Callable[[str], int]:
    """An argparse type: an int in ``[1, high]``."""

    def bounded(value: str) -> int:
        return _int(value, 1, high, f"a positive int <= {high}")

    bounded.__name__ = f"positive_int_at_most_{high}"
    return bounded


layer_count = positive_int_at_most(MAX_LAYERS)
"""Layers and repeats: an int in ``[1, MAX_LAYERS]`` (argparse type)."""

dimension = positive_int_at_most(MAX_DIM)
"""An embedding size: an int in ``[1, MAX_DIM]`` (argparse type)."""

image_size = positive_int_at_most(MAX_IMAGE_SIZE)
"""An image side: an int in ``[1, MAX_IMAGE_SIZE]`` (argparse type)."""


def positive_float(value: str) -> float:
    """A finite float > 0 (argparse type)."""
    number = _number(value, float, "a positive number")
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number (got {value!r})")
    return number


def non_negative_float(value: str) -> float:
    """A finite float >= 0 (argparse type)."""
    number = _number(value, float, "a number >= 0")
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0 (got {value!r})")
    return number


def probability(value: str) -> float:
    """A float in [0, 1) (argparse type: dropout rates)."""
    number = _number(value, float, "a number in [0, 1)")
    if not 0 <= number < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1) (got {value!r})")
    return number


def unit_interval(value: str) -> float:
    """A float in [0, 1] (argparse type: fractions, mixing ratios)."""
    number = _number(value, float, "a number in [0, 1]")
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1] (got {value!r})")
    return number


def decay(value: str) -> float:
    """A float in (0, 1] (argparse type: decay factors)."""
    number = _number(value, float, "a number in (0, 1]")
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1] (got {value!r})")
    return number


def fanout(value: str) -> int:
    """Neighbours per layer: a positive int (at most 2**31 - 1), or -1 for all (argparse type)."""
    what = "a positive int <= 2147483647 or -1 (all neighbours)"
    number = int(_number(value, int, what))
    if number == -1:
        return number
    return _int(value, 1, 2**31 - 1, what)


def dim_or_none(value: str) -> int | None:
    """A positive size, or ``None`` for ``0`` or ``none`` (argparse type)."""
    if value.lower() == "none":
        return None
    return _int(value, 0, MAX_DIM, f"a positive int <= {MAX_DIM}, 0 or 'none'") or None


def or_auto(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    """The argparse type ``kind`` that also takes ``auto`` (chosen on validation data)."""

    def parse(value: str) -> Any:
        return "auto" if value.lower() == "auto" else kind(value)

    parse.__name__ = getattr(kind, "__name__", "value")
    return parse


def option_mapping(value: Any) -> dict[str, Any]:
    """A YAML (or JSON) mapping of named options, e.g. ``'{rank: 8}'``.

    A config file's mapping is taken as it is; ``none`` is no options.
    """
    if isinstance(value, str):
        import yaml

        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as error:
            raise argparse.ArgumentTypeError(
                f"expected a YAML mapping such as '{{rank: 8}}' ({str(error).splitlines()[0]})"
            ) from None
    if value is None or value == "none":
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise argparse.ArgumentTypeError(
            f"expected a mapping of option names to values such as '{{rank: 8}}' (got {value!r})"
        )
    return value
