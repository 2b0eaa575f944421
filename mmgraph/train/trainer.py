"""One trainer for all supervised (and unsupervised) node-level work."""

from __future__ import annotations

import copy
import csv
import json
import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from tqdm.auto import tqdm

from mmgraph import heartbeat
from mmgraph.data.graph import labelled_rows
from mmgraph.data.split import check_trainable_split, split_overlaps
from mmgraph.distributed import init_distributed, is_main_process, wrap_ddp
from mmgraph.errors import InputError
from mmgraph.eval.metrics import classification_metrics, multilabel_metrics, to_jsonable
from mmgraph.objectives.supervised import (
    SupervisedObjective,
    balanced_class_weights,
    supervised_loss,
)
from mmgraph.seed import seed_everything
from mmgraph.train.checkpoint import (
    CHECKPOINT,
    WEIGHTS,
    Checkpoint,
    load_checkpoint,
    load_state_dict_from,
    save_checkpoint,
    save_weights,
)
from mmgraph.train.config import TrainConfig
from mmgraph.train.history import HISTORY, HistoryLog
from mmgraph.train.rng import find_generators, rng_state, set_rng_state
from mmgraph.train.sparse_adam import RowSparseAdam

log = logging.getLogger(__name__)

# Settings that may change between a run and its resumption without a warning.
RESUMABLE_CHANGES = ("epochs", "patience", "progress", "device", "checkpoint_every")


class StopTraining(Exception):
    """Raised by a callback of :meth:`Trainer.fit` to end training after this epoch.

    Training stops as on early stopping (the checkpoint is written, the best weights are
    loaded); any other exception a callback raises (e.g. ``optuna.TrialPruned``) propagates
    out of :meth:`Trainer.fit`.
    """


Callback = Callable[["Trainer", dict[str, Any]], None]
"""``callback(trainer, record)``, called after each epoch with its history record."""


def numbered_callback(callback: Callback, candidate: int, epochs: int) -> Callback:
    """``callback`` for the ``candidate``-th of several trainings compared one after another.

    Its records gain ``candidate`` and ``step`` (``candidate * epochs + epoch``): one count
    across the candidates, as a pruner or a time budget reading one curve per choice needs.
    """

    def numbered(trainer: Trainer, record: dict[str, Any]) -> None:
        step = candidate * epochs + int(record["epoch"])
        callback(trainer, {**record, "candidate": candidate, "step": step})

    return numbered


def freeze_batch_norms(model: nn.Module) -> None:
    """Put ``model``'s batch norms in evaluation mode: running statistics, not updated.

    The rest of the model keeps its mode.
    """
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


class Objective(Protocol):
    """What the trainer needs of an objective: a loss per batch and its seed nodes.

    An objective whose loss reads the labels sets the class-level flag
    ``uses_labels = True`` (:class:`~mmgraph.objectives.SupervisedObjective`; a
    :class:`~mmgraph.objectives.MixedObjective` with such a part): the trainer then
    validates on ``val_mask`` and keeps the best epoch by ``monitor``; without it
    (absent means :obj:`False`) it keeps the epoch of lowest training loss.
    """

    name: str

    def __call__(self, model: nn.Module, batch: Data) -> Tensor:
        """Return the loss of ``model`` on ``batch``."""

    def input_nodes(self, graph: Data) -> Tensor | None:
        """The seed nodes mini-batches are drawn from (:obj:`None`: all nodes)."""


def to_device(data: Any, device: torch.device, dtype: torch.dtype | None = None) -> Any:
    """``data`` on ``device``: the same object, unmoved, when its tensors are there already.

    PyG's ``Data.to`` walks every attribute, lists included (a graph with raw texts has
    thousands of items), at every call; on CPU the training loop would pay that each epoch.
    With ``dtype`` (a model in another float type than float32, e.g. after ``.double()``),
    a copy whose floating tensors are cast to it.
    """
    tensors = [value for _, value in data if isinstance(value, Tensor)]
    if dtype is not None and any(t.is_floating_point() and t.dtype != dtype for t in tensors):
        data = copy.copy(data).apply(lambda t: t.to(dtype) if t.is_floating_point() else t)
    elif device.type == "cpu" and all(t.device.type == "cpu" for t in tensors):
        return data
    return data.to(device)


