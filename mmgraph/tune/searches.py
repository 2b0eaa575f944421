"""What a trial of each task trains, on data whose test split is hidden, and the final runs.

Every search object is built from the data's name or path and keeps only a copy of the
data with the test split removed: test labels set to ``-1`` (unlabelled) and the test mask
emptied (node and subgraph tasks), or labels dropped altogether (unsupervised). Trials see
nothing else, so no code path of the search can read a test label. Only :meth:`final`, run
once the search is over, loads the data again, whole, to retrain the best options with
every seed and evaluate the test split.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor

from mmgraph.data.graph import UNLABELLED, MultimodalGraph, labelled_rows
from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.embedding.node2vec import ISOLATED_NODES_WARNING
from mmgraph.errors import InputError
from mmgraph.models.auto import AUTO
from mmgraph.objectives.supervised import supervised_loss
from mmgraph.tune.options import embed_run, node_run, subgraph_run

log = logging.getLogger(__name__)

Report = Callable[[int, float], None]
"""``report(step, value)``: one point of a trial's validation curve (may raise to prune)."""

T = TypeVar("T")

HELD_OUT_EDGES = 0.1
"""Share of the undirected edges the unsupervised search holds out to score embeddings."""

FEW_HELD_OUT_EDGES = 50
"""Below this many held-out edges the unsupervised search warns that its scores are noise:
with 3 edges (the TwiBot-20 sample's 32 edges) every AUC was a multiple of 1/9, and 209
trials chose among ties and luck."""


def _epoch_reporter(report: Report, monitor: str) -> Callable[[Any, dict[str, Any]], None]:
    """A :meth:`~mmgraph.train.Trainer.fit` callback passing on the validation ``monitor``."""
    key = f"val_{monitor}"

    def callback(trainer: Any, record: dict[str, Any]) -> None:
        value = record.get(key)
        if value is not None and math.isfinite(float(value)):
            step = int(record.get("step", record["epoch"]))
            report(step, -float(value) if monitor == "loss" else float(value))

    return callback


def _best_accuracy_reporter(report: Report) -> Callable[[Any, dict[str, Any]], None]:
    """A :meth:`~mmgraph.train.Trainer.fit` callback: the best validation accuracy so far.

    A running best, so that a pruner compares the trials' curves as their scores compare
    (a trial's score, its kept checkpoint's accuracy, is at most this curve's last point).
    Records of a design choice carry a ``step`` across its candidates (one curve per trial).
    """
    best = -math.inf

    def callback(trainer: Any, record: dict[str, Any]) -> None:
        nonlocal best
        value = record.get("val_accuracy")
        if value is not None and math.isfinite(float(value)):
            best = max(best, float(value))
            report(int(record.get("step", record["epoch"])), best)

    return callback


# ---------------------------------------------------------------------- node
def _val_accuracy(result: Any) -> float:
    """The validation accuracy of a node run (its kept checkpoint's)."""
    return float(result.metrics["val"]["accuracy"])


def hide_test_nodes(graph: MultimodalGraph) -> MultimodalGraph:
    """A copy of ``graph`` whose test nodes are unlabelled and whose test mask is empty."""
    hidden = graph.clone()
    test = getattr(graph, "test_mask", None)
    if test is not None:
        hidden.y = graph.y.clone()
        hidden.y[test] = UNLABELLED
        hidden.test_mask = torch.zeros_like(test)
    return hidden


SEARCH_SPLIT_SEED = 0
"""Seed of the first split a node search selects on, when the data has no split of its own."""

SEARCH_SPLITS = 5
"""Splits a node search selects on when the data has no split of its own: those of seeds
0-4, which ``mmgraph train --seeds 0 1 2 3 4`` and ``tune``'s final seeds train on."""


