"""One trainer for all supervised (and unsupervised) node-level work."""

from __future__ import annotations

import copy
import csv
import json
import logging
import math
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data
from tqdm.auto import tqdm

from mmgraph.distributed import init_distributed, is_main_process, wrap_ddp
from mmgraph.eval.metrics import classification_metrics, to_jsonable
from mmgraph.objectives.supervised import SupervisedObjective, balanced_class_weights
from mmgraph.seed import seed_everything
from mmgraph.train.checkpoint import (
    WEIGHTS,
    load_trainer_state,
    load_weights,
    save_trainer_state,
    save_weights,
)
from mmgraph.train.config import TrainConfig

log = logging.getLogger(__name__)

LAST_WEIGHTS = "last.safetensors"


class Objective(Protocol):
    """What the trainer needs of an objective: a loss per batch and its seed nodes."""

    name: str

    def __call__(self, model: nn.Module, batch: Data) -> Tensor:
        """Return the loss of ``model`` on ``batch``."""

    def input_nodes(self, graph: Data) -> Tensor | None:
        """The seed nodes mini-batches are drawn from (:obj:`None`: all nodes)."""


def to_device(data: Any, device: torch.device) -> Any:
    """``data`` on ``device``: the same object, unmoved, when its tensors are there already.

    PyG's ``Data.to`` walks every attribute, lists included (a graph with raw texts has
    thousands of items), at every call; on CPU the training loop would pay that each epoch.
    """
    if device.type == "cpu" and all(
        value.device.type == "cpu" for _, value in data if isinstance(value, Tensor)
    ):
        return data
    return data.to(device)


