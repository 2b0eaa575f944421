"""Argument checks shared by the walkers, samplers and corpora (and the walk losses)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
from torch import Tensor

from mmgraph.resolver import UnknownNameError


def check_int(value: Any, name: str, minimum: int) -> int:
    """Return ``value`` as an int when it is an integer (not a bool) of at least ``minimum``.

    A NumPy integer (as scikit-learn's parameter grids hold) counts as one.

    Raises:
        TypeError: ``value`` is not an integer.
        ValueError: ``value`` is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Expected '{name}' to be an int (got {type(value).__name__!r})")
    if value < minimum:
        raise ValueError(f"Expected '{name}' to be at least {minimum} (got {value})")
    return int(value)


def check_ids(value: Any, name: str, dim: int) -> Tensor:
    """Return ``value`` as int64 when it is an integer tensor of ``dim`` dimensions.

    Raises:
        TypeError: ``value`` is not an integer tensor.
        ValueError: ``value`` has another number of dimensions.
    """
    if not isinstance(value, Tensor):
        raise TypeError(f"Expected '{name}' to be a torch.Tensor (got {type(value).__name__!r})")
    if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
        raise TypeError(f"Expected '{name}' to be of integer type (got '{value.dtype}')")
    if value.dim() != dim:
        raise ValueError(f"Expected '{name}' to have {dim} dimensions (got {list(value.shape)})")
    return value.long()


def check_bias(p: Any, q: Any) -> None:
    """Check node2vec's return and in-out parameters: positive, finite floats.

    Raises:
        TypeError: ``p`` or ``q`` is not a number.
        ValueError: ``p`` or ``q`` is not positive and finite.
    """
    for name, value in (("p", p), ("q", q)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"Expected '{name}' to be a float (got {type(value).__name__!r})")
        if not (float(value) > 0 and math.isfinite(value)):
            raise ValueError(f"Expected '{name}' to be a positive, finite float (got {value})")


def check_choice(value: Any, choices: tuple[str, ...], what: str) -> str:
    """Return ``value`` when it is one of ``choices`` (exactly).

    Raises:
        UnknownNameError: Another value (a :class:`ValueError` and a :class:`KeyError`);
            the message lists ``choices``.
    """
    if value not in choices:
        raise UnknownNameError(f"Unknown {what} {value!r}; expected one of {list(choices)}")
    return value


def check_num_negatives(value: Any) -> int:
    """Return ``num_negatives`` as an int when it is at least 1.

    Raises:
        TypeError: ``value`` is not an integer.
        ValueError: ``value`` is below 1: without negatives the skip-gram loss only pulls
            the nodes of a walk together, and the embeddings drift towards one point.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value < 1:
        raise ValueError(
            f"Expected 'num_negatives' to be at least 1 (got {value}): without negatives the "
            "skip-gram loss only pulls the nodes of a walk together, and every embedding "
            "drifts towards the same point"
        )
    return check_int(value, "num_negatives", 1)
