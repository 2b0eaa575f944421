"""Checkpoints: safetensors files written atomically, never pickled modules.

Two kinds of file live in a run folder:

- ``model.safetensors`` (:data:`WEIGHTS`): a model's ``state_dict``, read by
  :func:`load_weights`.
- ``checkpoint.safetensors`` (:data:`CHECKPOINT`): everything a resumed run needs, in one
  file so that it is all of one epoch: tensors under ``model.`` (the last weights),
  ``best.`` (the best weights, when they are not the last ones), ``optim.`` (optimizer
  state) and ``rng.`` (random states), and the small rest (epoch, best score, optimizer
  hyperparameters, training config) as JSON in the safetensors metadata.

Both are written to a temporary file in the same folder, flushed to disk and renamed over
the old one, so a killed process leaves either the old file or the new one.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from safetensors.torch import save_file
from torch import Tensor, nn

from mmgraph.errors import InputError, read_safetensors

WEIGHTS = "model.safetensors"
CHECKPOINT = "checkpoint.safetensors"
FORMAT = "mmgraph.checkpoint"
VERSION = "1"


def save_weights(state_dict: Mapping[str, Tensor], path: str | Path) -> Path:
    """Save a ``state_dict`` as safetensors (tied tensors are stored as separate copies)."""
    path = Path(path)
    _atomic_save(_cpu_copies(state_dict), path)
    return path


def load_weights(path: str | Path) -> dict[str, Tensor]:
    """Load a safetensors file written by :func:`save_weights`.

    Raises:
        FileNotFoundError: No file at ``path``.
        InputError: The file is empty, truncated or not safetensors.
    """
    tensors, _ = read_safetensors(path, "weights file")
    return tensors


def load_state_dict_from(module: nn.Module, state_dict: Mapping[str, Tensor], path: Path) -> None:
    """Load ``state_dict`` (read from ``path``) into ``module``.

    Raises:
        InputError: The tensors do not fit the module (missing or unexpected keys, other
            shapes); the message names ``path``, where PyTorch raises a ``RuntimeError``.
    """
    try:
        module.load_state_dict(state_dict)
    except RuntimeError as error:
        detail = " ".join(str(error).split())
        raise InputError(
            f"The weights in '{path}' do not fit {type(module).__name__} ({detail}): load them "
            "into the architecture they were trained with, or retrain with --overwrite"
        ) from None


@dataclasses.dataclass
class Checkpoint:
    """The state of a training run after ``epoch``.

    What :class:`~mmgraph.train.Trainer` saves every ``checkpoint_every`` epochs and resumes
    from.

    Args:
        epoch (int): The last finished epoch.
        model (dict[str, Tensor]): The model's weights after ``epoch``.
        optimizer (dict): The optimizer's ``state_dict()``.
        rng (dict[str, Tensor]): Random states (see :func:`mmgraph.train.rng.rng_state`).
        best (dict[str, Tensor], optional): The best weights so far; :obj:`None` when they
            are ``model`` (the best epoch is ``epoch``). (default: :obj:`None`)
        best_epoch (int, optional): The epoch of the best score. (default: :obj:`None`)
        best_score (float, optional): The best monitored score. (default: :obj:`None`)
        bad_evals (int): Evaluations since the best one (the early-stopping count).
            (default: :obj:`0`)
        history_records (int): Records of ``history.jsonl`` this checkpoint covers.
            (default: :obj:`0`)
        train_config (dict): The training config of the run. (default: ``{}``)
    """

    epoch: int
    model: dict[str, Tensor]
    optimizer: dict[str, Any]
    rng: dict[str, Tensor]
    best: dict[str, Tensor] | None = None
    best_epoch: int | None = None
    best_score: float | None = None
    bad_evals: int = 0
    history_records: int = 0
    train_config: dict[str, Any] = dataclasses.field(default_factory=dict)


def save_checkpoint(checkpoint: Checkpoint, path: str | Path) -> Path:
    """Write ``checkpoint`` to ``path`` as one safetensors file, atomically."""
    path = Path(path)
    tensors = {f"model.{k}": v for k, v in _cpu_copies(checkpoint.model).items()}
    if checkpoint.best is not None:
        tensors.update({f"best.{k}": v for k, v in _cpu_copies(checkpoint.best).items()})
    tensors.update({f"rng.{k}": v for k, v in _cpu_copies(checkpoint.rng).items()})
    scalars: dict[str, Any] = {}
    for idx, state in checkpoint.optimizer["state"].items():
        for key, value in state.items():
            if isinstance(value, Tensor):
                tensors[f"optim.{idx}.{key}"] = value.detach().cpu().contiguous().clone()
            else:
                scalars[f"{idx}.{key}"] = value
    trainer = {
        "epoch": checkpoint.epoch,
        "best_epoch": checkpoint.best_epoch,
        "best_score": checkpoint.best_score,
        "bad_evals": checkpoint.bad_evals,
        "history_records": checkpoint.history_records,
    }
    optimizer = {"param_groups": checkpoint.optimizer["param_groups"], "scalars": scalars}
    metadata = {
        "format": FORMAT,
        "version": VERSION,
        "trainer": json.dumps(trainer),
        "optimizer": json.dumps(optimizer),
        "train_config": json.dumps(checkpoint.train_config),
    }
    _atomic_save(tensors, path, metadata)
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a file written by :func:`save_checkpoint`.

    Raises:
        FileNotFoundError: No file at ``path``.
        InputError: The file is empty, truncated, not safetensors, or not a checkpoint of
            this version.
    """
    path = Path(path)
    tensors, metadata = read_safetensors(path, "checkpoint")
    if metadata.get("format") != FORMAT or metadata.get("version") != VERSION:
        raise InputError(
            f"'{path}' is not an mmgraph training checkpoint (version {VERSION}): it cannot be "
            "resumed; retrain with --overwrite"
        )
    try:
        trainer = json.loads(metadata["trainer"])
        optimizer = json.loads(metadata["optimizer"])
        train_config = json.loads(metadata["train_config"])
    except (KeyError, ValueError) as error:
        raise InputError(
            f"The checkpoint '{path}' has damaged metadata ({error}): retrain with --overwrite"
        ) from None
    parts: dict[str, dict[str, Tensor]] = {"model": {}, "best": {}, "rng": {}, "optim": {}}
    for name, value in tensors.items():
        prefix, _, key = name.partition(".")
        parts.setdefault(prefix, {})[key] = value
    state: dict[int, dict[str, Any]] = {}
    for name, value in [*parts["optim"].items(), *optimizer["scalars"].items()]:
        idx, _, key = name.partition(".")
        state.setdefault(int(idx), {})[key] = value
    return Checkpoint(
        epoch=int(trainer["epoch"]),
        model=parts["model"],
        optimizer={"state": state, "param_groups": optimizer["param_groups"]},
        rng=parts["rng"],
        best=parts["best"] or None,
        best_epoch=trainer["best_epoch"],
        best_score=trainer["best_score"],
        bad_evals=int(trainer["bad_evals"]),
        history_records=int(trainer["history_records"]),
        train_config=train_config,
    )


# ---------------------------------------------------------------------- helpers
def _cpu_copies(tensors: Mapping[str, Tensor]) -> dict[str, Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}


def _atomic_save(
    tensors: dict[str, Tensor], path: Path, metadata: dict[str, str] | None = None
) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        save_file(tensors, str(tmp), metadata=metadata)
        with open(tmp, "r+b") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


__all__ = [
    "CHECKPOINT",
    "WEIGHTS",
    "Checkpoint",
    "load_checkpoint",
    "load_state_dict_from",
    "load_weights",
    "save_checkpoint",
    "save_weights",
]
