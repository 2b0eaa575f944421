"""Helpers the coordination losses share: checking a pair of embeddings and their mask."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import torch
from torch import Tensor

from mmgraph.errors import InputError
from mmgraph.resolver import InputTypeError, check_finite

ALL: Literal["all"] = "all"
"""The value of ``num_samples`` / ``num_negatives`` that asks for the exact loss over all."""


def check_pair(a: Tensor, b: Tensor, mask: Tensor | None, same_dim: bool = True) -> Tensor:
    """Check two embeddings of the same nodes and return the bool mask of usable pairs.

    Args:
        a (Tensor): Embeddings ``[N, D_a]``.
        b (Tensor): Embeddings ``[N, D_b]``.
        mask (Tensor, optional): Bool ``[N]``, :obj:`True` where both modalities are present.
        same_dim (bool, optional): Require ``D_a == D_b``. (default: :obj:`True`)

    Raises:
        InputTypeError: On non-float embeddings or a non-bool mask (also a ``TypeError``).
        InputError: On mismatched shapes (a ``ValueError``).
    """
    for name, z in (("a", a), ("b", b)):
        if not isinstance(z, Tensor) or not z.is_floating_point() or z.dim() != 2:
            got = (
                f"{z.dtype} tensor of shape {list(z.shape)}"
                if isinstance(z, Tensor)
                else (type(z).__name__)
            )
            raise InputTypeError(f"Expected {name!r} to be a float tensor [N, D] (got {got})")
    if a.dtype != b.dtype:
        raise InputTypeError(
            f"Expected 'a' and 'b' in one dtype (got {a.dtype} and {b.dtype}): convert one, "
            "e.g. with .float()"
        )
    if a.size(0) != b.size(0):
        raise InputError(
            f"Expected 'a' and 'b' to embed the same nodes (got {a.size(0)} and {b.size(0)} rows)"
        )
    if same_dim and a.size(1) != b.size(1):
        raise InputError(
            f"Expected 'a' and 'b' in one shared space of the same size (got {a.size(1)} and "
            f"{b.size(1)}); project them first, e.g. with CoordinatedProjection"
        )
    if mask is None:
        mask = torch.ones(a.size(0), dtype=torch.bool, device=a.device)
    elif not isinstance(mask, Tensor) or mask.dtype != torch.bool:
        got = str(mask.dtype) if isinstance(mask, Tensor) else type(mask).__name__
        raise InputTypeError(f"Expected 'mask' to be a bool tensor (got {got!r})")
    elif mask.shape != (a.size(0),):
        raise InputError(f"Expected 'mask' to have shape [{a.size(0)}] (got {list(mask.shape)})")
    mask = mask.to(a.device)
    for name, view in (("'a'", a), ("'b'", b)):  # NaN would make the loss NaN, unnamed
        check_finite(view, name, present=mask, fix=_FINITE_FIX)
    return mask


_FINITE_FIX = "leave those nodes out with mask=, or fill the values"


def check_margin(margin: Any) -> float:
    """``margin`` as a float, when it is a finite number >= 0.

    A negative margin asks the positive pair to be no closer than the negatives, so the
    loss is 0 as soon as the embeddings are roughly anywhere: nothing is learnt.

    Raises:
        InputError: ``margin`` is negative, NaN, infinite or not a number.
    """
    try:
        value = float(margin)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(margin, bool) or not (math.isfinite(value) and value >= 0):
        raise InputError(
            f"Expected 'margin' to be a finite number >= 0 (got {margin!r}): the positive "
            "pair must beat each negative by it (0.1 is the default, 0 a plain ranking)"
        )
    return value


def check_num_samples(value: Any, name: str, what: str) -> int | Literal["all"]:
    """Return ``value`` when it is an int >= 1 or ``"all"``.

    Args:
        value (Any): The option's value.
        name (str): The option's name, for the message.
        what (str): What ``"all"`` averages over, for the message (e.g. ``"triplets"``).

    Raises:
        InputTypeError: ``value`` is neither an int nor a string (:obj:`None`, which meant
            ``"all"`` before the losses sampled by default, included).
        InputError: ``value`` is below 1 or a string other than ``"all"``.
    """
    if isinstance(value, str):
        if value == ALL:
            return ALL
        raise InputError(
            f"Expected {name!r} to be a positive int or 'all' (got {value!r}); pass {name}='all' "
            f"for the exact loss over all {what}"
        )
    if value is None:
        raise InputTypeError(
            f"Expected {name!r} to be a positive int or 'all' (got None, which meant all {what} "
            f"before the loss sampled by default); pass {name}='all' for the exact loss, or an "
            "int to sample"
        )
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputTypeError(
            f"Expected {name!r} to be a positive int or 'all' (got {type(value).__name__!r})"
        )
    if value < 1:
        raise InputError(f"Expected {name!r} to be a positive int or 'all' (got {value})")
    return value


def zero_loss(a: Tensor, b: Tensor) -> Tensor:
    """A zero loss still attached to the graph of ``a`` and ``b`` (``backward()`` works)."""
    return a.sum() * 0.0 + b.sum() * 0.0


def pair_mask(masks: Mapping[str, Tensor] | None, first: str, second: str, n: int) -> Tensor | None:
    """Return ``masks[first] & masks[second]`` (a missing mask counts as all present).

    Args:
        masks (Mapping[str, Tensor], optional): Bool presence masks ``[N]`` per modality.
        first (str): One modality.
        second (str): The other modality.
        n (int): Number of nodes.
    """
    if masks is None:
        return None
    out: Tensor | None = None
    for name in (first, second):
        m = masks.get(name)
        if m is not None:
            out = m if out is None else out & m
    if out is not None and out.shape != (n,):
        raise InputError(f"Expected presence masks of shape [{n}] (got {list(out.shape)})")
    return out
