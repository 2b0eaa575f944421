"""The one place where seeds come in."""

from __future__ import annotations

import numbers
import os
import random

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and PyTorch; optionally ask PyTorch for deterministic kernels.

    Args:
        seed (int): The seed.
        deterministic (bool, optional): If set, calls
            ``torch.use_deterministic_algorithms(True, warn_only=True)``. (default: :obj:`False`)
    """
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"Expected 'seed' to be an int (got {type(seed).__name__!r})")
    seed = int(seed)  # a NumPy integer included
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def make_generator(seed: int | None) -> torch.Generator:
    """Return a CPU :class:`torch.Generator`, seeded when ``seed`` is given.

    Library functions that draw random numbers take a ``seed`` and draw from the generator
    this returns, so that they do not touch (or depend on) the global random state.
    """
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return gen


def as_generator(
    seed: int | torch.Generator | None = None, generator: torch.Generator | None = None
) -> torch.Generator:
    """The generator a function draws from, given its ``seed`` and/or ``generator`` argument.

    ``generator`` (or a generator passed as ``seed``) is returned as it is; else a new one
    seeded with ``seed`` (:func:`make_generator`).

    Raises:
        ValueError: Both a seed and a generator are given.
        TypeError: ``seed`` is neither an int, a generator nor :obj:`None`.
    """
    if generator is not None:
        if seed is not None:
            raise ValueError("Pass either 'seed' or 'generator', not both")
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                f"Expected 'generator' to be a torch.Generator (got {type(generator).__name__!r})"
            )
        return generator
    if isinstance(seed, torch.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(
            f"Expected 'seed' to be an int, a torch.Generator or None (got {type(seed).__name__!r})"
        )
    return make_generator(seed)


def global_or_seeded(seed: int | torch.Generator | None = None) -> torch.Generator:
    """:func:`as_generator`, except that :obj:`None` draws the new generator's seed from torch.

    For draws that a training run makes (a loss's sampled negatives): PyTorch's own random
    modules (dropout) follow the global generator, so ``torch.manual_seed`` or
    :func:`seed_everything` before the module is built or called make its draws repeatable
    too, where a generator seeded from the operating system differed on every run. The
    draw takes one number from the global generator.
    """
    if seed is not None:
        return as_generator(seed)
    return make_generator(int(torch.randint(0, 2**62, (1,)).item()))
