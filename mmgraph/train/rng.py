"""The random state a training loop draws from, as tensors a checkpoint can hold.

A resumed run must draw the numbers the uninterrupted run would have drawn: PyTorch's
global CPU generator (dropout), the CUDA generator of the training device, Python's and
NumPy's global generators (not used by mmgraph's loop, but a user's model may), and the
``torch.Generator`` of each loader or objective that keeps its own stream (shuffling,
neighbour sampling, random walks, negative sampling).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor

from mmgraph.errors import InputError


def find_generators(**owners: object) -> dict[str, torch.Generator]:
    """The distinct ``torch.Generator`` of each of ``owners`` and of its ``sampler``.

    Looks at ``owner.generator`` and ``owner.sampler.generator`` (a
    :class:`~mmgraph.sampling.NeighborLoader` and its sampler may share one stream or not),
    naming them by the keyword, e.g. ``"loader"``, ``"loader.sampler"``, ``"objective"``;
    and, in an owner that is a module, at the ``generator`` of each submodule (a model's
    ranking loss draws its negatives from one), named ``"model.coordination_loss"``.
    """
    found: dict[str, torch.Generator] = {}
    for key, owner in owners.items():
        candidates = [
            (key, getattr(owner, "generator", None)),
            (f"{key}.sampler", getattr(getattr(owner, "sampler", None), "generator", None)),
        ]
        if isinstance(owner, torch.nn.Module):
            candidates += [
                (f"{key}.{name}", getattr(module, "generator", None))
                for name, module in owner.named_modules()
                if name
            ]
        for name, gen in candidates:
            if isinstance(gen, torch.Generator) and all(gen is not g for g in found.values()):
                found[name] = gen
    return found


def rng_state(
    generators: Mapping[str, torch.Generator] | None = None,
    device: torch.device | None = None,
) -> dict[str, Tensor]:
    """The random state as named CPU tensors (see :func:`set_rng_state`).

    Args:
        generators (Mapping[str, torch.Generator], optional): Generators of their own, saved
            as ``"gen.<name>"``. (default: :obj:`None`)
        device (torch.device, optional): The training device: its generator is saved as
            ``"cuda"`` when it is a GPU. (default: :obj:`None`)
    """
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state(legacy=True)
    if np_kind != "MT19937":  # what NumPy's legacy global generator has always been
        raise RuntimeError(f"Unexpected NumPy random state kind {np_kind!r}")
    py_version, py_state, py_gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": torch.tensor(
            [*np.asarray(np_keys).tolist(), np_pos, np_has_gauss], dtype=torch.int64
        ),
        "numpy_gauss": torch.tensor([np_gauss], dtype=torch.float64),
        "python": torch.tensor([py_version, *py_state], dtype=torch.int64),
        "python_gauss": torch.tensor([] if py_gauss is None else [py_gauss], dtype=torch.float64),
    }
    if device is not None and device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    for name, gen in (generators or {}).items():
        state[f"gen.{name}"] = gen.get_state()
    return state


def set_rng_state(
    state: Mapping[str, Tensor],
    generators: Mapping[str, torch.Generator] | None = None,
    device: torch.device | None = None,
) -> None:
    """Restore what :func:`rng_state` returned (the ``"cuda"`` state into ``device``).

    Raises:
        InputError: ``state`` lacks a generator of ``generators`` (the run was saved with
            another loader or objective).
    """
    torch.set_rng_state(state["torch"])
    numpy = state["numpy"].tolist()
    keys = np.array(numpy[:-2], dtype=np.uint32)
    np.random.set_state(("MT19937", keys, numpy[-2], numpy[-1], float(state["numpy_gauss"][0])))
    python = state["python"].tolist()
    gauss = state["python_gauss"].tolist()
    random.setstate((python[0], tuple(python[1:]), gauss[0] if gauss else None))
    if "cuda" in state and device is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"], device)
    for name, gen in (generators or {}).items():
        if f"gen.{name}" not in state and name.startswith("model."):
            warnings.warn(
                f"The checkpoint holds no state of the random generator {name!r} (it was "
                "written before checkpoints saved the model's generators): the resumed run "
                "draws other samples there than an uninterrupted run would",
                stacklevel=2,
            )
            continue
        if f"gen.{name}" not in state:
            saved = sorted(k[4:] for k in state if k.startswith("gen."))
            raise InputError(
                f"No state of the random generator {name!r} was saved (saved: {saved}): resume "
                "with the loader and objective the run was started with"
            )
        gen.set_state(state[f"gen.{name}"])
