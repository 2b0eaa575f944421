"""Training configuration."""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

from mmgraph.config import ConfigBase
from mmgraph.resolver import InputTypeError, check_positive_int

OPTIMIZERS = ("adamw", "adam", "sparse_adam")


@dataclasses.dataclass
class TrainConfig(ConfigBase):
    r"""Settings of :class:`~mmgraph.train.Trainer`.

    Args:
        epochs (int): Maximum number of epochs. (default: :obj:`200`)
        lr (float): AdamW learning rate. (default: :obj:`0.01`)
        weight_decay (float): AdamW weight decay. (default: :obj:`5e-4`)
        patience (int, optional): Stop after this many evaluations without improvement of
            ``monitor``; :obj:`None` never stops early. (default: :obj:`50`)
        monitor (str): Validation metric for early stopping and the best checkpoint, e.g.
            ``"macro_f1"``, ``"accuracy"``, or ``"loss"`` (minimised); of epochs that tie on
            it, the checkpoint keeps the one with the lowest validation loss.
            (default: ``"macro_f1"``)
        class_weights (bool): Weight the loss by inverse class frequency of the training
            labels, for imbalanced labels. (default: :obj:`True`)
        seed (int): Seed of everything random in training (dropout, shuffling, sampling).
            The model's initial weights are drawn when the model is built, before training:
            call :func:`mmgraph.seed_everything` before building it to repeat them, as
            ``mmgraph train`` does. (default: :obj:`0`)
        deterministic (bool): Ask PyTorch for deterministic kernels. (default: :obj:`True`)
        batch_size (int, optional): Seed nodes per mini-batch; :obj:`None` trains full-batch.
            (default: :obj:`None`)
        fanouts (list[int], optional): Neighbours sampled per layer for mini-batches.
            (default: :obj:`None`)
        grad_clip (float, optional): Clip the gradient norm. (default: :obj:`None`)
        eval_every (int): Evaluate every this many epochs. (default: :obj:`1`)
        progress (bool): Show a tqdm progress bar (where one is seen: on a terminal or in a
            notebook, not into a pipe or a log file). (default: :obj:`True`)
        optimizer (str): ``"adamw"``, ``"adam"`` or ``"sparse_adam"`` (for models whose
            parameters are all sparse embeddings, such as shallow node2vec tables; weight
            decay does not apply). (default: ``"adamw"``)
        device (str): ``"cpu"``, ``"cuda"`` (this process's ``LOCAL_RANK`` GPU under torchrun)
            or a device name such as ``"cuda:1"``. (default: ``"cpu"``)
        lr_step_size (int, optional): Multiply the learning rate by ``lr_gamma`` every this
            many epochs (PyTorch's ``StepLR``: epoch :math:`e` from 1 trains with
            :math:`\text{lr} \cdot \gamma^{\lfloor (e - 1) / s \rfloor}`); :obj:`None` keeps it
            constant. (default: :obj:`None`)
        lr_gamma (float): The decay factor of ``lr_step_size``. (default: :obj:`0.5`)
        freeze_norm_epoch (int, optional): From this epoch on (counted from 1), the batch
            norms normalise with their running statistics, which stop updating: the first
            epochs set the statistics, the rest train a network that no longer depends on
            which samples share a batch. :obj:`None` uses batch statistics throughout.
            (default: :obj:`None`)
        checkpoint_every (int): With an ``out_dir``, write the resumable checkpoint every
            this many epochs (and at the last epoch or an early stop); a run killed in
            between repeats at most this many epochs when resumed. (default: :obj:`10`)
    """

    epochs: int = 200
    lr: float = 0.01
    weight_decay: float = 5e-4
    patience: int | None = 50
    monitor: str = "macro_f1"
    class_weights: bool = True
    seed: int = 0
    deterministic: bool = True
    batch_size: int | None = None
    fanouts: list[int] | None = None
    grad_clip: float | None = None
    eval_every: int = 1
    progress: bool = True
    optimizer: str = "adamw"
    device: str = "cpu"
    lr_step_size: int | None = None
    lr_gamma: float = 0.5
    freeze_norm_epoch: int | None = None
    checkpoint_every: int = 10

    def __post_init__(self) -> None:
        if isinstance(self.epochs, int) and not isinstance(self.epochs, bool) and self.epochs < 1:
            raise ValueError(
                f"Expected 'epochs' >= 1 (got {self.epochs}): for an untrained model, do not "
                "call `fit`"
            )
        check_positive_int(self.epochs, "epochs")
        _check_number(self.lr, "lr", "> 0")
        _check_number(self.weight_decay, "weight_decay", ">= 0")
        if self.grad_clip is not None:
            _check_number(
                self.grad_clip,
                "grad_clip",
                "> 0",
                "(the largest gradient norm; None clips nothing)",
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral):
            raise InputTypeError(f"Expected 'seed' to be an int (got {type(self.seed).__name__!r})")
        self.seed = int(self.seed)  # a NumPy int from a parameter grid included
        check_positive_int(self.patience, "patience", optional=True)
        check_positive_int(self.batch_size, "batch_size", optional=True)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimizer {self.optimizer!r}; expected one of {OPTIMIZERS}")
        check_positive_int(self.lr_step_size, "lr_step_size", optional=True)
        check_positive_int(self.freeze_norm_epoch, "freeze_norm_epoch", optional=True)
        if not 0.0 < self.lr_gamma <= 1.0:
            raise ValueError(f"Expected 'lr_gamma' in (0, 1] (got {self.lr_gamma})")
        check_positive_int(self.eval_every, "eval_every")
        check_positive_int(self.checkpoint_every, "checkpoint_every")


def _check_number(value: Any, name: str, bound: str, why: str = "") -> None:
    """Refuse a ``value`` that is not a finite real number ``> 0`` (or ``>= 0``).

    A negative ``grad_clip`` turned every step uphill (``clip_grad_norm_`` scales the
    gradient by it), and an infinite ``lr`` failed later with a message about the scores.

    Raises:
        InputTypeError: ``value`` is not a number (a bool is not).
        ValueError: ``value`` is NaN, infinite or out of ``bound``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputTypeError(
            f"Expected '{name}' to be a number {bound} (got {type(value).__name__!r})"
        )
    number = float(value)
    ok = number > 0 if bound == "> 0" else number >= 0
    if not (math.isfinite(number) and ok):
        raise ValueError(
            f"Expected '{name}' to be a finite number {bound} (got {value!r}) {why}".rstrip()
        )
