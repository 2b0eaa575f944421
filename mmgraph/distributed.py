"""Multi-process training with ``torch.distributed`` (``torchrun``), the PyTorch way.

``torchrun --nproc-per-node N -m mmgraph train ...`` (or multi-node torchrun) starts N
processes with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` set.
:func:`init_distributed` joins the process group (gloo on CPU, NCCL on GPUs); the
:class:`~mmgraph.train.Trainer` then wraps the model in ``DistributedDataParallel``, splits the
seed nodes across ranks, and lets rank 0 alone write checkpoints and logs;
:func:`~mmgraph.models.featurize` shards the modality encoding across ranks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn


def env_world_size() -> int:
    """``WORLD_SIZE`` from the environment (1 when not launched by torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def init_distributed(backend: str | None = None) -> bool:
    """Join the process group torchrun set up; return whether training is distributed.

    Does nothing (and returns :obj:`False`) outside torchrun or with one process. The backend
    defaults to NCCL when CUDA is available and gloo otherwise.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size() > 1
    if env_world_size() <= 1:
        return False
    if not dist.is_available():
        raise RuntimeError("This PyTorch build has no torch.distributed support")
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend=backend)
    return True


def is_distributed() -> bool:
    """Whether a process group of more than one process is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    if is_distributed():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    """Number of processes (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Whether this process writes files and prints (rank 0)."""
    return rank() == 0


def shard(index: Tensor) -> Tensor:
    """This rank's share of ``index``: every ``world_size``-th entry from ``rank``."""
    return index[rank() :: world_size()] if is_distributed() else index


def gather_rows(part: Tensor, index: Tensor, num_rows: int) -> Tensor:
    """Assemble a ``[num_rows, ...]`` tensor from each rank's rows ``part`` at ``index``."""
    if not is_distributed():
        out = part.new_zeros((num_rows, *part.shape[1:]))
        out[index] = part
        return out
    pieces: list[Any] = [None] * world_size()
    dist.all_gather_object(pieces, (part.cpu(), index.cpu()))
    out = part.new_zeros((num_rows, *part.shape[1:]))
    for rows, idx in pieces:
        out[idx] = rows.to(out.device)
    return out


class LossModule(nn.Module):
    """A module whose ``forward(batch)`` is ``objective(model, batch)``.

    ``DistributedDataParallel`` then sees the whole loss computation (whatever methods of
    the model the objective calls) and averages every gradient across ranks.
    """

    def __init__(self, model: nn.Module, objective: Callable[[nn.Module, Any], Tensor]) -> None:
        super().__init__()
        self.model = model
        self.objective = objective

    def forward(self, batch: Any) -> Tensor:
        """The objective's loss on ``batch``."""
        return self.objective(self.model, batch)


def wrap_ddp(model: nn.Module, objective: Callable[[nn.Module, Any], Tensor]) -> nn.Module:
    """A :class:`~torch.nn.parallel.DistributedDataParallel` of ``LossModule(model, objective)``.

    Unused parameters are allowed (a frozen head during pretraining, say). On GPUs the module
    lives on this process's ``LOCAL_RANK`` device.
    """
    from torch.nn.parallel import DistributedDataParallel

    module = LossModule(model, objective)
    device = next(model.parameters()).device
    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids, find_unused_parameters=True)


def barrier() -> None:
    """Wait for every rank (a no-op outside torchrun)."""
    if is_distributed():
        dist.barrier()
