"""Checkpoints: safetensors weights plus YAML, never pickled modules."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import yaml
from safetensors.torch import load_file, save_file
from torch import Tensor

WEIGHTS = "model.safetensors"
TRAINER_STATE = "trainer_state.safetensors"
TRAINER_META = "trainer_state.yaml"


def save_weights(state_dict: Mapping[str, Tensor], path: str | Path) -> Path:
    """Save a ``state_dict`` as safetensors (tied tensors are stored as separate copies)."""
    path = Path(path)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in state_dict.items()}
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(path)
    return path


def load_weights(path: str | Path) -> dict[str, Tensor]:
    """Load a safetensors file written by :func:`save_weights`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No weights file at {path}: train a model first or check the path")
    return load_file(str(path))


def save_trainer_state(
    folder: str | Path,
    optimizer: torch.optim.Optimizer,
    meta: Mapping[str, Any],
) -> None:
    """Save the optimizer state (tensors as safetensors, the rest as YAML) and ``meta``.

    ``meta`` holds plain values (epoch, best metric, history); the RNG state of PyTorch is
    stored as a tensor so a resumed run draws the same numbers.
    """
    folder = Path(folder)
    opt = optimizer.state_dict()
    tensors: dict[str, Tensor] = {"rng.torch": torch.get_rng_state()}
    scalars: dict[str, Any] = {}
    for idx, state in opt["state"].items():
        for key, value in state.items():
            name = f"optim.{idx}.{key}"
            if isinstance(value, Tensor):
                tensors[name] = value.detach().cpu().contiguous().clone()
            else:
                scalars[name] = value
    save_file(tensors, str(folder / TRAINER_STATE))
    doc = {"param_groups": opt["param_groups"], "scalars": scalars, "meta": dict(meta)}
    (folder / TRAINER_META).write_text(yaml.safe_dump(doc, sort_keys=False))


def load_trainer_state(folder: str | Path, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore what :func:`save_trainer_state` wrote into ``optimizer``; return ``meta``."""
    folder = Path(folder)
    if not (folder / TRAINER_STATE).is_file() or not (folder / TRAINER_META).is_file():
        raise FileNotFoundError(
            f"No trainer state in {folder} ({TRAINER_STATE}, {TRAINER_META}): nothing to resume"
        )
    tensors = load_file(str(folder / TRAINER_STATE))
    doc = yaml.safe_load((folder / TRAINER_META).read_text())
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, idx, key = name.split(".", 2)
            state.setdefault(int(idx), {})[key] = value
    for name, value in (doc.get("scalars") or {}).items():
        _, idx, key = name.split(".", 2)
        state.setdefault(int(idx), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": doc["param_groups"]})
    if "rng.torch" in tensors:
        torch.set_rng_state(tensors["rng.torch"])
    return dict(doc.get("meta") or {})