class Trainer:
    """Train a node-level model with AdamW, early stopping, checkpoints and logs.

    One loop serves every objective (supervised cross-entropy, node2vec-style losses, their
    mixture, autoencoder pretraining) with the optimizer of ``config.optimizer`` (AdamW by
    default): each epoch iterates over a loader of batches (the whole
    graph once when ``config.batch_size`` is :obj:`None`; sampled subgraphs whose first
    ``batch.batch_size`` nodes are the seeds otherwise) and asks the objective for a loss.

    After each evaluation it logs the validation metrics (accuracy, macro-F1, F1, precision,
    recall, MCC, ROC-AUC) when the graph has labels and a validation split, keeps the best
    weights by ``config.monitor``, and stops after ``config.patience`` evaluations without
    improvement. With ``out_dir`` it writes ``model.safetensors`` (best weights),
    ``last.safetensors`` and ``trainer_state.*`` (to resume), ``history.csv``/``history.json``
    (per-epoch metrics) and ``training_curve.png``.

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

    # ------------------------------------------------------------------ training
    def fit(
        self,
        graph: Data,
        objective: Objective | None = None,
        resume: bool = False,
        loader: Iterable[Data] | None = None,
    ) -> Trainer:
        """Train on ``graph`` and return ``self`` with the best weights loaded.

        Args:
            graph (torch_geometric.data.Data): The graph (a :class:`MultimodalGraph` with
                features attached, or any ``Data`` the model reads).
            objective (Objective, optional): The loss. (default: class-weighted
                :class:`~mmgraph.objectives.SupervisedObjective`)
            resume (bool, optional): Continue from the last checkpoint in ``out_dir``.
                (default: :obj:`False`)
            loader (Iterable[Data], optional): Batches to iterate over each epoch, replacing
                the one built from ``config``. (default: :obj:`None`)
        """
        cfg = self.config
        if objective is None:
            objective = self.default_objective(graph)
        if resume and self.out_dir is None:
            raise ValueError("resume=True needs an 'out_dir' holding a previous run")
        if not resume:
            seed_everything(cfg.seed, deterministic=cfg.deterministic)
            self.history, self.best_score, self.best_epoch, self.epoch = [], None, None, 0
        distributed = init_distributed()
        main_process = is_main_process()
        device = self.device
        self.model.to(device)
        optimizer = self.make_optimizer()
        if resume:
            self._resume(optimizer)
        if loader is None:
            loader = self.make_loader(graph, objective)
        step_module: nn.Module | None = None
        if distributed:
            step_module = wrap_ddp(self.model, objective)
        supervised = isinstance(objective, SupervisedObjective)
        can_validate = supervised and self._has_split(graph, "val_mask")
        best_state = copy.deepcopy(self.model.state_dict())
        if resume and self.out_dir is not None and (self.out_dir / WEIGHTS).is_file():
            best_state = load_weights(self.out_dir / WEIGHTS)
        bad_evals = self._bad_evals_since_best()

        bar = tqdm(
            range(self.epoch + 1, cfg.epochs + 1),
            desc="train",
            disable=not (cfg.progress and main_process),
            leave=False,
        )
        for epoch in bar:
            start = time.perf_counter()
            lr = self.learning_rate(epoch)
            for group in optimizer.param_groups:
                group["lr"] = lr
            self.model.train()
            total, batches = 0.0, 0
            for batch in loader:
                optimizer.zero_grad()
                batch = to_device(batch, device)
                loss = step_module(batch) if step_module else objective(self.model, batch)
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"The training loss became {float(loss)} at epoch {epoch}: lower 'lr', "
                        "set 'grad_clip', or check the input features for NaN"
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
                if self.best_score is None or score > self.best_score:
                    self.best_score, self.best_epoch = score, epoch
                    best_state = copy.deepcopy(self.model.state_dict())
                    bad_evals = 0
                    if self.out_dir is not None and main_process:
                        self.out_dir.mkdir(parents=True, exist_ok=True)
                        save_weights(best_state, self.out_dir / WEIGHTS)
                else:
                    bad_evals += 1
            self.history.append(record)
            bar.set_postfix(loss=f"{record['train_loss']:.4f}", best=self.best_epoch)
            stop = cfg.patience is not None and bad_evals >= cfg.patience
            checkpoint = stop or epoch == cfg.epochs or epoch % 10 == 0
            if self.out_dir is not None and main_process and checkpoint:
                self._checkpoint(optimizer)
            if stop:
                log.info("Early stopping at epoch %d (best epoch %s)", epoch, self.best_epoch)
                break
        bar.close()
        # The last checkpoint (written in the loop) holds the last weights; keep the best here.
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
        """The optimizer named by ``config.optimizer`` over the model's parameters."""
        cfg = self.config
        params = [p for p in self.model.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"{type(self.model).__name__} has no trainable parameters")
        if cfg.optimizer == "sparse_adam":
            return torch.optim.SparseAdam(params, lr=cfg.lr)
        if cfg.optimizer == "adam":
            return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

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
        if name == "cuda":
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return torch.device(name)

    # ---------------------------------------------------------------- inference
    @torch.no_grad()
    def predict_logits(self, graph: Data) -> Tensor:
        """Logits ``[N, K]`` of every node (full-graph or layer-wise inference)."""
        self.model.eval()
        inference = getattr(self.model, "inference", None)
        if self.config.batch_size is not None and callable(inference):
            return inference(to_device(graph, self.device), batch_size=self.config.batch_size)
        return self.model(to_device(graph, self.device))

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
                to_device(graph, self.device), batch_size=self.config.batch_size, embeddings=True
            )
        encode = getattr(self.model, "encode", None)
        if not callable(encode):
            raise TypeError(f"{type(self.model).__name__} has no 'encode' method to embed nodes")
        return encode(to_device(graph, self.device))

    def evaluate(self, graph: Data, mask: str | Tensor = "test_mask") -> dict[str, float]:
        """Metrics and cross-entropy ``loss`` on the nodes of ``mask`` (a key or a bool tensor)."""
        y = getattr(graph, "y", None)
        if y is None:
            raise ValueError("The graph has no labels 'y' to evaluate against")
        selected = getattr(graph, mask, None) if isinstance(mask, str) else mask
        if selected is None:
            raise ValueError(f"The graph has no '{mask}' to evaluate on")
        selected = selected & (y >= 0)
        if not bool(selected.any()):
            raise ValueError("No labelled nodes in the evaluation mask")
        logits = self.predict_logits(graph)
        probs = logits.softmax(dim=-1)
        y, selected = y.to(logits.device), selected.to(logits.device)
        metrics = classification_metrics(
            y[selected].cpu(),
            probs[selected].cpu(),
            positive_class=getattr(graph, "positive_class", None),
        )
        metrics["loss"] = float(F.cross_entropy(logits[selected], y[selected]))
        return metrics

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _has_split(graph: Data, key: str) -> bool:
        mask = getattr(graph, key, None)
        y = getattr(graph, "y", None)
        return mask is not None and y is not None and bool((mask & (y >= 0)).any())

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

    def _bad_evals_since_best(self) -> int:
        if self.best_epoch is None:
            return 0
        evals = [
            r
            for r in self.history
            if r["epoch"] > self.best_epoch
            and (r["epoch"] % self.config.eval_every == 0 or r["epoch"] == self.config.epochs)
        ]
        return len(evals)

    def _checkpoint(self, optimizer: torch.optim.Optimizer) -> None:
        assert self.out_dir is not None  # guarded by the callers
        self.out_dir.mkdir(parents=True, exist_ok=True)
        save_weights(self.model.state_dict(), self.out_dir / LAST_WEIGHTS)
        meta = {
            "epoch": self.epoch,
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "history": to_jsonable(self.history),
            "train_config": self.config.to_dict(),
        }
        save_trainer_state(self.out_dir, optimizer, meta)

    def _resume(self, optimizer: torch.optim.Optimizer) -> None:
        assert self.out_dir is not None
        self.model.load_state_dict(load_weights(self.out_dir / LAST_WEIGHTS))
        meta = load_trainer_state(self.out_dir, optimizer)
        self.epoch = int(meta["epoch"])
        self.best_score = meta.get("best_score")
        self.best_epoch = meta.get("best_epoch")
        self.history = [
            {k: (math.nan if v is None else v) for k, v in r.items()} for r in meta["history"]
        ]
        log.info("Resuming from epoch %d", self.epoch)

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