def _bars_show() -> bool:
    """Whether a progress bar is seen: stderr is a terminal, or a notebook's output.

    Elsewhere (a pipe, a log file) each redraw would add a line's worth of text to it.
    """
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) or "ipykernel" in sys.modules


class Trainer:
    """Train a node-level model with AdamW, early stopping, checkpoints and logs.

    One loop serves every objective (supervised cross-entropy, node2vec-style losses, their
    mixture, autoencoder pretraining) with the optimizer of ``config.optimizer`` (AdamW by
    default): each epoch iterates over a loader of batches (the whole
    graph once when ``config.batch_size`` is :obj:`None`; sampled subgraphs whose first
    ``batch.batch_size`` nodes are the seeds otherwise) and asks the objective for a loss.

    After each evaluation it logs the validation metrics (accuracy, macro-F1, F1, precision,
    recall, MCC, ROC-AUC) when the graph has labels and a validation split, keeps the best
    weights by ``config.monitor`` (of epochs that tie on it, the one with the lowest
    validation loss), and stops after ``config.patience`` evaluations without improvement.
    With ``out_dir`` it writes ``model.safetensors`` (the best weights, whenever they
    improve), ``history.jsonl`` (one line appended per epoch), ``checkpoint.safetensors``
    (every ``config.checkpoint_every`` epochs and at the end: the last and best weights,
    optimizer and random states in one file, replaced atomically, to resume from), and at the
    end ``history.csv``/``history.json`` (per-epoch metrics) and ``training_curve.png``.

    Args:
        model (torch.nn.Module): A model with ``forward(batch) -> logits`` (``[N, K]``) and,
            for embeddings, ``encode(batch) -> [N, H]``.
        config (TrainConfig, optional): Training settings. (default: :obj:`TrainConfig()`)
        out_dir (str or Path, optional): Folder for checkpoints and logs. (default: :obj:`None`)
    """

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig | None = None,
        out_dir: str | Path | None = None,
    ) -> None:
        self.model = model
        self.config = config or TrainConfig()
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.history: list[dict[str, Any]] = []
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self.epoch = 0
        self._bad_evals = 0

    # ------------------------------------------------------------------ training
    def fit(
        self,
        graph: Data,
        objective: Objective | None = None,
        resume: bool = False,
        loader: Iterable[Data] | None = None,
        callbacks: Sequence[Callback] | None = None,
    ) -> Trainer:
        """Train on ``graph`` and return ``self`` with the best weights loaded.

        Args:
            graph (torch_geometric.data.Data): The graph (a :class:`MultimodalGraph` with
                features attached, or any ``Data`` the model reads).
            objective (Objective, optional): The loss. (default: class-weighted
                :class:`~mmgraph.objectives.SupervisedObjective`)
            resume (bool, optional): Continue from ``checkpoint.safetensors`` in ``out_dir``
                (the epochs after it are trained again, drawing the same random numbers, so the
                run ends as an uninterrupted one would). (default: :obj:`False`)
            loader (Iterable[Data], optional): Batches to iterate over each epoch, replacing
                the one built from ``config``. (default: :obj:`None`)
            callbacks (Sequence[Callback], optional): Called as ``callback(self, record)``
                after each epoch (its ``record`` holds ``epoch``, ``train_loss`` and the
                ``val_*`` metrics of an evaluation epoch); raising :class:`StopTraining`
                ends training after that epoch, any other exception propagates (the
                trial pruning of :mod:`mmgraph.tune`). (default: :obj:`None`)

        Raises:
            FileNotFoundError: ``resume`` without a checkpoint in ``out_dir``.
            InputError: ``resume`` with a damaged checkpoint or ``history.jsonl``, or one
                whose tensors do not fit the model.
        """
        cfg = self.config
        if resume and self.out_dir is None:
            raise ValueError("resume=True needs an 'out_dir' holding a previous run")
        checkpoint = self._find_checkpoint() if resume else None
        seed_everything(cfg.seed, deterministic=cfg.deterministic)
        if objective is None:
            self._check_labelled(graph)
            objective = self.default_objective(graph)
        distributed = init_distributed()
        main_process = is_main_process()
        device, dtype = self.device, self._float_dtype()
        self.model.to(device)
        optimizer = self.make_optimizer()
        if loader is None:
            loader = self.make_loader(graph, objective)
        generators = find_generators(loader=loader, objective=objective, model=self.model)
        history_log = None
        if self.out_dir is not None and main_process:
            history_log = HistoryLog(self.out_dir / HISTORY)
        if checkpoint is None:
            self.history, self.best_score, self.best_epoch, self.epoch = [], None, None, 0
            self._bad_evals = 0
            best_state = copy.deepcopy(self.model.state_dict())
            if history_log is not None:
                (history_log.path.parent / CHECKPOINT).unlink(missing_ok=True)  # an older run's
                history_log.start()
        else:
            best_state = self._restore(checkpoint, optimizer, generators, history_log)
        step_module: nn.Module | None = None
        if distributed:
            step_module = wrap_ddp(self.model, objective)
        uses_labels = bool(getattr(objective, "uses_labels", False))
        can_validate = uses_labels and self._has_split(graph, "val_mask")

        stopped = cfg.patience is not None and self._bad_evals >= cfg.patience
        bar = tqdm(
            range(self.epoch + 1, cfg.epochs + 1) if not stopped else range(0),
            desc="train",
            disable=not (cfg.progress and main_process and _bars_show()),
            leave=False,
        )
        try:
            for epoch in bar:
                start = time.perf_counter()
                lr = self.learning_rate(epoch)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                self.model.train()
                if cfg.freeze_norm_epoch is not None and epoch >= cfg.freeze_norm_epoch:
                    freeze_batch_norms(self.model)
                total, batches = 0.0, 0
                for batch in loader:
                    optimizer.zero_grad()
                    batch = to_device(batch, device, dtype)
                    loss = step_module(batch) if step_module else objective(self.model, batch)
                    if not torch.isfinite(loss):
                        raise FloatingPointError(
                            f"The training loss became {float(loss)} at epoch {epoch}: lower "
                            "'lr', set 'grad_clip', or check the input features for NaN"
                        )
                    loss.backward()
                    if cfg.grad_clip is not None:
                        nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
                    optimizer.step()
                    total += float(loss.detach())
                    batches += 1
                self.epoch = epoch
                record: dict[str, Any] = {
                    "epoch": epoch,
                    "train_loss": total / max(batches, 1),
                    "time": time.perf_counter() - start,
                }
                if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
                    if can_validate:
                        val = self.evaluate(graph, "val_mask")
                        record.update({f"val_{k}": v for k, v in val.items()})
                    score = self._score(record, can_validate)
                    improved = self.best_score is None or score > self.best_score
                    if improved or self._ties_with_lower_loss(score, record):
                        self.best_score, self.best_epoch = score, epoch
                        best_state = copy.deepcopy(self.model.state_dict())
                        if self.out_dir is not None and main_process:
                            save_weights(best_state, self.out_dir / WEIGHTS)
                    self._bad_evals = 0 if improved else self._bad_evals + 1
                self.history.append(record)
                if history_log is not None:
                    history_log.append(record)
                bar.set_postfix(loss=f"{record['train_loss']:.4f}", best=self.best_epoch)
                stop = cfg.patience is not None and self._bad_evals >= cfg.patience
                for callback in callbacks or ():
                    try:
                        callback(self, record)
                    except StopTraining:
                        stop = True
                due = stop or epoch == cfg.epochs or epoch % cfg.checkpoint_every == 0
                if history_log is not None and due:
                    history_log.sync()
                    self._checkpoint(optimizer, best_state, generators)
                heartbeat.beat(epoch, cfg.epochs)
                if stop:
                    log.info("Early stopping at epoch %d (best epoch %s)", epoch, self.best_epoch)
                    break
        finally:
            bar.close()
            if history_log is not None:
                history_log.close()
        # The checkpoint (written in the loop) holds the last weights; keep the best here.
        self.model.load_state_dict(best_state)
        if self.out_dir is not None and main_process:
            self.write_logs()
        return self

    def learning_rate(self, epoch: int) -> float:
        """The learning rate of ``epoch`` (from 1): ``lr``, decayed every ``lr_step_size``."""
        cfg = self.config
        if cfg.lr_step_size is None:
            return cfg.lr
        return cfg.lr * cfg.lr_gamma ** ((epoch - 1) // cfg.lr_step_size)

    def make_optimizer(self) -> torch.optim.Optimizer:
        """The optimizer named by ``config.optimizer`` over the model's parameters.

        Adam and AdamW update all parameters with PyTorch's multi-tensor (``foreach``)
        kernels, on the CPU too (PyTorch's CPU default is one tensor at a time, a Python loop
        that costs a sixth of a small model's step); the updates are the same bit for bit.
        ``sparse_adam`` is :class:`~mmgraph.train.sparse_adam.RowSparseAdam`: SparseAdam's
        update, bit for bit, reading and writing the touched rows by index.
        """
        cfg = self.config
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"{type(self.model).__name__} has no trainable parameters")
        if cfg.optimizer == "sparse_adam":
            return RowSparseAdam(params, lr=cfg.lr)
        if cfg.optimizer == "adam":
            return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)

    def _check_labelled(self, graph: Data) -> None:
        """Refuse the default objective (supervised) where it cannot train.

        That is an unlabelled graph or a model without a classification head (the message
        names the unsupervised objective), a ``train_mask`` without labelled nodes or whose
        nodes are all of one class (:func:`~mmgraph.data.split.check_trainable_split`).
        Warns of splits that share nodes (a test score on training nodes says nothing of new
        ones). A ``val_mask`` without labelled nodes is a run without validation, as
        ``set_split(1.0, 0.0, 0.0)`` asks: the weights of the lowest training loss are kept.
        """
        y = getattr(graph, "y", None)
        labelled = y is not None and bool(labelled_rows(y).any())
        has_head = getattr(self.model, "head", True) is not None
        if labelled and has_head:
            self._check_split(graph)
            return
        if y is None:
            what = "has no labels 'y'"
        elif not labelled:
            what = "has no labelled node (every 'y' is -1)"
        else:
            what = "is labelled"
        model = "" if has_head else ", and the model has no classification head (num_classes=0)"
        raise InputError(
            f"The graph {what}{model}: `fit` without an objective trains a classifier. To "
            "learn embeddings without labels pass one, e.g. `fit(graph, "
            "objective=Node2VecObjective())` (from mmgraph.objectives); to classify, load a "
            "labelled graph and build the model from it (`MultimodalGNN.from_graph`)"
        )

    def _check_split(self, graph: Data) -> None:
        """The split checks of :meth:`_check_labelled` (on a graph with labels)."""
        if getattr(graph, "train_mask", None) is None:
            return  # the objective names it: "set a split first"
        how = (
            "give labelled nodes a training split, e.g. `graph.set_split(0.6, 0.2, 0.2)`, or "
            "set `graph.train_mask`"
        )
        check_trainable_split(graph, "the graph", how, parts=("train",))
        overlaps = split_overlaps(graph)
        if overlaps:
            warnings.warn(
                f"The graph's splits share labelled nodes ({'; '.join(overlaps)}): a "
                "validation or test score on training nodes says nothing of unseen ones. "
                "Give each node one split (`graph.set_split()` draws disjoint ones)",
                UserWarning,
                stacklevel=4,
            )

    def default_objective(self, graph: Data) -> SupervisedObjective:
        """Cross-entropy, weighted by inverse class frequency if ``config.class_weights``."""
        weights = None
        y = getattr(graph, "y", None)
        mask = getattr(graph, "train_mask", None)
        if self.config.class_weights and y is not None and mask is not None:
            num_classes = getattr(graph, "num_classes", None) or int(y.max()) + 1
            weights = balanced_class_weights(y[mask], int(num_classes))
        return SupervisedObjective(class_weights=weights)

    def make_loader(self, graph: Data, objective: Objective) -> Iterable[Data]:
        """The batches of one epoch: ``[graph]`` full-batch, else sampled subgraphs.

        Under ``torchrun`` each rank takes its share of the seed nodes: of the training mask
        full-batch, of the mini-batch seeds otherwise (``batch_size`` is then the global batch,
        split across ranks).
        """
        from mmgraph.train.loaders import make_neighbor_loader, shard_training_nodes

        if self.config.batch_size is None:
            return [shard_training_nodes(graph, objective)]
        return make_neighbor_loader(graph, objective, self.config)

    @property
    def device(self) -> torch.device:
        """The device of ``config.device`` (``"cuda"`` is this process's ``LOCAL_RANK`` GPU)."""
        name = self.config.device
        try:
            device = torch.device(name)
        except (RuntimeError, TypeError):
            raise InputError(
                f"Unknown device {name!r}: use 'cpu', 'cuda' or 'cuda:N' (TrainConfig.device)"
            ) from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise InputError(
                f"TrainConfig.device is {name!r}, but this machine's torch sees no CUDA GPU "
                f"(torch {torch.__version__}): use device='cpu'"
            )
        if name == "cuda":
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return device

    def _float_dtype(self) -> torch.dtype | None:
        """The model's float type where it is not float32 (the features' type), else None."""
        for p in self.model.parameters():
            if p.is_floating_point():
                return None if p.dtype == torch.float32 else p.dtype
        return None

    def _to_model(self, data: Any) -> Any:
        """``data`` on the model's device, in its float type."""
        return to_device(data, self.device, self._float_dtype())

    # ---------------------------------------------------------------- inference
    @torch.no_grad()
    def predict_logits(self, graph: Data) -> Tensor:
        """Logits ``[N, K]`` of every node (full-graph or layer-wise inference)."""
        self.model.eval()
        inference = getattr(self.model, "inference", None)
        if self.config.batch_size is not None and callable(inference):
            return inference(self._to_model(graph), batch_size=self.config.batch_size)
        return self.model(self._to_model(graph))

    def predict_proba(self, graph: Data) -> Tensor:
        """Class probabilities ``[N, K]`` of every node."""
        return self.predict_logits(graph).softmax(dim=-1)

    @torch.no_grad()
    def embed(self, graph: Data) -> Tensor:
        """Node embeddings ``[N, H]`` from ``model.encode`` (layer-wise for mini-batch runs)."""
        self.model.eval()
        inference = getattr(self.model, "inference", None)
        if self.config.batch_size is not None and callable(inference):
            return inference(
                self._to_model(graph), batch_size=self.config.batch_size, embeddings=True
            )
        encode = getattr(self.model, "encode", None)
        if not callable(encode):
            raise TypeError(f"{type(self.model).__name__} has no 'encode' method to embed nodes")
        return encode(self._to_model(graph))

    def evaluate(
        self, graph: Data, mask: str | Tensor = "test_mask", logits: Tensor | None = None
    ) -> dict[str, float]:
        """Metrics and cross-entropy ``loss`` on the nodes of ``mask`` (a key or a bool tensor).

        With multi-label ``y`` (0/1 rows ``[N, C]``) the metrics of
        :func:`~mmgraph.eval.metrics.multilabel_metrics` (a label is predicted where its
        logit is positive) and the binary cross-entropy. ``logits``: those of
        :meth:`predict_logits` on ``graph``, when the caller has them (several masks of one
        graph), else computed.
        """
        y = getattr(graph, "y", None)
        if y is None:
            raise ValueError("The graph has no labels 'y' to evaluate against")
        selected = getattr(graph, mask, None) if isinstance(mask, str) else mask
        if selected is None:
            raise ValueError(f"The graph has no '{mask}' to evaluate on")
        selected = selected & labelled_rows(y)
        if not bool(selected.any()):
            name = f"'{mask}'" if isinstance(mask, str) else "the evaluation mask"
            raise ValueError(
                f"No labelled nodes in {name}: a split with an empty part (e.g. "
                "`set_split(1.0, 0.0, 0.0)`) has nothing to score there; evaluate another mask "
                "or draw a split with nodes in it"
            )
        if logits is None:
            logits = self.predict_logits(graph)
        y, selected = y.to(logits.device), selected.to(logits.device)
        if y.dim() == 2:
            metrics = multilabel_metrics(y[selected].cpu(), logits[selected].cpu())
        else:
            metrics = classification_metrics(
                y[selected].cpu(),
                logits[selected].softmax(dim=-1).cpu(),
                positive_class=getattr(graph, "positive_class", None),
            )
        metrics["loss"] = float(supervised_loss(logits[selected], y[selected]))
        return metrics

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _has_split(graph: Data, key: str) -> bool:
        mask = getattr(graph, key, None)
        y = getattr(graph, "y", None)
        return mask is not None and y is not None and bool((mask & labelled_rows(y)).any())

    def _ties_with_lower_loss(self, score: float, record: dict[str, Any]) -> bool:
        """Whether ``record`` ties the kept epoch's score with a lower validation loss.

        Such an epoch's weights are kept instead (patience still counts it as no
        improvement, so training is as long). Where the metric stops moving, as at a perfect
        validation score, the weights keep getting surer of the same answers: the first
        epoch to reach it had predicted the right classes with probabilities near chance.
        """
        if self.config.monitor == "loss" or score != self.best_score or "val_loss" not in record:
            return False
        return float(record["val_loss"]) < float(self.kept_record().get("val_loss", math.inf))

    def kept_record(self) -> dict[str, Any]:
        """The history record of the epoch whose weights are kept (``{}`` if none)."""
        return next((r for r in self.history if r["epoch"] == self.best_epoch), {})

    def _score(self, record: dict[str, Any], can_validate: bool) -> float:
        monitor = self.config.monitor
        if not can_validate:
            return -float(record["train_loss"])
        key = f"val_{monitor}"
        if key not in record:
            valid = sorted(k[4:] for k in record if k.startswith("val_"))
            raise ValueError(f"Unknown monitor {monitor!r} (valid: {valid})")
        value = float(record[key])
        if math.isnan(value):
            return -math.inf
        return -value if monitor == "loss" else value

    def _find_checkpoint(self) -> Checkpoint:
        assert self.out_dir is not None  # guarded by fit
        path = self.out_dir / CHECKPOINT
        if not path.is_file():
            older = (self.out_dir / "trainer_state.yaml").is_file()
            raise FileNotFoundError(
                f"No checkpoint in {self.out_dir} ({CHECKPOINT}): nothing to resume"
                + (
                    " (its trainer_state.yaml is from an older mmgraph and cannot be resumed)"
                    if older
                    else ""
                )
                + "; train without resuming"
            )
        return load_checkpoint(path)

    def _checkpoint(
        self,
        optimizer: torch.optim.Optimizer,
        best_state: dict[str, Tensor],
        generators: dict[str, torch.Generator],
    ) -> None:
        """Save the state after ``self.epoch`` as one file, atomically."""
        assert self.out_dir is not None  # guarded by the caller
        checkpoint = Checkpoint(
            epoch=self.epoch,
            model=self.model.state_dict(),
            optimizer=optimizer.state_dict(),
            rng=rng_state(generators, device=self.device),
            best=None if self.best_epoch == self.epoch else best_state,
            best_epoch=self.best_epoch,
            best_score=self.best_score,
            bad_evals=self._bad_evals,
            history_records=len(self.history),
            train_config=self.config.to_dict(),
        )
        save_checkpoint(checkpoint, self.out_dir / CHECKPOINT)

    def _restore(
        self,
        checkpoint: Checkpoint,
        optimizer: torch.optim.Optimizer,
        generators: dict[str, torch.Generator],
        history_log: HistoryLog | None,
    ) -> dict[str, Tensor]:
        """Load ``checkpoint`` into the model, optimizer, generators; return the best weights.

        ``history.jsonl`` and ``model.safetensors``, which may have been written after the
        checkpoint, are put back to its epoch.
        """
        assert self.out_dir is not None  # guarded by fit
        path = self.out_dir / CHECKPOINT
        changed = sorted(
            key
            for key, value in self.config.to_dict().items()
            if key not in RESUMABLE_CHANGES and checkpoint.train_config.get(key, value) != value
        )
        if changed:
            log.warning("Resuming %s with changed settings %s: the run will differ", path, changed)
        load_state_dict_from(self.model, checkpoint.model, path)
        best_state = copy.deepcopy(self.model.state_dict())
        if checkpoint.best is not None:
            load_state_dict_from(self.model, checkpoint.best, path)
            best_state = copy.deepcopy(self.model.state_dict())
            self.model.load_state_dict(checkpoint.model)
        groups = checkpoint.optimizer["param_groups"]
        for saved, current in zip(groups, optimizer.param_groups):
            for key, value in current.items():  # JSON turned tuples (Adam's betas) into lists
                if isinstance(value, tuple) and isinstance(saved.get(key), list):
                    saved[key] = tuple(saved[key])
        try:
            optimizer.load_state_dict(checkpoint.optimizer)
        except (ValueError, KeyError) as error:
            raise InputError(
                f"The optimizer state in '{path}' does not fit this model and optimizer "
                f"({error}): resume with the settings the run was started with"
            ) from None
        set_rng_state(checkpoint.rng, generators, device=self.device)
        self.epoch = checkpoint.epoch
        self.best_score, self.best_epoch = checkpoint.best_score, checkpoint.best_epoch
        self._bad_evals = checkpoint.bad_evals
        if history_log is None:  # another rank under torchrun: rank 0 owns the files
            self.history = HistoryLog(self.out_dir / HISTORY).read(checkpoint.history_records)
        else:
            self.history = history_log.resume(checkpoint.history_records)
            # model.safetensors may hold weights of an epoch after the checkpoint: put back
            # the checkpoint's best (the resumed run writes any later improvement again).
            if self.best_epoch is not None:
                save_weights(best_state, self.out_dir / WEIGHTS)
            else:
                (self.out_dir / WEIGHTS).unlink(missing_ok=True)
        log.info("Resuming from epoch %d", self.epoch)
        return best_state

    def write_logs(self) -> None:
        """Write ``history.csv``, ``history.json`` and ``training_curve.png`` to ``out_dir``."""
        if self.out_dir is None or not self.history:
            return
        from mmgraph.eval.plots import plot_training_curves

        keys: list[str] = []
        for record in self.history:
            keys += [k for k in record if k not in keys]
        with open(self.out_dir / "history.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys)
            writer.writeheader()
            writer.writerows(self.history)
        (self.out_dir / "history.json").write_text(json.dumps(to_jsonable(self.history), indent=1))
        metric = f"val_{self.config.monitor}"
        metrics = ["train_loss"] + (["val_loss"] if "val_loss" in keys else [])
        if metric in keys and metric not in metrics:
            metrics.append(metric)
        plot_training_curves(self.history, self.out_dir / "training_curve.png", metrics=metrics)