class TaskSearch:
    """What the search of every task shares: the data set it selects on.

    Args:
        data (str): A built-in data set name or a path (the ``--data`` of the task).
        root (str, optional): The data root. (default: :obj:`None`)
        options (dict, optional): The loader's options (``max_tweets``: a
            :class:`~mmgraph.tasks.DataSpec`'s ``options``). (default: none)
    """

    task: str
    folds: int = 1
    """Cross-validation folds (or drawn splits) a trial trains once each (1: a single split)."""
    scored_folds: int | None = None
    """How many of the ``folds`` (the first ones) a trial trains; :obj:`None`: all. A
    search under a budget lowers it once its first fold is timed (:func:`~mmgraph.tune.
    study.folds_in_budget`), for every trial of the study."""
    fold_word: str = "fold"
    """What the messages call a fold (a node search's are drawn splits)."""
    data_digest: str = ""
    """A digest of the data's content (ids, labels, edges, values; subgraphs, their labels
    and split), which a resumed study compares with the data it began on."""
    fold_per_seed: bool = False
    """Whether the final run of seed ``k`` tests fold ``k`` (node splits drawn per seed), so
    that the final seeds, not the folds, are the repeats (:func:`~mmgraph.tune.study.
    default_seeds`)."""

    def __init__(
        self, data: str, root: str | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        self.source, self.root = str(data), root
        self.data_options = dict(options or {})

    def trial(self, options: Mapping[str, Any], report: Report) -> float:
        """Train ``options`` (test split hidden); the validation score, higher is better."""
        return float(np.mean(self.trial_scores(options, report)))

    def trial_scores(self, options: Mapping[str, Any], report: Report) -> list[float]:
        """:meth:`trial`'s score per fold (one value without folds)."""
        return [self.trial(options, report)]

    def _fold_count(self) -> int:
        """How many folds a trial trains: :attr:`scored_folds` of :attr:`folds`."""
        return min(self.folds, self.scored_folds or self.folds)

    def _each_fold(
        self, report: Report, run: Callable[[int, Report | None], tuple[float, T]]
    ) -> list[T]:
        """``run(k, curve)`` on each fold a trial trains; the values it returns.

        ``run`` trains fold ``k`` and returns its score and a value. With one fold,
        ``curve`` is ``report``: the run reports its validation curve epoch by epoch. With
        several, the mean score so far is reported once per fold, a step each, and
        ``curve`` passes no value on: each epoch it calls ``report.check()`` where the
        trial's objective gave one (it stops a trial past the budget's deadline or its time
        limit inside a fold, not only at its end; :func:`mmgraph.tune.study._objective`),
        else it is :obj:`None`. The fold count is read per fold: the first fold may lower
        it (:attr:`scored_folds`).
        """
        per_epoch = self.folds == 1
        check = getattr(report, "check", None)
        tick: Report | None = None if check is None else (lambda step, value: check())
        scores: list[float] = []
        values: list[T] = []
        for k in range(self.folds):
            if k >= self._fold_count():
                break
            score, value = run(k, report if per_epoch else tick)
            scores.append(score)
            values.append(value)
            if not per_epoch:
                report(k, float(np.mean(scores)))
        return values[: self._fold_count()]

    def _with_data(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` with this search's data set."""
        return {**options, "data": self.source, "root": self.root, **self.data_options}


class NodeSearch(TaskSearch):
    """Node classification: selects on the kept run's validation accuracy (:meth:`criterion`).

    Data with a split of its own (Cora's public split): a trial trains once on it, its test
    nodes unlabelled, and reports its validation curve epoch by epoch to the pruner. Data
    without one, where ``mmgraph train --seeds 0 1 2 3 4`` draws a stratified split per
    seed: a trial trains once on each of the same :data:`SEARCH_SPLITS` splits (a fold
    each, its test nodes unlabelled), reports the mean so far split by split, and scores
    the mean; ``tune``'s final seeds then test those splits, so its numbers and the
    default command's share one protocol. No split's test nodes are read during the
    search; they are training and validation nodes of the other splits, as a fold's test
    graphs are in :class:`SubgraphSearch`'s cross-validation.
    """

    task = "node"
    space_name = "node"
    fold_word = "split"
    fold_per_seed = True

    def __init__(
        self, data: str, root: str | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        from mmgraph.tasks import DataSpec, load_graph
        from mmgraph.tasks.node_classification import (
            check_trainable,
            data_check,
            draw_split,
            needs_split,
        )

        super().__init__(data, root, options)
        spec = DataSpec(
            self.source, root=root, options=self.data_options, split_seed=SEARCH_SPLIT_SEED
        )
        graph = load_graph(spec, need_labels=True, split=False)
        self.data_digest = data_check(graph)["digest"]
        splits = [graph]
        if needs_split(graph):
            splits = [graph.clone() for _ in range(SEARCH_SPLITS)]
            for k, split in enumerate(splits):
                draw_split(split, dataclasses.replace(spec, split_seed=SEARCH_SPLIT_SEED + k))
        for split in splits:
            check_trainable(split, spec.source)
        self.folds = len(splits)
        self.split_data = [hide_test_nodes(split) for split in splits]
        self.data = self.split_data[0]
        self._featurized: dict[tuple[int, str], MultimodalGraph] = {}

    def criterion(self, options: Mapping[str, Any]) -> str:
        """What the search maximises: the validation accuracy of the run ``train`` keeps.

        The criterion ``mmgraph train`` chooses its design and text features by (its kept
        checkpoint's validation accuracy), so the first trial, the defaults, is judged as
        the default command judges its candidates. Not the lowest validation loss: under
        Adam's L2 decay, the default, a weaker decay lowers the loss and loses accuracy
        (a 6-trial Cora search scored on the loss kept a trial 1.9 points below the
        defaults on test). The luck of the best of many noisy trials is what the
        confirmation on new seeds is for (:func:`~mmgraph.tune.study.confirm_best`).
        """
        what = "validation accuracy"
        count, total = self._fold_count(), self.folds
        if total > 1:
            first = SEARCH_SPLIT_SEED
            which = f"mean over the {total} drawn splits of seeds {first}-{first + total - 1}"
            if count == 1 < total:
                which = (
                    f"on the first of the {total} drawn splits (seed {first}; as many as fit "
                    "the budget)"
                )
            elif count < total:
                which = (
                    f"mean over the first {count} of the {total} drawn splits (seeds {first}-"
                    f"{first + count - 1}; as many as fit the budget)"
                )
            what += f", {which}"
        return what

    def trial_scores(self, options: Mapping[str, Any], report: Report) -> list[float]:
        """Train on the data without test labels, once per split; each kept run's accuracy.

        The kept runs' validation accuracies; their mean is :meth:`trial`'s score.
        """
        return self._per_split(options, report, _val_accuracy)

    def val_outcomes(self, options: Mapping[str, Any], report: Report) -> list[np.ndarray]:
        """Train as :meth:`trial_scores` does; per split, whether each validation node is right.

        One array per split, one value (1.0 or 0.0) per validation node in node order; each
        array's mean is that split's score. The confirmation (:func:`~mmgraph.tune.study.
        confirm_best`) pairs them node by node: all its seeds share the validation splits,
        so a gain of a node or two may belong to those nodes rather than to the options.
        """

        def correct(result: Any) -> np.ndarray:
            graph = result.graph
            mask = graph.val_mask & (graph.y >= 0)
            predicted = result.trainer.predict_logits(graph).argmax(-1)
            return (predicted[mask] == graph.y[mask]).double().cpu().numpy()

        return self._per_split(options, report, correct)

    def _per_split(
        self, options: Mapping[str, Any], report: Report, value: Callable[[Any], T]
    ) -> list[T]:
        """``value`` of the run of each split a trial trains.

        Each run (:meth:`_train`) is scored by its validation accuracy (see
        :meth:`_each_fold`).
        """

        def run(k: int, curve: Report | None) -> tuple[float, T]:
            result = self._train(options, k, curve)
            return _val_accuracy(result), value(result)

        return self._each_fold(report, run)

    def _train(self, options: Mapping[str, Any], split: int, report: Report | None) -> Any:
        """The :class:`~mmgraph.tasks.node_classification.RunResult` of a trial's run.

        On split ``split``; ``report`` (if any) receives its validation curve.
        """
        from mmgraph.models import featurize
        from mmgraph.tasks import train_node_classifier
        from mmgraph.tasks.node_classification import min_val_loss

        run = node_run(self._with_data(options))
        data = self.split_data[split]
        choose_text = run.features.text_encoder == AUTO  # featurized per candidate inside
        key = (split, repr(sorted(run.features.to_dict().items())))
        if key not in self._featurized and not choose_text:
            # text encoders fit on the training nodes: one featurized copy per split
            self._featurized[key] = featurize(data, run.features, progress=False)
        result = train_node_classifier(
            run.data,
            run.features,
            run.model,
            run.train,
            graph=(data if choose_text else self._featurized[key]).clone(),
            progress=False,
            prefeaturized=not choose_text,
            pretrain_epochs=run.pretrain_epochs,
            callbacks=[_best_accuracy_reporter(report)] if report is not None else [],
        )
        if not math.isfinite(min_val_loss(result.trainer)):
            raise InputError("The trial trained no epoch: give 'epochs' >= 1")
        return result

    def final(
        self, options: Mapping[str, Any], seeds: Sequence[int], out: Path, progress: bool
    ) -> dict[str, Any]:
        """``mmgraph train --seeds ...`` with ``options``, written to ``out``.

        As that command does, data without a split of their own get the split of each seed
        (unless ``options`` fix a ``split_seed``).
        """
        from mmgraph.tasks.node_classification import train_node_classifier_seeds

        run = node_run(self._with_data(options), progress=progress)
        return train_node_classifier_seeds(
            run.data,
            run.features,
            run.model,
            run.train,
            seeds=seeds,
            out=out,
            progress=progress,
            pretrain_epochs=run.pretrain_epochs,
            split_per_seed=options.get("split_seed") is None,
        )

    def resume_final(
        self, options: Mapping[str, Any], seeds: Sequence[int], out: Path, progress: bool
    ) -> dict[str, Any] | None:
        """Go on with the interrupted :meth:`final` of the same ``options`` in ``out``.

        :obj:`None` where ``out`` holds no interrupted run of several seeds, or one of other
        options or seeds (the search chose otherwise since): :meth:`final` starts again.
        """
        from mmgraph.tasks.node_classification import (
            SEEDS_DOC,
            is_seeds_run,
            read_run_doc,
            resume_node_classifier_seeds,
            seeds_doc,
        )
        from mmgraph.tasks.run_folder import staging_path

        if len(seeds) < 2 or not is_seeds_run(out):
            return None
        run = node_run(self._with_data(options), progress=progress)
        split_per_seed = options.get("split_seed") is None
        now = seeds_doc(
            run.data, run.features, run.model, run.train, seeds, split_per_seed,
            run.pretrain_epochs,
        )  # fmt: skip
        then = read_run_doc(staging_path(out) / SEEDS_DOC)
        for doc in (now, then):  # (whether it showed progress changes no result)
            if isinstance(doc.get("train"), dict):
                doc["train"] = {**doc["train"], "progress": None}
        if any(then.get(key) != value for key, value in now.items()):
            return None
        return resume_node_classifier_seeds(out, progress=progress)

    @staticmethod
    def best_options(options: Mapping[str, Any], seeds: Sequence[int]) -> dict[str, Any]:
        """The ``best.yaml`` of ``options`` (``mmgraph train --config`` reads it).

        Without a ``split_seed``, as the default command: data without a split of their
        own get one split per seed, the splits the search selected on (:class:`NodeSearch`).
        """
        return {**options, "seed": int(seeds[0]), "seeds": [int(s) for s in seeds]}


# ------------------------------------------------------------------ subgraph
def hide_test_subgraphs(dataset: SubgraphDataset, seed: int = 0, fold: int = 0) -> SubgraphDataset:
    """A copy of ``dataset`` with a train/val split and its test subgraphs unlabelled.

    A split is kept (its test subgraphs unlabelled); one without validation subgraphs gets
    a seeded stratified tenth of its training ones to validate on, as ``subgraph train``
    chooses its design on (it was refused). Cross-validation folds without a split (TU):
    fold ``fold``'s test graphs are unlabelled and a stratified tenth of its training
    graphs validates. Neither: the seeded stratified 80/10/10 split that
    :func:`~mmgraph.tasks.subgraph.train_subgraph_model` draws for ``seed``.
    """
    from mmgraph.data.split import split_off_validation, stratified_split
    from mmgraph.tasks.subgraph import INNER_VALIDATION

    y = dataset.y.clone()
    labelled = labelled_rows(y)
    n = y.shape[0]
    if dataset.train_mask is not None and bool((dataset.train_mask & labelled).any()):
        train = dataset.train_mask.clone()
        val = dataset.val_mask.clone() if dataset.val_mask is not None else None
        test = (
            dataset.test_mask if dataset.test_mask is not None else torch.zeros(n, dtype=torch.bool)
        )
        if val is None or not bool((val & labelled).any()):
            log.info(
                "%s has no validation subgraphs: the search validates on a seeded tenth of "
                "its %d training ones",
                dataset.name or "The data set",
                int((train & labelled).sum()),
            )
            train, val = split_off_validation(y, train, INNER_VALIDATION, seed)
    elif dataset.folds:
        train_idx, test_idx = dataset.folds[fold]
        test = torch.zeros(n, dtype=torch.bool)
        test[test_idx] = True
        train, val = split_off_validation(y, train_idx, INNER_VALIDATION, seed)
    else:
        train, val, test = stratified_split(y, 0.8, 0.1, 0.1, seed=seed)
    y[test] = UNLABELLED
    if val is not None:
        val = val & ~test
    return dataclasses.replace(
        dataset,
        y=y,
        train_mask=train & ~test,
        val_mask=val,
        test_mask=torch.zeros(n, dtype=torch.bool),
        folds=None,
    )


def subgraph_outcomes(
    score: float, outputs: tuple[Tensor, Tensor] | None, monitor: str
) -> np.ndarray:
    """Each validation subgraph's part of ``score`` (see :meth:`SubgraphSearch.val_outcomes`).

    ``outputs``: the logits and labels of the labelled validation subgraphs. The values'
    mean is ``score``; a monitor that is no such mean, or no outputs, gives ``[score]``.
    """
    if outputs is None:
        return np.array([score])
    logits, y = outputs
    if monitor == "loss":  # the validation loss is their mean (Trainer.evaluate)
        return -supervised_loss(logits, y, reduction="none").double().cpu().numpy()
    if monitor in ("accuracy", "micro_f1") and y.dim() == 1:
        return (logits.argmax(dim=-1) == y).double().cpu().numpy()
    return np.array([score])


class SubgraphSearch(TaskSearch):
    """Subgraph / graph classification: selects on the validation ``monitor``.

    Whole graphs in cross-validation folds (TU) select inside each fold's training graphs:
    a trial trains once per fold on nine tenths of that fold's training graphs and scores
    the other tenth (the fold's test graphs unlabelled); its value is the mean over the
    folds, reported fold by fold to the pruner. One configuration is chosen for all folds,
    and the test folds are never scored during the search. A fold's test graphs are
    training graphs of the other folds, as in any cross-validation, and some of them lie in
    the other folds' validation tenths: the one choice is not strictly nested (that would
    choose per fold, on that fold's own tenth alone).
    """

    task = "subgraph"

    def __init__(
        self, data: str, root: str | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        from mmgraph.tasks.subgraph import load_subgraph_dataset, subgraph_data_digest

        if options:
            raise InputError(
                f"Subgraph data takes no loader options (got {sorted(options)}): drop them"
            )
        super().__init__(data, root)
        dataset = load_subgraph_dataset(self.source, root=root)
        self.data_digest = subgraph_data_digest(dataset)
        self.whole_graphs = bool(dataset.whole_graphs)
        self.space_name = "graph" if self.whole_graphs else "subgraph"
        folds = len(dataset.folds) if dataset.folds and dataset.train_mask is None else 1
        self.folds = folds
        self.fold_data = [hide_test_subgraphs(dataset, fold=k) for k in range(folds)]
        self.data = self.fold_data[0]
        if not bool((self.data.val_mask is not None) and self.data.val_mask.any()):
            raise InputError(
                f"{self.source!r} has no validation subgraphs to select on: give it a split "
                "with 'val' subgraphs"
            )

    def criterion(self, options: Mapping[str, Any]) -> str:
        """What the search maximises."""
        run = subgraph_run(
            self._with_data(options), whole_graphs=self.whole_graphs, dataset=self.data
        )
        monitor = run.train.monitor
        what = f"validation {monitor}" + (" (negated)" if monitor == "loss" else "")
        count, total = self._fold_count(), len(self.fold_data)
        if total > 1:
            which = f"mean over the {total} folds"
            if count == 1 < total:
                which = f"on the first of the {total} folds (as many as the budget fits)"
            elif count < total:
                which = (
                    f"mean over the first {count} of the {total} folds (as many as the budget fits)"
                )
            what += f", {which} (a tenth of each fold's training graphs validates)"
        return what

    def trial_scores(self, options: Mapping[str, Any], report: Report) -> list[float]:
        """Train on the data without test labels, once per fold; each fold's score.

        Their mean is the trial's value, reported to the pruner fold by fold.
        """
        return self._per_fold(options, report, lambda score, outputs, monitor: score)

    def val_outcomes(self, options: Mapping[str, Any], report: Report) -> list[np.ndarray]:
        """Train as :meth:`trial_scores` does; per fold, each validation subgraph's score.

        One array per fold, one value per labelled validation subgraph (graph), whose mean
        is that fold's score: the negated loss of each (``monitor="loss"``: cross-entropy,
        or with several labels a subgraph the mean of its labels' binary cross-entropies),
        or whether it is right (``accuracy`` and ``micro_f1`` of one label a subgraph). A
        monitor that is no mean over subgraphs (``macro_f1``, ``auc``, several labels'
        ``micro_f1``) gives the fold's score alone, one value. The confirmation
        (:func:`~mmgraph.tune.study.confirm_best`) pairs them subgraph by subgraph: with one
        split (SubGNN's) or one fold in the budget, all its seeds score the same validation
        subgraphs, so a gain may belong to those subgraphs rather than to the options.
        """
        return self._per_fold(options, report, subgraph_outcomes)

    def _per_fold(
        self,
        options: Mapping[str, Any],
        report: Report,
        value: Callable[[float, tuple[Tensor, Tensor] | None, str], T],
    ) -> list[T]:
        """``value(score, val_outputs, monitor)`` of each fold a trial trains.

        ``score`` is the fold's validation ``monitor`` (negated for the loss), what the
        search maximises; ``val_outputs`` the kept model's logits and labels on the
        labelled validation subgraphs (:attr:`~mmgraph.tasks.subgraph.SubgraphResult.
        val_outputs`).
        """
        from mmgraph.tasks.subgraph import train_subgraph_model

        run = subgraph_run(
            self._with_data(options), whole_graphs=self.whole_graphs, dataset=self.data
        )
        monitor = run.train.monitor

        def fold(k: int, curve: Report | None) -> tuple[float, T]:
            result = train_subgraph_model(
                self.fold_data[k],
                run.config,
                run.train,
                run.features,
                progress=False,
                callbacks=[_epoch_reporter(curve, monitor)] if curve is not None else (),
            )
            val = result.metrics.get("val")
            if not val or monitor not in val:
                raise InputError(
                    f"No validation {monitor!r} to select on (got {sorted(val or {})}): "
                    "choose 'monitor' among them"
                )
            score = -float(val[monitor]) if monitor == "loss" else float(val[monitor])
            outputs = result.val_outputs[0] if result.val_outputs else None
            return score, value(score, outputs, monitor)

        return self._each_fold(report, fold)

    def total_steps(self, options: Mapping[str, Any]) -> int | None:
        """How many reports a trial of ``options`` makes when it runs to its end.

        Its folds on cross-validation folds; else its epochs, each candidate's with
        ``pool="auto"`` or ``node_input="auto"`` (every pooling on every input of
        :func:`~mmgraph.tasks.subgraph.auto_inputs`; the step count runs on across them);
        None with early stopping (``patience``), whose end is not known in advance.
        """
        if len(self.fold_data) > 1:
            return self._fold_count()
        from mmgraph.tasks.subgraph import POOL_CHOICES, auto_inputs

        run = subgraph_run(
            self._with_data(options), whole_graphs=self.whole_graphs, dataset=self.data
        )
        if run.train.patience is not None:
            return None
        pools = len(POOL_CHOICES) if run.config.pool == AUTO else 1
        inputs = len(auto_inputs(self.data, run.config))
        return inputs * pools * int(run.train.epochs)

    def final(
        self, options: Mapping[str, Any], seeds: Sequence[int], out: Path, progress: bool
    ) -> dict[str, Any]:
        """``mmgraph subgraph train --seed S --repeats K`` with ``options``, into ``out``."""
        from mmgraph.tasks.subgraph import load_subgraph_dataset, run_subgraph_task

        run = subgraph_run(
            self._with_data({**options, **self.best_options({}, seeds)}),
            progress,
            whole_graphs=self.whole_graphs,
            dataset=self.data,
        )
        dataset = load_subgraph_dataset(self.source, root=self.root)
        return run_subgraph_task(
            dataset,
            run.config,
            run.train,
            seeds=run.seeds,
            out=out,
            features=run.features,
            progress=progress,
            source=run.source,
        )

    @staticmethod
    def best_options(options: Mapping[str, Any], seeds: Sequence[int]) -> dict[str, Any]:
        """The ``best.yaml`` of ``options`` (``mmgraph subgraph train --config`` reads it)."""
        first = int(seeds[0])
        if list(seeds) != list(range(first, first + len(seeds))):
            raise InputError(f"Expected consecutive seeds (got {list(seeds)})")
        return {**options, "seed": first, "repeats": len(seeds)}


# -------------------------------------------------------------- unsupervised
def hold_out_edges(
    graph: MultimodalGraph, share: float = HELD_OUT_EDGES, seed: int = 0
) -> tuple[MultimodalGraph, np.ndarray, np.ndarray]:
    """Remove a seeded ``share`` of the undirected edges; return the rest and a test set.

    Returns the graph without those edges (both directions) and without labels, the held
    out node pairs ``[P, 2]``, and as many node pairs joined by no edge ``[P, 2]``.
    """
    edges = graph.edge_index.numpy()
    pairs = np.sort(edges.T, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    unique = np.unique(pairs, axis=0)
    if len(unique) < 2:
        raise InputError(
            "The unsupervised search scores held-out edges: the graph needs at least 2 edges "
            f"between distinct nodes (got {len(unique)})"
        )
    rng = np.random.default_rng(seed)
    count = max(1, int(round(share * len(unique))))
    if count < FEW_HELD_OUT_EDGES:
        log.warning(
            "The unsupervised search scores each trial on %d held-out edge%s (%.0f%% of the "
            "graph's %d) against as many unjoined pairs: an AUC on so few pairs moves in steps "
            "of 1/%d and its differences between trials are mostly chance. Treat the chosen "
            "options as the defaults' equal unless the gain is large; a graph with %d edges "
            "or more gives %d held-out ones",
            count, "" if count == 1 else "s", 100 * share, len(unique), count * count,
            math.ceil(FEW_HELD_OUT_EDGES / share), FEW_HELD_OUT_EDGES,
        )  # fmt: skip
    held = unique[rng.permutation(len(unique))[:count]]
    held_set = {tuple(p) for p in held.tolist()}
    keep = torch.tensor([tuple(p) not in held_set for p in np.sort(edges.T, axis=1).tolist()])
    rest = graph.edge_subgraph(keep)
    for key in ("y", "train_mask", "val_mask", "test_mask", "class_names", "positive_class"):
        if key in rest:
            del rest[key]
    n = int(graph.num_nodes)
    existing = {tuple(p) for p in unique.tolist()}
    negatives: list[tuple[int, int]] = []
    while len(negatives) < count:
        a, b = (int(v) for v in rng.integers(0, n, size=2))
        pair = (min(a, b), max(a, b))
        if a != b and pair not in existing:
            negatives.append(pair)
    return rest, held, np.asarray(negatives)


def edge_auc(emb: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> float:
    """ROC-AUC of cosine similarity separating ``positives`` from ``negatives`` pairs."""
    from sklearn.metrics import roc_auc_score

    norm = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)

    def score(pairs: np.ndarray) -> np.ndarray:
        return np.sum(norm[pairs[:, 0]] * norm[pairs[:, 1]], axis=1)

    values = np.concatenate([score(positives), score(negatives)])
    truth = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
    return float(roc_auc_score(truth, values))


class UnsupervisedSearch(TaskSearch):
    """Unsupervised embeddings: selects on held-out edge AUC, a label-free criterion.

    A seeded tenth of the undirected edges is removed (with every label) before the
    search; each trial embeds the remaining graph and is scored by the ROC-AUC with which
    the cosine similarity of two nodes' embeddings tells the held-out edges from as many
    unjoined pairs. Labels are read only by the final clustering report (NMI, ARI, ACC).
    """

    task = "unsupervised"
    space_name = "unsupervised"

    def __init__(
        self, data: str, root: str | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        from mmgraph.tasks import DataSpec, load_graph
        from mmgraph.tasks.node_classification import data_check

        super().__init__(data, root, options)
        graph = load_graph(DataSpec(self.source, root=root, options=self.data_options))
        self.data_digest = data_check(graph)["digest"]
        self.data, self.positives, self.negatives = hold_out_edges(graph)

    def criterion(self, options: Mapping[str, Any]) -> str:
        """What the search maximises."""
        return f"held-out edge AUC ({HELD_OUT_EDGES:.0%} of the edges, cosine similarity)"

    def trial(self, options: Mapping[str, Any], report: Report) -> float:
        """Embed the graph without the held-out edges; their AUC."""
        from mmgraph.tasks.unsupervised import node2vec_embeddings

        run = embed_run(self._with_data(options))
        with warnings.catch_warnings():
            # Held-out edges leave nodes without edges that the data's graph joins: the
            # final runs, on the whole graph, warn of the data's own isolated nodes.
            warnings.filterwarnings("ignore", ISOLATED_NODES_WARNING, UserWarning)
            result = node2vec_embeddings(
                graph=self.data.clone(),
                encoder=run.encoder,
                node2vec=run.node2vec,
                features=run.features,
                model_options=run.model,
                train=run.train,
                progress=False,
            )
        emb = result.embeddings.cpu().numpy().astype(np.float64)
        return edge_auc(emb, self.positives, self.negatives)

    def final(
        self, options: Mapping[str, Any], seeds: Sequence[int], out: Path, progress: bool
    ) -> dict[str, Any]:
        """Embed the whole graph with each seed and cluster it; metrics as ``cluster``'s.

        ``out`` receives each seed's ``seed-K/embeddings.npy`` (the first seed's is what
        ``mmgraph embed --config best.yaml`` writes). ``k`` is the number of classes of a
        labelled graph, else the k in 2..10 whose k-means clusters have the highest
        modularity.
        """
        from mmgraph.eval import cluster_embeddings, clustering_metrics
        from mmgraph.tasks import DataSpec, load_graph
        from mmgraph.tasks.subgraph import summarize_folds
        from mmgraph.tasks.unsupervised import node2vec_embeddings

        graph = load_graph(DataSpec(self.source, root=self.root, options=self.data_options))
        y = getattr(graph, "y", None)
        labels = None if y is None or not bool((y != UNLABELLED).any()) else y.numpy()
        runs: list[dict[str, Any]] = []
        k: int | None = None
        out.mkdir(parents=True, exist_ok=True)
        for seed in seeds:
            run = embed_run(self._with_data({**options, "seed": int(seed)}), progress)
            path = out / f"seed-{int(seed)}" / "embeddings.npy"
            path.parent.mkdir(exist_ok=True)
            result = node2vec_embeddings(
                run.data,
                run.encoder,
                run.node2vec,
                features=run.features,
                model_options=run.model,
                train=run.train,
                out=path,
                progress=progress,
            )
            emb = result.embeddings.cpu().numpy().astype(np.float64)
            if k is None:
                k = _choose_k(emb, labels, graph.edge_index, int(seed))
            clusters = cluster_embeddings(emb, k, seed=int(seed))
            metrics = clustering_metrics(
                labels, clusters, emb=emb, edge_index=graph.edge_index, seed=int(seed)
            )
            runs.append({"test": metrics})
        summary = summarize_folds(runs)
        metrics_out: dict[str, Any] = dict(summary["test"])
        metrics_out.update(k=k, method="kmeans", runs=[r["test"] for r in runs])
        metrics_out["seed_list"] = [int(s) for s in seeds]
        return metrics_out

    @staticmethod
    def best_options(options: Mapping[str, Any], seeds: Sequence[int]) -> dict[str, Any]:
        """The ``best.yaml`` of ``options`` (``mmgraph embed --config`` reads it)."""
        return {**options, "objective": "node2vec", "seed": int(seeds[0])}


def _choose_k(emb: np.ndarray, labels: np.ndarray | None, edge_index: Any, seed: int) -> int:
    """The number of classes, else the k in 2..10 of highest k-means modularity."""
    from mmgraph.eval import cluster_embeddings
    from mmgraph.eval.clustering import modularity

    if labels is not None:
        return int(np.unique(labels[labels != UNLABELLED]).size)
    n = emb.shape[0]
    best_k, best = 2, -math.inf
    for k in range(2, min(10, n - 1) + 1):
        value = modularity(edge_index, cluster_embeddings(emb, k, seed=seed), num_nodes=n)
        if value > best:
            best_k, best = k, value
    return best_k


SEARCHES: dict[str, type] = {
    "node": NodeSearch,
    "subgraph": SubgraphSearch,
    "unsupervised": UnsupervisedSearch,
}
"""The search of each task."""
