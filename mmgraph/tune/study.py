"""``tune``: an Optuna search of one task's options, then the best options retrained.

The search (TPE, seeded; median pruning on each trial's validation curve) reads
validation scores only: trials run on data whose test split is hidden
(:mod:`mmgraph.tune.searches`). Its study lives in an Optuna storage, by default SQLite in
the output folder, so that an interrupted search resumes and several processes (``workers``
here, or more machines sharing ``storage``) run trials of the same study.

**The output folder** is a transaction (:class:`~mmgraph.tasks.run_folder.RunFolder`):
while the search runs, everything, the SQLite ``study.db`` included, is in the staging
folder ``.DIR.partial`` beside ``DIR``; an interrupted search leaves it there and
``resume=True`` continues the same study from it (the trials that were running are
marked failed and run again first). Once the best options are retrained, the folder
moves into place, holding:

* ``best.yaml``: the best options as the matching command's ``--config`` file;
* ``metrics.json``: what that command writes (``--seeds``: per seed and mean ± std);
* ``runs/``: the retrained runs (node: ``seed-K/`` run folders; subgraph: the run);
* ``study.db`` (default storage), ``tune.json`` (criterion, trial counts, best trial,
  the ``confirmation`` of the best trial against the defaults and which one was
  ``kept``, space, storage), ``history.png`` and ``importances.png`` (Optuna's plots).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import math
import multiprocessing
import os
import shutil
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.errors import InputError
from mmgraph.resolver import check_positive_int
from mmgraph.tasks.run_folder import RunFolder, staging_path, write_atomic
from mmgraph.tune.budget import parse_budget
from mmgraph.tune.defaults import loader_options
from mmgraph.tune.options import TASKS
from mmgraph.tune.searches import SEARCHES
from mmgraph.tune.space import Space, load_space

log = logging.getLogger(__name__)

STUDY_DB = "study.db"
BEST = "best.yaml"
METRICS = "metrics.json"
SUMMARY = "tune.json"

ARGUMENTS = "arguments.yaml"
"""The arguments a search was started with (in its folder): ``tune --resume --out DIR``
takes those it is not given from there (:func:`started_with`)."""
SPACE_COPY = "space.yaml"
"""A copy of the ``--space`` file (in the search's folder): a resumed search whose file has
gone since goes on with it."""
RUNS = "runs"
START_METHOD = "spawn"
"""How worker processes start: ``spawn`` (fresh interpreters; safe with threaded PyTorch)."""
HISTORY_PLOT = "history.png"
IMPORTANCE_PLOT = "importances.png"


@dataclasses.dataclass
class TuneResult:
    """What :func:`tune` returns.

    Attributes:
        out (Path): The output folder.
        task (str): ``node``, ``subgraph`` or ``unsupervised``.
        criterion (str): What the search maximised.
        best_value (float): The best trial's criterion.
        best_options (dict): ``best.yaml``: the options of the matching command.
        metrics (dict): ``metrics.json`` of the retrained runs.
        trials (dict): Number of ``complete``, ``pruned`` and ``failed`` trials.
        storage (str): The Optuna storage URL; ``study_name`` names the study in it.
        confirmation (dict, optional): The best trial and the defaults trained again on
            new seeds (:func:`confirm_best`); :obj:`None` when the best trial is the
            defaults' (or the space searches no option that has a default).
        kept (str): ``"defaults"`` when the options kept are the defaults (their trial
            scored best, or the confirmation kept them), else ``"best"``.
    """

    out: Path
    task: str
    criterion: str
    best_value: float
    best_options: dict[str, Any]
    metrics: dict[str, Any]
    trials: dict[str, int]
    storage: str
    study_name: str
    confirmation: dict[str, Any] | None = None
    kept: str = "best"


def _study_name(task: str, data: str, storage: str | None, folder: RunFolder, resume: bool) -> str:
    """``mmgraph-<task>-<data's name>``: a card's ``dataset.yaml`` is named by its folder.

    Every card is ``dataset.yaml``, so two searches of two cards in one ``--storage``
    would otherwise be one study, and the second refused. A study begun before this rule
    (named ``mmgraph-<task>-dataset.yaml``) keeps its name where its storage holds it.
    """
    from mmgraph.data.loaders.card_read import CARD_NAME

    path = Path(data)
    legacy = f"mmgraph-{task}-{path.name}"
    if path.name != CARD_NAME or not path.parent.name:
        return legacy
    name = f"mmgraph-{task}-{path.parent.name}"
    url, own = storage, folder.staging / STUDY_DB
    if url is None and resume and own.is_file():
        url = f"sqlite:///{own.resolve()}"
    if url is not None:
        import optuna

        with contextlib.suppress(Exception):  # a storage that cannot be read says so later
            names = optuna.get_all_study_names(_storage(url))
            if legacy in names and name not in names:
                return legacy
    return name


def detect_task(data: Any) -> str:
    """The task of loaded data: ``subgraph``, ``node`` (labelled graph) or ``unsupervised``."""
    if isinstance(data, SubgraphDataset):
        return "subgraph"
    y = getattr(data, "y", None)
    if y is not None and bool((y >= 0).any()):
        return "node"
    return "unsupervised"


@dataclasses.dataclass
class _Worker:
    """What one worker process needs (picklable, for ``spawn``)."""

    task: str
    data: str
    root: str | None
    data_options: dict[str, Any]
    space: str | None
    storage: str
    study_name: str
    sampler_seed: int
    trials: int | None
    deadline: float | None
    threads: int | None = None
    start: float | None = None
    reserve_scores: int = 0
    folds: int = 1


def _storage(url: str) -> Any:
    import optuna

    if url.startswith("sqlite"):  # wait for the other workers' writes instead of failing
        return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 120}})
    return url


def _sampler(seed: int) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=seed)


def _pruner(folds: int = 1) -> Any:
    """Optuna's median pruner: stop a trial below the earlier trials' median at a step.

    Per epoch (one split): from epoch 10, once 5 trials completed. Per fold (TU: the mean
    of the folds so far, reported fold by fold, 10 steps a trial): from the third fold,
    once 2 trials completed; every trial trains the same folds in the same order, so the
    means compare like with like, and a 15-minute search completes only a few such trials.
    """
    import optuna

    if folds > 1:
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=min(2, folds - 1))
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=10)


def used_trials(study: Any) -> int:
    """The trials of ``study`` that use up ``--trials``.

    Scored ones (complete or pruned), those that failed by themselves, and those running
    (another worker's: counted when they start, so that two workers stop at the count
    rather than one past it). Trials an interruption stopped are not counted: a resumed
    search runs them again.
    """
    from optuna.trial import TrialState

    kept = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
    return sum(
        t.state in kept or (t.state == TrialState.FAIL and not _interrupted(t))
        for t in study.get_trials(deepcopy=False)
    )


class _Interrupts:
    """Where an interrupt (SIGINT) may stop a search: inside a trial's training only.

    Optuna marks a trial failed when its objective raises ``KeyboardInterrupt``; an
    interrupt that lands in Optuna's own bookkeeping (asking for a trial, telling its
    result, a callback) can leave the trial marked running in the study for good. Within
    :meth:`scope` (a search's ``study.optimize``) an interrupt is raised at once inside
    :meth:`deliverable` (the training), but held inside :meth:`held` (a report, which
    writes to the study) and elsewhere: it is raised as soon as the training goes on or
    the next trial begins, or when the scope ends.
    """

    def __init__(self) -> None:
        self.active = False
        self.open = False
        self.pending = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.open:
            raise KeyboardInterrupt
        self.pending = True

    @contextlib.contextmanager
    def scope(self) -> Any:
        """Hold interrupts outside the training while the block runs (main thread only)."""
        import signal
        import threading

        if self.active or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.SIG_IGN:  # started with interrupts ignored: keep it so
            yield
            return
        self.active, self.open, self.pending = True, False, False
        signal.signal(signal.SIGINT, self._handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
            self.active = self.open = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def deliverable(self) -> Any:
        """The training of a trial: an interrupt, held or new, is raised here."""
        if not self.active:
            yield
            return
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt
        self.open = True
        try:
            yield
        finally:
            self.open = False

    @contextlib.contextmanager
    def held(self) -> Any:
        """A write to the study inside the training: an interrupt waits for its end."""
        was, self.open = self.open, False
        try:
            yield
        finally:
            self.open = was
        if was and self.pending:
            self.pending = False
            raise KeyboardInterrupt


INTERRUPTS = _Interrupts()
"""The search's interrupt handling (:class:`_Interrupts`), one per process."""


def _objective(
    search: Any,
    space: Space,
    deadline: float | Callable[[Any], float] | None = None,
    budget: float | None = None,
) -> Any:
    """The Optuna objective of ``search`` over ``space``.

    A trial still running at ``deadline`` is stopped (pruned) at its next report once the
    study has a complete trial, or on cross-validation folds at the next epoch of a fold
    (``report.check``, see :meth:`~mmgraph.tune.searches.TaskSearch._each_fold`), so a
    budget is overrun by one epoch at most;
    the first trial runs to its end, so that there is a best one. A callable ``deadline``
    is called with the study as each trial starts. On cross-validation folds the first
    trial's first fold sets how many folds every trial trains (:func:`folds_in_budget`,
    kept in the study); when even those will run past ``deadline``, a warning says so
    (the search will try nothing but the first trial) and what budget would search. Under
    a ``budget`` (its seconds), a trial much slower than the completed ones stops at its
    next report (:func:`trial_time_limit`), or earlier when ``search.total_steps`` tells
    its length and its pace says it would run past :data:`PROJECTED_LIMIT` times that
    limit (:func:`projected_seconds`).
    """
    import optuna

    folds = int(getattr(search, "folds", 1))

    def objective(trial: optuna.Trial) -> float:
        options = {**space.fixed, **{n: p.suggest(trial) for n, p in space.params.items()}}
        stop = deadline(trial.study) if callable(deadline) else deadline
        started = time.time()
        limit = trial_time_limit(trial.study, budget)
        # the first fold of the study's first trial chooses the folds, under a budget only
        # (without one, the stop is infinite and every trial trains every fold)
        chosen = _sync_folds(search, trial.study) if folds > 1 else folds
        first = chosen is None and stop is not None and math.isfinite(stop)
        steps = search.total_steps(options) if hasattr(search, "total_steps") else None
        pace: list[tuple[int, float]] = []  # (step, time) of the trial's first report

        def check(where: str = "within a fold") -> None:
            """Stop the trial at the deadline or past its time limit (see above)."""
            if stop is not None and time.time() >= stop and _has_complete(trial):
                trial.set_user_attr("stopped", "the time budget ran out")
                raise optuna.TrialPruned(f"the time budget ran out {where}")
            if time.time() - started > limit:
                trial.set_user_attr("stopped", f"slower than the budget allows ({limit:.0f} s)")
                raise optuna.TrialPruned(f"slower than {limit:.0f} s {where}")

        def report(step: int, value: float) -> None:
            nonlocal first
            if first and stop is not None:
                first = False  # one estimate, from the first fold
                count = _choose_folds(
                    search, trial.study, (time.time() - started) / (step + 1), stop - started
                )
                word = getattr(search, "fold_word", "fold")
                _warn_if_first_trial_overruns(started, step, count, stop, word)
            elif folds > 1:
                _sync_folds(search, trial.study)  # another worker may have chosen them
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {step}")
            if folds > 1 and step + 1 >= (search.scored_folds or folds):
                return  # its last fold: the trial is done, whatever the time
            check(f"at step {step}")
            projected = projected_seconds(pace, step, steps, started)
            if projected > PROJECTED_LIMIT * limit:
                trial.set_user_attr(
                    "stopped",
                    f"would take about {projected:.0f} s, over {PROJECTED_LIMIT:g} times the "
                    f"{limit:.0f} s the budget allows",
                )
                raise optuna.TrialPruned(f"projected to take {projected:.0f} s at step {step}")

        def held_report(step: int, value: float) -> None:
            with INTERRUPTS.held():
                report(step, value)

        def held_check(where: str = "within a fold") -> None:
            with INTERRUPTS.held():
                check(where)

        # a search over several folds reports once a fold; inside one it calls `check`
        # each epoch (TaskSearch._each_fold), so a slow fold stops too
        setattr(held_report, "check", held_check)  # noqa: B010 (an attribute of a function)
        trial.set_user_attr("pid", os.getpid())
        try:
            with INTERRUPTS.deliverable():
                value = search.trial(options, held_report)
        except (ValueError, TypeError, FloatingPointError) as error:
            message = " ".join(str(error).split())[:500]
            trial.set_user_attr("error", message)
            log.warning("Trial %d failed (%s): %s", trial.number, type(error).__name__, message)
            raise
        if not math.isfinite(value):
            raise optuna.TrialPruned("non-finite validation score")
        return value

    return objective


BUDGET_TRIALS = 6
"""Trials a budget should fit: the first (the defaults), three more and the two runs of
the confirmation (:func:`folds_in_budget`, :func:`trial_time_limit`)."""

SLOW_TRIAL = 2.0
"""A trial may run this many times the study's median completed trial, or a
:data:`BUDGET_TRIALS` th of the budget if longer, before it stops (:func:`trial_time_limit`)."""

PROJECTED_LIMIT = 3.0
"""A trial stops early once its pace says it would run this many times past the time it may
run (:func:`trial_time_limit`; :func:`projected_seconds`)."""

SCORED_FOLDS = "scored_folds"
"""The study attribute holding how many folds its trials score (:func:`_choose_folds`)."""


def folds_in_budget(fold_seconds: float, seconds: float, folds: int) -> int:
    """How many of ``folds`` cross-validation folds each trial of a search trains.

    All of them when :data:`BUDGET_TRIALS` trials of ``folds`` folds (``fold_seconds``
    each) fit in ``seconds``; else as many as let that many trials fit, at least one. On
    the larger TU sets ten folds a trial would leave a 15-minute budget no trial but the
    defaults'; every trial then scores the same first folds, so their means compare.
    """
    if fold_seconds <= 0 or not math.isfinite(seconds):  # no budget: every fold
        return folds
    return max(1, min(folds, int(seconds // (BUDGET_TRIALS * fold_seconds))))


def trial_time_limit(study: Any, budget: float | None) -> float:
    """How long a trial of ``study`` may run under a ``budget`` of seconds (inf: no limit).

    Once a trial has completed, a trial that runs past both :data:`SLOW_TRIAL` times the
    median completed trial and a :data:`BUDGET_TRIALS` th of the budget stops (pruned) at
    its next report: one slow configuration (three GLASS layers with batch statistics and
    dropout: 18 s an epoch, about 15 times the defaults) would otherwise take most of a
    15-minute budget, leaving no room for other trials. The first trial is never stopped.
    """
    seconds = _completed_seconds(study)
    if budget is None or not seconds:
        return math.inf
    return max(budget / BUDGET_TRIALS, SLOW_TRIAL * statistics.median(seconds))


def projected_seconds(
    pace: list[tuple[int, float]], step: int, steps: int | None, started: float
) -> float:
    """How long a trial reporting ``step`` now will run in all, at its pace (0: unknown).

    ``pace`` holds the trial's first report ``(step, time)`` (appended on the first call);
    the pace is the time per step since then, so that what comes before the first step
    (loading, neighbourhood caches) does not count as a step's time. ``steps`` is the
    trial's report count (None: unknown). A slow configuration (two or three GLASS layers
    with batch statistics: 4-60 s an epoch on SubGNN's sets, against the defaults' 0.1 s)
    is then stopped after two epochs instead of at :func:`trial_time_limit`, 150 s into a
    15-minute budget.
    """
    now = time.time()
    if not pace:
        pace.append((step, now))
        return 0.0
    first, at = pace[0]
    if steps is None or step <= first or step + 1 >= steps:
        return 0.0
    return (now - started) + (now - at) / (step - first) * (steps - step - 1)


def _completed_trials(study: Any) -> list[Any]:
    import optuna

    return list(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))


def _completed_seconds(study: Any, trials: list[Any] | None = None) -> list[float]:
    """How long each completed trial of ``study`` took (``trials``: those, fetched)."""
    return [
        (t.datetime_complete - t.datetime_start).total_seconds()
        for t in (_completed_trials(study) if trials is None else trials)
        if t.datetime_start is not None and t.datetime_complete is not None
    ]


def _sync_folds(search: Any, study: Any) -> int | None:
    """Set ``search.scored_folds`` from the study's choice; the choice (None: not made)."""
    value = study.user_attrs.get(SCORED_FOLDS)
    if value is not None:
        search.scored_folds = int(value)
    return None if value is None else int(value)


def _choose_folds(search: Any, study: Any, fold_seconds: float, seconds: float) -> int:
    """Choose the study's folds per trial from its first fold; the count.

    The first worker to choose sets it for every trial and worker of the study (a resumed
    study keeps it); a worker that chose otherwise at the same moment takes that value.
    """
    folds = int(search.folds)
    own = folds_in_budget(fold_seconds, seconds, folds)
    if study.user_attrs.get(SCORED_FOLDS) is None:
        study.set_user_attr(SCORED_FOLDS, own)
    count = _sync_folds(search, study) or own
    if count < folds and count == own:  # a worker that took another's choice does not advise
        word = getattr(search, "fold_word", "fold")
        log.warning(
            "The first %s took %.1f s: %d %ss a trial leave too little of the budget "
            "for a search, so every trial scores %s (room for about %d trials). "
            "To score all %d, give --budget %dm or more.",
            word,
            fold_seconds,
            folds,
            word,
            "the first of them" if count == 1 else f"the first {count} of them",
            max(1, int(seconds // (count * fold_seconds))),
            folds,
            math.ceil(BUDGET_TRIALS * folds * fold_seconds / 60),
        )
    return count


def started_with(out: str | Path) -> dict[str, Any]:
    """The arguments the interrupted search of ``out`` was started with.

    They are read from its staging folder's :data:`ARGUMENTS`.

    Raises:
        InputError: No interrupted search there, or one from before the file was written.
    """
    staging = staging_path(out)
    path = staging / ARGUMENTS
    if not path.is_file():
        RunFolder(out, resume=True).check()  # says what is there instead
        raise InputError(
            f"The interrupted search '{staging}' does not record its arguments ({ARGUMENTS}): "
            "give them again with --resume (--data, --budget or --trials, ...)"
        )
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict):
        raise InputError(f"'{path}' is not a record `mmgraph tune` wrote: give the arguments")
    return doc


def duration(seconds: float) -> str:
    """``seconds`` as a message says it: ``"40 s"`` under a minute, else ``"3 min"``."""
    return f"{seconds:.0f} s" if seconds < 59.5 else f"{seconds / 60:.0f} min"


def _warn_if_first_trial_overruns(
    started: float, step: int, folds: int, stop: float, word: str = "fold"
) -> None:
    """Warn when the first trial (``step + 1`` of ``folds`` folds done) will end past ``stop``.

    ``word`` is what the message calls a fold (``"split"`` for a node search's).

    It runs to its end whatever the budget (a search needs one complete trial), so the
    search would try nothing else: the warning gives the trial's estimated length and a
    budget that leaves room for a few more trials and the confirmation.
    """
    total = (time.time() - started) * folds / (step + 1)
    if started + total <= stop:
        return
    log.warning(
        "The first trial (the defaults) trains %d %s%s and will take about %s, "
        "past the end of the budget: the search will run no other trial and keep the "
        "defaults. To search further, give --budget %dm or more (room for about 4 trials).",
        folds,
        word,
        "" if folds == 1 else "s",
        duration(total),
        math.ceil(4 * total / 60),
    )


def final_run_count(search: Any, seeds: int) -> int:
    """How many training runs ``tune``'s final trains.

    A run per seed, and on cross-validation folds (TU) a run per fold and seed.
    """
    folds = int(getattr(search, "folds", 1))
    return seeds * folds if folds > 1 and not getattr(search, "fold_per_seed", False) else seeds


def _warn_if_final_overruns(
    study: Any, params: dict[str, Any], search: Any, seeds: int, budget: float | None
) -> None:
    """Warn when the final runs of ``params`` will take over a quarter of the ``budget``.

    The budget bounds the search and its confirmation, not the final runs (on TU folds ten
    runs a seed, where a trial trained as few as one): a 3-minute search on 200 small
    graphs then took 8 minutes in all. Their length is estimated from the trial of
    ``params``: its time per fold (or per run) times the final's runs, divided on TU folds
    by the folds that train at once (:func:`~mmgraph.tasks.subgraph.fold_jobs`).
    """
    if budget is None:
        return
    trials = [t for t in _completed_trials(study) if t.params == params]
    seconds = _completed_seconds(study, trials[:1])
    if not seconds:
        return
    trained = max(1, len(trials[0].intermediate_values)) if int(search.folds) > 1 else 1
    runs = final_run_count(search, seeds)
    jobs = 1
    if runs > seeds:  # the final's folds train side by side, as `subgraph train`'s do
        from mmgraph.tasks.subgraph import fold_jobs

        jobs = fold_jobs(int(search.folds))
    total = seconds[0] / trained * runs / jobs
    if total <= max(60.0, 0.25 * budget):
        return
    which = f"{seeds} seed{'s' if seeds > 1 else ''}"
    if runs > seeds:
        which += f" × {search.folds} folds" + (f", {jobs} at once" if jobs > 1 else "")
    log.warning(
        "The search is over; the final runs (%d training runs: %s) will take about %s "
        "more: the budget bounds the search and its confirmation, not them.",
        runs,
        which,
        duration(total),
    )


def _has_complete(trial: Any) -> bool:
    import optuna

    states = (optuna.trial.TrialState.COMPLETE,)
    return bool(trial.study.get_trials(deepcopy=False, states=states))


def default_params(space: Space, search: Any) -> dict[str, Any]:
    """The defaults of the searched options that lie in their ranges (the first trial).

    The search then starts from what the command does without flags, so the chosen
    configuration is at least as good as the defaults on validation (unless the defaults'
    trial is pruned or fails). Whole graphs use their own defaults
    (:func:`~mmgraph.tune.options.whole_graph_defaults` of the search's graphs).
    """
    from mmgraph.tune.options import OPTIONS, whole_graph_defaults

    defaults = dict(OPTIONS[search.task])
    if getattr(search, "whole_graphs", False):
        data = getattr(search, "data", None)
        defaults.update(whole_graph_defaults(getattr(data, "graph", None)))
    out: dict[str, Any] = {}
    for name, param in space.params.items():
        if name not in defaults:
            continue
        value = defaults[name]
        if param.kind == "categorical":
            if value in param.choices:
                out[name] = value
        elif (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and param.low is not None
            and param.high is not None
            and param.low <= value <= param.high
        ):
            out[name] = value
    return out


def _defaults_as_run(study: Any, space: Space, defaults: dict[str, Any]) -> dict[str, Any]:
    """The options of the defaults' trial: ``defaults`` and what it drew for the rest.

    A searched option whose default lies outside its range (``hidden: {choices: [8]}``)
    has no default in the space: the defaults' trial (the study's first) drew a value of
    it. The defaults that the best trial is then compared with, and kept in its place,
    are that trial's, inside the space, not the command's default outside it.
    """
    if not defaults or set(defaults) == set(space.params):
        return defaults
    trials = study.get_trials(deepcopy=False)
    first = dict(trials[0].params) if trials else {}
    if set(first) != set(space.params) or any(first[k] != v for k, v in defaults.items()):
        return defaults  # not the defaults' trial (a study of another version, say)
    drawn = {k: v for k, v in first.items() if k not in defaults}
    log.info("Outside the space, the defaults' trial drew %s", drawn)
    return first


def _run_worker(work: _Worker, search: Any = None, bar: Any = None) -> None:
    """Run trials of the study until the budget or the trial count is used up."""
    import optuna

    if work.threads is not None:
        import torch

        torch.set_num_threads(work.threads)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if search is None:
        search = SEARCHES[work.task](work.data, work.root, work.data_options)
    space = load_space(search.space_name, work.space)
    study = optuna.load_study(
        study_name=work.study_name,
        storage=_storage(work.storage),
        sampler=_sampler(work.sampler_seed),
        pruner=_pruner(getattr(search, "folds", 1)),
    )
    callbacks: list[Any] = []
    if work.trials is not None:
        if used_trials(study) >= work.trials:
            return
        count = work.trials

        def stop_at_count(study: Any, trial: Any) -> None:
            if used_trials(study) >= count:
                study.stop()

        callbacks.append(stop_at_count)
    if bar is not None:
        callbacks.append(lambda study, trial: _update_bar(bar, study))
    if work.deadline is not None:

        def stop_at_deadline(study: Any, trial: Any) -> None:
            if time.time() >= _stop_time(study, work):
                study.stop()

        callbacks.append(stop_at_deadline)
    with INTERRUPTS.scope():
        _optimize(work, search, space, study, callbacks)


def _optimize(work: _Worker, search: Any, space: Space, study: Any, callbacks: list[Any]) -> None:
    import optuna

    while True:
        if time.time() >= _stop_time(study, work) and _completed_trials(study):
            return  # a search needs one completed trial: a spent budget still runs one
        try:
            study.optimize(
                _objective(
                    search,
                    space,
                    lambda study: _stop_time(study, work),
                    None
                    if work.deadline is None or work.start is None
                    else work.deadline - work.start,
                ),
                callbacks=callbacks,
                catch=(ValueError, TypeError, FloatingPointError),
                gc_after_trial=True,
            )
        except (optuna.exceptions.UpdateFinishedTrialError, ValueError) as error:
            # Two workers on one SQLite study can both take the same queued trial (the
            # defaults); the one that finishes second cannot record it (Optuna raises one
            # of these two, depending on when the other's result was written). Its result
            # repeats the other's: drop it and go on with the next trial.
            if isinstance(error, ValueError) and not str(error).startswith(FINISHED_TELL):
                raise
            log.info("A queued trial was run by two workers; the second result is dropped")
            if work.trials is not None and used_trials(study) >= work.trials:
                return
            continue
        return


FINISHED_TELL = "Cannot tell a "
"""How Optuna's ``ValueError`` for a result told to a trial already finished starts."""


def _stop_time(study: Any, work: _Worker) -> float:
    """When ``work`` stops starting and running trials: its deadline, less the reserve.

    The reserve is for the confirmation after the search (:func:`confirm_best`): two runs
    (the best's and the defaults') per seed that ``work.reserve_scores`` paired scores need
    (:func:`confirmation_seeds`; on folds, over the folds the study's trials score, or all
    ``work.folds`` before it has chosen), each as long as the study's median completed
    trial (none before one has completed), and at most half of the budget. While the
    defaults' own trial (the study's first) scores best, nothing is to be confirmed unless
    a later trial beats it: the reserve is then only what :data:`MIN_CONFIRM_SCORES` paired
    scores need, so that the search goes on into the rest (a subgraph search stopped at half
    its budget when the defaults won), and a trial that takes the lead there still leaves
    the confirmation the time for its two scores.
    """
    if work.deadline is None:
        return math.inf
    if not work.reserve_scores:
        return work.deadline
    done = _completed_trials(study)
    seconds = _completed_seconds(study, done)
    if not seconds:
        return work.deadline
    folds = int(getattr(study, "user_attrs", {}).get(SCORED_FOLDS) or work.folds)
    scores = work.reserve_scores
    if max(done, key=lambda t: t.value).number == 0:  # the defaults' own trial leads
        scores = min(scores, MIN_CONFIRM_SCORES)
    runs = 2 * len(confirmation_seeds(work.task, scores, folds))
    reserve = runs * statistics.median(seconds)
    if work.start is not None:
        reserve = min(reserve, (work.deadline - work.start) / 2)
    return work.deadline - reserve


def replaces_defaults(
    best: Sequence[float], defaults: Sequence[float], other_se: float = 0.0
) -> tuple[bool, float, float]:
    """``(replace, gain, se)``: whether the best trial's options replace the defaults.

    ``best`` and ``defaults`` are validation scores (higher is better) of the two option
    sets trained with the same seeds, one per seed. ``gain`` is the mean of the per-seed
    differences ``best - defaults`` and ``se`` its standard error (0 with one seed). The
    best options replace the defaults only when ``gain > se``: the one-standard-error rule
    of model selection (Breiman et al., 1984), with the defaults as the option set to keep
    unless the data say otherwise. The search picks the best of many noisy trials, so its
    winner's own score is biased up; scored again on new seeds, a gain within the noise is
    not evidence against defaults chosen across data sets.

    ``other_se`` is a standard error from another source of noise that the gain must
    exceed too (:func:`item_standard_error`): ``se`` is then the larger of the two, and a
    gain equal to it (as a single validation node's is to the nodes') does not replace.
    """
    if len(best) != len(defaults) or not best:
        raise ValueError(
            f"Expected one score per seed for both option sets (got {len(best)} and "
            f"{len(defaults)})"
        )
    gains = [b - d for b, d in zip(best, defaults, strict=True)]
    gain = statistics.fmean(gains)
    se = statistics.stdev(gains) / math.sqrt(len(gains)) if len(gains) > 1 else 0.0
    se = max(se, other_se)
    return gain - se > 1e-12, gain, se


DEFAULT_SEEDS = 5
"""``tune``'s final seeds without folds (:func:`default_seeds`)."""

CONFIRM_ERRORS = (ValueError, TypeError, FloatingPointError)
"""Errors of a confirmation run that count as a failed option set (as a failed trial)."""


MIN_CONFIRM_SCORES = 2
"""Paired scores a confirmation under a budget trains at least (a standard error needs two)."""


def confirm_best(
    search: Any,
    space: Space,
    best: dict[str, Any],
    defaults: dict[str, Any],
    seeds: Sequence[int],
    deadline: float | None = None,
) -> dict[str, Any]:
    """Train the best trial's and the defaults' options again with ``seeds``; which to keep.

    Both run as trials do (test split hidden, validation scores only), seed by seed: the
    best's run, then the defaults'. A search over cross-validation folds (its
    ``trial_scores``) gives one score per seed and fold, paired fold by fold. A search
    with ``val_outcomes`` (node and subgraph searches: one array per split or fold, each
    validation node's or subgraph's part of the score) pairs them item by item too: the
    standard error is then the larger of the seeds' and the items' (the splits' items
    together: :func:`item_standard_error`, recorded as ``item_standard_error``). Seeds
    that score the same validation items (one split, or one fold in the budget) differ
    by their training alone, and their standard error misses how far another draw of
    as many items could move the gain (IMDB-MULTI's search on one fold kept a trial on
    two seeds' gain of 0.017 ± 0.005 in validation loss, which tested 1.3 points under
    the defaults). With a
    ``deadline`` (the budget's end, a :func:`time.time`) no further seed starts once its
    two runs, as long as the seeds' so far, would end past it, and
    :data:`MIN_CONFIRM_SCORES` paired scores are in: a slow best trial (component's three
    layers of width 128, 140 s a run) would otherwise run the confirmation far past the
    budget. Returns the record written to ``tune.json``'s ``confirmation``: the seeds
    trained (``planned_seeds`` too when the deadline cut them), each option set's scores,
    the mean gain and its standard error, and ``kept`` (``"best"`` or ``"defaults"``; see
    :func:`replaces_defaults`). An option set whose run fails or scores a non-finite value
    loses (both failing: the best is kept, as the search chose it); no seed follows a
    failed run.
    """
    per_fold = getattr(search, "trial_scores", None)
    per_item = getattr(search, "val_outcomes", None)
    items: dict[str, list[np.ndarray]] = {"best": [], "defaults": []}
    scores: dict[str, list[float] | None] = {"best": [], "defaults": []}

    def run(name: str, params: dict[str, Any], seed: int) -> list[float] | None:
        options = {**space.fixed, **params, "seed": int(seed)}
        try:
            if per_item is not None:
                outcomes = per_item(options, _ignore)  # one array per split or fold
                items[name].append(np.concatenate(outcomes))
                values = [float(np.mean(c)) for c in outcomes]
            elif per_fold is not None:
                values = per_fold(options, _ignore)
            else:
                values = [search.trial(options, _ignore)]
        except CONFIRM_ERRORS as error:
            log.warning("Confirmation run with seed %d failed: %s", seed, error)
            return None
        values = [float(v) for v in values]
        return values if all(math.isfinite(v) for v in values) else None

    used: list[int] = []
    started = time.time()
    for s in seeds:
        paired = len(scores["best"] or [])
        if used and deadline is not None and paired >= MIN_CONFIRM_SCORES:
            per_seed = (time.time() - started) / len(used)
            if time.time() + per_seed > deadline:
                log.info(
                    "The budget leaves time for %d of the %d confirmation seeds (%.0f s a seed)",
                    len(used),
                    len(seeds),
                    per_seed,
                )
                break
        used.append(int(s))
        for name, params in (("best", best), ("defaults", defaults)):
            done = scores[name]
            values = run(name, params, s)
            scores[name] = None if done is None or values is None else done + values
        if scores["best"] is None or scores["defaults"] is None:
            break
    record: dict[str, Any] = {"seeds": used}
    if len(used) < len(seeds) and scores["best"] is not None and scores["defaults"] is not None:
        record["planned_seeds"] = [int(s) for s in seeds]
    record["best"] = best_scores = scores["best"]
    record["defaults"] = default_scores = scores["defaults"]
    if best_scores is None or default_scores is None:
        record["kept"] = "defaults" if best_scores is None and default_scores else "best"
        return record
    item_se = 0.0
    if per_item is not None:
        record["item_standard_error"] = item_se = item_standard_error(
            items["best"], items["defaults"]
        )
    replace, gain, se = replaces_defaults(best_scores, default_scores, item_se)
    record.update(gain=gain, standard_error=se, kept="best" if replace else "defaults")
    return record


def item_standard_error(best: Sequence[np.ndarray], defaults: Sequence[np.ndarray]) -> float:
    """Standard error of the gain over the validation items both option sets were scored on.

    ``best`` and ``defaults`` hold, per seed, each validation item's part of the score
    (a node's or subgraph's 1.0 or 0.0 for right or wrong, a subgraph's negated loss; the
    same items in the same order). Per item, the difference of its value averaged over the
    seeds; the standard error of their mean is how far the gain could move with another
    draw of as many validation items. The seeds' own standard error
    (:func:`replaces_defaults`) misses this when every seed is scored on the same split:
    on 37 validation nodes (Cornell's) one node is 0.027 of accuracy.
    """
    diff = np.mean(np.stack(best), axis=0) - np.mean(np.stack(defaults), axis=0)
    if diff.size < 2:
        return 0.0
    return float(np.std(diff, ddof=1) / math.sqrt(diff.size))


def confirmation_seeds(task: str, seeds: int, folds: int = 1) -> list[int]:
    """The seeds of :func:`confirm_best`: those after the trials' seed.

    Every trial trains with the task's default ``seed`` (a space cannot set it); the best
    trial's score on that seed is the highest of many, so the confirmation uses new seeds:
    ``seeds`` of them, or with cross-validation ``folds`` (each a paired score), as many as
    give at least ``seeds`` scores (one seed for 10 folds and 5 seeds).
    """
    from mmgraph.tune.options import OPTIONS

    first = int(OPTIONS[task]["seed"]) + 1
    count = max(1, math.ceil(seeds / max(1, folds)))
    return list(range(first, first + count))


def default_seeds(search: Any) -> int:
    """``tune``'s final seeds when none are given: 5, or 1 on cross-validation folds.

    The 10 folds of a TU set are its repeats, as for ``mmgraph subgraph train``. A node
    search's splits are not (its ``fold_per_seed``): the final seed ``k`` trains split
    ``k``, so 5 seeds test the 5 splits, as ``mmgraph train --seeds 0 1 2 3 4`` does.
    """
    folds = getattr(search, "folds", 1)
    return 1 if folds > 1 and not getattr(search, "fold_per_seed", False) else DEFAULT_SEEDS


def _ignore(step: int, value: float) -> None:
    """A report that records nothing (confirmation runs are not trials)."""


def _update_bar(bar: Any, study: Any) -> None:
    counts = _trial_counts(study)
    bar.n = sum(counts.values())
    best = None
    try:
        best = study.best_value
    except ValueError:
        pass
    bar.set_postfix(best=None if best is None else f"{best:.4f}", pruned=counts["pruned"])
    bar.refresh()


def _spawned(work: _Worker) -> None:  # pragma: no cover - runs in a child process
    """A worker process, which Ctrl-C (sent to the whole process group) ends quietly.

    The main process says "interrupted" in one line; the worker's running trial stays
    failed without an error, so ``--resume`` runs it again.
    """
    try:
        each_warning_once(_run_worker)(work)
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def _trial_counts(study: Any) -> dict[str, int]:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    failed = [t for t in trials if t.state == TrialState.FAIL]
    stopped = sum(_interrupted(t) for t in failed)
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    timed_out = sum("stopped" in t.user_attrs for t in pruned)
    return {
        "complete": sum(t.state == TrialState.COMPLETE for t in trials),
        "pruned": len(pruned) - timed_out,
        "timed_out": timed_out,
        "failed": len(failed) - stopped,
        "interrupted": stopped,
    }


def _interrupted(trial: Any) -> bool:
    """Whether a failed ``trial`` was stopped (Ctrl-C, a killed worker): it has no error."""
    return "error" not in trial.user_attrs


def searched_seconds(study: Any) -> float:
    """How long trials of ``study`` were running: the union of their start-to-end spans.

    A resumed search counts it against its budget, so that an interrupted 15-minute search
    does not get 15 more minutes. Overlapping trials (several workers) count once; a trial
    still marked running (a killed process) counts nothing, as its end is unknown.
    """
    spans = sorted(
        (t.datetime_start.timestamp(), t.datetime_complete.timestamp())
        for t in study.get_trials(deepcopy=False)
        if t.datetime_start is not None and t.datetime_complete is not None
    )
    total, reach = 0.0, -math.inf
    for begin, end in spans:
        if end > reach:
            total += end - max(begin, reach)
            reach = end
    return total


def _retry_interrupted(study: Any) -> int:
    """Queue again the options of the trials an interruption stopped; return how many.

    A trial left running by a killed process is marked failed; one stopped by Ctrl-C is
    failed already, without the ``error`` that a trial failing by itself records. Each is
    queued once (``retried`` in the study's attributes remembers which).
    """
    from optuna.trial import TrialState

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    retried = set(study.user_attrs.get("retried", []))
    again = [
        trial
        for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
        if _interrupted(trial) and trial.number not in retried
    ]
    for trial in again:
        study.enqueue_trial(trial.params, skip_if_exists=False)
    study.set_user_attr("retried", sorted(retried | {t.number for t in again}))
    return len(again)


def _warn_if_trials_ran_out_of_time(study: Any, counts: dict[str, int]) -> None:
    """Warn when most trials were stopped for time: the search then compared next to nothing.

    A 3-minute subgraph search with two workers completed the defaults' trial alone and
    stopped 16 others after an epoch or two, which the summary counted as "pruned".
    """
    complete, timed_out = counts["complete"], counts["timed_out"]
    if timed_out < 2 or timed_out <= complete:
        return
    reasons = [t.user_attrs["stopped"] for t in study.trials if "stopped" in t.user_attrs]
    log.warning(
        "%d trial%s completed and %d %s stopped for time (e.g. %s): the search compared few "
        "options and its choice says little. Give a larger --budget, so that trials finish",
        complete, "" if complete == 1 else "s", timed_out,
        "was" if timed_out == 1 else "were", reasons[0],
    )  # fmt: skip


def _plots(study: Any, folder: Path, criterion: str = "Objective Value") -> list[str]:
    """Optuna's optimisation history and parameter importances as PNG; the files written.

    ``criterion`` (what the trials' values are) names the values' axis.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.importance import FanovaImportanceEvaluator
    from optuna.trial import TrialState
    from optuna.visualization import matplotlib as vis

    written = []
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        for name, draw in (
            (HISTORY_PLOT, lambda: vis.plot_optimization_history(study, target_name=criterion)),
            (
                IMPORTANCE_PLOT,
                lambda: vis.plot_param_importances(
                    study, evaluator=FanovaImportanceEvaluator(seed=0), target_name=criterion
                ),
            ),
        ):
            if name == IMPORTANCE_PLOT and len({t.value for t in complete}) < 2:
                # (from one completed trial, Optuna drew every parameter equally important)
                log.info("No %s: fewer than two completed trials with different scores", name)
                continue
            try:
                axes = draw()
            except (ValueError, RuntimeError, ZeroDivisionError) as error:
                log.info("No %s: %s", name, error)  # e.g. importances of fewer than 2 trials
                continue
            figure = axes.get_figure(root=True)
            assert figure is not None  # an Axes drawn by Optuna belongs to a figure
            figure.tight_layout()
            figure.savefig(folder / name, dpi=100)
            plt.close(figure)
            written.append(name)
    return written


def each_warning_once(function: Callable[..., Any]) -> Callable[..., Any]:
    """Show each warning once while ``function`` runs, however many trials repeat it.

    Trials, the confirmation and the final seeds train the same data again and again, so a
    warning about the data (isolated nodes, a small split) would repeat for every run;
    code that enters :func:`warnings.catch_warnings` (as a sparse product does, to quiet
    PyTorch's beta notice) resets Python's own once-per-place memory. Warnings with other
    numbers are other warnings: a trial's graph, 10% of its edges held out, may have 87
    isolated nodes where the whole graph has 85. Warnings are still raised as before; only
    their display is filtered.
    """

    @functools.wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        seen: set[tuple[type, str]] = set()
        show = warnings.showwarning

        def show_once(message: Any, category: type, *rest: Any, **more: Any) -> None:
            key = (category, str(message))
            if key not in seen:
                seen.add(key)
                show(message, category, *rest, **more)

        warnings.showwarning = show_once
        try:
            return function(*args, **kwargs)
        finally:
            warnings.showwarning = show

    return wrapped


@each_warning_once
def tune(
    data: str | Path,
    task: str | None = None,
    budget: str | float | None = None,
    trials: int | None = None,
    out: str | Path = "tune",
    storage: str | None = None,
    workers: int = 1,
    seeds: int | None = None,
    space: str | Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    root: str | Path | None = None,
    seed: int = 0,
    progress: bool = True,
    max_tweets: int | None = None,
) -> TuneResult:
    """Search a task's options with Optuna on validation data, then retrain the best.

    The task comes from the data (``task`` overrides): a SubGNN or TU data set is a
    ``subgraph`` (graph) classification task, a labelled graph a ``node`` task, an
    unlabelled graph an ``unsupervised`` one. Each trial draws the options of the task's
    space (:mod:`mmgraph.tune.space`; ``space`` names a YAML file overriding it) with a
    seeded TPE sampler and trains with ``seed`` on data whose test split is hidden; a
    median pruner stops trials whose validation curve falls behind. Selection criterion:
    the validation accuracy of the kept run (node), the validation ``monitor`` of the
    task's command (subgraph and graph: by default the loss, binary cross-entropy on
    multi-label data) or, unsupervised, the ROC-AUC of held-out edges (no labels).

    The search stops after ``trials`` trials (counted over every worker and earlier,
    resumed sessions; failed and pruned trials count) or once ``budget`` (wall-clock, e.g.
    ``"15m"``, ``"1h30m"``; a resumed search counts the time the trials of its earlier
    sessions ran: :func:`searched_seconds`) has passed, whichever comes first; a trial
    running at the deadline stops at its next epoch (inside a fold too) once a trial has
    completed, as does one much slower than the completed ones (:func:`trial_time_limit`). On
    cross-validation folds (and a node task's five drawn splits, on data without a split
    of its own: :class:`~mmgraph.tune.searches.NodeSearch`) every trial trains the first
    folds that let six trials fit the budget (:func:`folds_in_budget`; all of them when
    they fit).
    Unless the best trial is the defaults' (the first trial), the best options and the
    defaults are then trained again on new seeds (:func:`confirmation_seeds`; on TU folds
    as many as give 5 scores over the folds the trials scored, compared fold by fold),
    test split still hidden, and
    the best replace the defaults only when their mean validation gain exceeds one standard
    error (:func:`confirm_best`); the search stops early enough to fit these runs in
    ``budget`` (estimated from its median trial, at most half the budget), and no
    confirmation seed starts that would end past the budget once two paired scores are
    in. Then the kept options
    are retrained with ``seeds`` seeds (``seed``, ``seed + 1``, ...) on the whole data,
    and only then is the test split evaluated. See
    :mod:`mmgraph.tune.study` for the files written to ``out``.

    Args:
        data (str or Path): A built-in name, a dataset card, a data folder, a SubGNN or TU
            folder.
        task (str, optional): ``node``, ``subgraph`` or ``unsupervised``. (default: from
            the data)
        budget (str or float, optional): Wall-clock budget (``"15m"``; a number: seconds).
        trials (int, optional): Number of trials. At least one of ``budget`` and ``trials``.
        out (str or Path): The output folder. (default: ``"tune"``)
        storage (str, optional): An Optuna storage URL (``postgresql://...``,
            ``sqlite:///...``); other processes or machines given the same URL and data
            join the study. (default: ``sqlite:///OUT/study.db``)
        workers (int, optional): Local processes running trials. (default: :obj:`1`)
        seeds (int, optional): Seeds of the final retraining. (default: :obj:`5`, or
            :obj:`1` on cross-validation folds, whose 10 folds are the repeats:
            :func:`default_seeds`)
        space (str or Path, optional): YAML file overriding the task's search space.
        overwrite (bool, optional): Replace an existing ``out`` once the new one is done.
        resume (bool, optional): Continue the interrupted search of ``out``.
        root (str or Path, optional): Folder of the built-in data sets.
        seed (int, optional): Seed of the sampler and of every trial's training; the
            final seeds start from it. (default: :obj:`0`)
        progress (bool, optional): Show progress bars. (default: :obj:`True`)
        max_tweets (int, optional): TwiBot data: the tweets kept per user
            (:func:`~mmgraph.data.load_twibot`); the trials, the final runs and
            ``best.yaml`` keep it. (default: :obj:`None`, all)

    Raises:
        InputError: No budget and no trials, a bad budget, task, space file, or data the
            task cannot use, an ``out`` that exists (without ``overwrite``/``resume``), a
            resumed study searched with other data, task, space, seed or folds (a node
            search on drawn splits before they were five), or no trial completed.
    """
    import optuna

    if budget is None and trials is None:
        raise InputError("Give a time budget (e.g. 15m) or a number of trials, or both")
    seconds = parse_budget(budget) if budget is not None else None
    counts_given: tuple[tuple[str, Any], ...] = (
        ("trials", trials),
        ("workers", workers),
        ("seeds", seeds),
    )
    for name, value in counts_given:
        try:
            check_positive_int(value, name, optional=True)
        except (TypeError, ValueError) as error:
            raise InputError(str(error)) from None
    if task is not None and task not in TASKS:
        raise InputError(f"Unknown task {task!r}; expected one of {', '.join(TASKS)}")
    start = time.time()
    folder = RunFolder(out, overwrite=overwrite, resume=resume, kind="tune").check()
    data = str(data)
    root = None if root is None else str(Path(root).expanduser().resolve())
    if Path(data).expanduser().exists():
        data = str(Path(data).expanduser().resolve())
    space_path = None if space is None else str(Path(space).expanduser().resolve())
    copy = folder.staging / SPACE_COPY
    if resume and space_path is not None and not Path(space_path).is_file() and copy.is_file():
        log.warning(
            "The --space file %s the search began with is gone: it goes on with the copy in %s.",
            space_path,
            copy,
        )
        space_path = str(copy)
    from mmgraph.data.registry import load_dataset

    loader = loader_options({"max_tweets": max_tweets})
    found = detect_task(load_dataset(data, root=root, **loader))
    if task is not None and (task == "subgraph") != (found == "subgraph"):
        what = "a subgraph data set" if found == "subgraph" else "a graph whose nodes are the items"
        raise InputError(
            f"--task {task} cannot run on {data!r}, which is {what}: drop --task (tune finds "
            f"the {found} task from the data)"
            + ("" if found == "subgraph" else ", or give --task node or unsupervised")
        )
    task = task or found
    search = SEARCHES[task](data, root, loader)
    chosen = load_space(search.space_name, space_path)  # refused before anything is written
    criterion = search.criterion(chosen.fixed)
    if seeds is None:
        seeds = default_seeds(search)
    seed_list = list(range(seed, seed + seeds))
    folds = int(getattr(search, "folds", 1))
    # A standard error needs two paired scores: `--seeds 1` still confirms on two seeds.
    confirm_scores = max(seeds, DEFAULT_SEEDS if folds > 1 else MIN_CONFIRM_SCORES)
    study_name = _study_name(task, data, storage, folder, resume)
    attrs = {
        "task": task,
        "data": data,
        "root": root,
        "space": chosen.to_dict(),
        "seed": seed,
        "folds": folds,  # a trial's value is a mean over them: one count per study
        "data_digest": search.data_digest,  # the data's content, not only its path
        "data_options": loader,
    }

    def keep(staging: Path) -> bool:
        return storage is not None or (staging / STUDY_DB).is_file()

    with folder.transaction(keep_partial=keep) as staging:
        if not resume:
            given = {
                "data": data, "task": task, "budget": budget, "trials": trials,
                "storage": storage, "workers": workers, "seeds": seeds, "seed": seed,
                "space": space_path, "root": root, "max_tweets": max_tweets,
            }  # fmt: skip
            text = yaml.safe_dump(given, sort_keys=False)
            write_atomic(staging / ARGUMENTS, lambda fh: fh.write(text))
            if space_path is not None:
                shutil.copyfile(space_path, staging / SPACE_COPY)
        url = storage or f"sqlite:///{(staging / STUDY_DB).resolve()}"
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(
            study_name=study_name,
            storage=_storage(url),
            sampler=_sampler(seed),
            pruner=_pruner(getattr(search, "folds", 1)),
            direction="maximize",
            load_if_exists=True,
        )
        old = {k: study.user_attrs.get(k) for k in attrs}
        for key in ("data_digest", "data_options"):
            if key not in study.user_attrs:  # a study of a version that kept none
                old[key] = attrs[key]
        elsewhere = "another --storage" if storage is not None else "another --out"
        if study.trials and any(v is not None for v in old.values()) and old != attrs:
            changed = sorted(k for k in attrs if old[k] != attrs[k])
            if changed == ["data_digest"]:
                raise InputError(
                    f"The data at {data!r} changed since the study {study_name!r} in {url} "
                    "began: its trials scored the old data. Restore the data to go on with "
                    f"the search, or give {elsewhere} (or --overwrite) for a search of this "
                    "data"
                )
            edited = ""
            if "space" in changed and space_path is not None:
                edited = (
                    f" (the search space: the --space file '{space_path}' differs from the "
                    f"one it began with, copied in '{staging / SPACE_COPY}')"
                )
            raise InputError(
                f"The study {study_name!r} in {url} was searched with other {changed}"
                f"{edited}: give the same arguments to join it, or {elsewhere} for a search "
                "of its own"
            )
        if study.trials and storage is not None and not resume:
            log.warning(
                "The study %r in %s holds %d trials already (another search or worker): this "
                "search joins it, and --trials counts them. Give %s for a search of its own.",
                study_name,
                url,
                len(study.trials),
                elsewhere,
            )
        for key, value in attrs.items():
            study.set_user_attr(key, value)
        defaults = default_params(chosen, search)
        if not study.trials and defaults:  # the library's defaults are the first trial
            study.enqueue_trial(defaults)
        spent = 0.0
        if resume:
            spent = searched_seconds(study)  # before the running trials are marked failed
            again = _retry_interrupted(study)
            if again:
                log.info("%d interrupted trials will run again", again)
        deadline = None if seconds is None else start + max(0.0, seconds - spent)
        if seconds is not None and spent:
            log.warning(
                "The earlier sessions of this search ran trials for %.0f s of the %.0f s "
                "budget: %.0f s are left%s.",
                spent,
                seconds,
                max(0.0, seconds - spent),
                "" if spent < seconds else " (no new trial starts once one has completed)",
            )
        cores = os.cpu_count() or 1
        works = [
            _Worker(
                task,
                data,
                root,
                loader,
                space_path,
                url,
                study_name,
                seed + k,
                trials,
                deadline,
                threads=max(1, cores // workers) if workers > 1 else None,
                start=start,
                reserve_scores=confirm_scores if defaults else 0,
                folds=folds,
            )
            for k in range(workers)
        ]
        _search_with_workers(works, search, progress)
        if folds > 1 and _sync_folds(search, study) is not None:
            criterion = search.criterion(chosen.fixed)  # the folds the trials scored
        counts = _trial_counts(study)
        if counts["complete"] == 0:
            errors = [t.user_attrs["error"] for t in study.trials if "error" in t.user_attrs]
            why = f": the first error was: {errors[0]}" if errors else ""
            raise InputError(
                f"No trial completed ({counts['pruned']} pruned, {counts['timed_out']} stopped "
                f"for time, {counts['failed']} failed)"
                f"{why}; give a larger budget or fix the space, and --resume to go on with "
                "this study (or --overwrite to start again)"
            )
        _warn_if_trials_ran_out_of_time(study, counts)
        best = study.best_trial
        defaults = _defaults_as_run(study, chosen, defaults)
        options = {**chosen.fixed, **best.params}
        confirmation = None
        kept = "best"
        if defaults and best.params == defaults:
            kept = "defaults"  # their own trial scored best: nothing to confirm
        elif defaults:
            scored = getattr(search, "scored_folds", None) or folds
            confirm_seeds = confirmation_seeds(search.task, confirm_scores, scored)
            confirmation = confirm_best(
                search, chosen, best.params, defaults, confirm_seeds, deadline
            )
            kept = confirmation["kept"]
            if kept == "defaults":
                options = {**chosen.fixed, **defaults}
            log.info(
                "Best trial #%d against the defaults on %d new seeds: %s kept",
                best.number,
                len(confirmation["seeds"]),
                confirmation["kept"],
            )
        kept_params = defaults if kept == "defaults" else best.params
        _warn_if_final_overruns(study, kept_params, search, len(seed_list), seconds)
        best_options = search.best_options(options, seed_list)
        # The final runs load the data again, whole: the test split is read from here on.
        metrics = _final_runs(search, best_options, seed_list, staging / RUNS, progress)
        from mmgraph.tasks.node_classification import write_json

        write_json(staging / METRICS, metrics)
        best_doc = {"data": data, **({"root": root} if root else {}), **loader, **best_options}
        text = yaml.safe_dump(best_doc, sort_keys=False)
        write_atomic(staging / BEST, lambda fh: fh.write(text))
        plots = _plots(study, staging, criterion)
        summary = {
            "task": task,
            "criterion": criterion,
            "data": data,
            "root": root,
            "study_name": study_name,
            "storage": STUDY_DB if storage is None else _redact(storage),
            "trials": counts,
            "best_trial": best.number,
            "best_value": best.value,
            "best_params": best.params,
            **({SCORED_FOLDS: search.scored_folds} if search.scored_folds else {}),
            "confirmation": confirmation,
            "kept": kept,
            "space": chosen.to_dict(),
            "seeds": seed_list,
            "plots": plots,
            "seconds": round(time.time() - start, 1),
        }
        write_json(staging / SUMMARY, summary)
    return TuneResult(
        folder.final,
        task,
        criterion,
        float(best.value if best.value is not None else math.nan),
        best_doc,
        metrics,
        counts,
        url if storage is not None else f"sqlite:///{(folder.final / STUDY_DB).resolve()}",
        study_name,
        confirmation,
        kept,
    )


def _final_runs(
    search: Any, options: dict[str, Any], seeds: list[int], out: Path, progress: bool
) -> dict[str, Any]:
    """``search.final``: the runs of the chosen options with each seed, into ``out``.

    A search interrupted in its final runs left them in ``out``'s staging folder: they go
    on where they stopped when the search chose the same options (node tasks, several
    seeds), else they are started again.
    """
    partial = staging_path(out)
    if partial.is_dir():
        resume = getattr(search, "resume_final", None)
        resumed = None if resume is None else resume(options, seeds, out, progress)
        if resumed is not None:
            log.info("The final runs interrupted in %s went on where they stopped", partial)
            return resumed
        shutil.rmtree(partial)
    return search.final(options, seeds, out, progress)


def _redact(url: str) -> str:
    """``url`` without a password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a SQLAlchemy URL: keep the scheme only
        return url.split("://", 1)[0] + "://..."


WORKER_GRACE = 10.0
"""Seconds an interrupted search waits for its worker processes to stop by themselves."""


def _stop_workers(children: Sequence[Any]) -> None:
    """Stop the worker processes as Ctrl-C does: each marks its running trial failed.

    A Ctrl-C at a terminal reaches every process of the group; an interrupt sent to this
    process alone (``kill -INT``) is passed on. Those still running after
    :data:`WORKER_GRACE` seconds are terminated (their trial stays running in the study,
    which ``--resume`` runs again as well).
    """
    import signal

    for child in children:
        if child.is_alive() and child.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGINT)
    deadline = time.monotonic() + WORKER_GRACE
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            child.terminate()
            child.join()


def _search_with_workers(works: list[_Worker], search: Any, progress: bool) -> None:
    """Run ``works[0]`` here and the other workers in spawned processes; wait for all.

    The spawned processes start (import, load the data) while this one already runs
    trials; each runs trials until the study has its trials or the deadline has passed.
    """
    from tqdm.auto import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    context: Any = multiprocessing.get_context(START_METHOD)
    children = [context.Process(target=_spawned, args=(w,)) for w in works[1:]]
    for child in children:
        child.start()
    bar = tqdm(total=works[0].trials, desc="tune", unit="trial", disable=not progress)
    # log lines (a failed trial, a budget too short) print above the bar, not into it
    redirect = logging_redirect_tqdm() if progress else contextlib.nullcontext()
    try:
        with redirect:
            _run_worker(works[0], search, bar)
            for child in children:
                child.join()
    except BaseException:  # an interrupt reaches Optuna only inside a trial (_Interrupts)
        _stop_workers(children)
        raise
    finally:
        bar.close()
    failed = [child.exitcode for child in children if child.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} tune worker processes failed (exit codes {failed})")
