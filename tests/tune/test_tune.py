"""mmgraph.tune: budgets, spaces, task detection, hidden test splits, resume, two workers."""

from __future__ import annotations

import contextlib
import json
import math
import pickle
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
import torch
import yaml

import mmgraph.tune.study as study_module
from mmgraph.data import load_dataset, save_card
from mmgraph.data.synthetic import make_social_graph
from mmgraph.errors import InputError
from mmgraph.tasks.run_folder import staging_path
from mmgraph.tune import SPACES, detect_task, load_space, parse_budget, searches, tune
from mmgraph.tune.study import STUDY_DB

SPACE = """
text_encoder: hashing
image_encoder: none
image_size: 8
epochs: 4
patience: 10
modality_dim: 8
layers: 2
head: linear
hidden: {low: 4, high: 16, log: true}
lr: {low: 0.005, high: 0.05, log: true}
"""


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_card(
        make_social_graph(60, seed=0, image_size=8), tmp_path_factory.mktemp("d") / "card"
    )


@pytest.fixture(scope="module")
def space(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("s") / "space.yaml"
    path.write_text(SPACE)
    return path


def study_of(out: Path, task: str = "node") -> optuna.Study:
    doc = json.loads((out / "tune.json").read_text())
    return optuna.load_study(study_name=doc["study_name"], storage=f"sqlite:///{out / STUDY_DB}")


def trial_record(study: optuna.Study) -> list[tuple]:
    return [(t.state, t.params, t.value) for t in study.trials]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("2.5h", 9000), ("45", 45)],
)
def test_parse_budget(text: str, seconds: float) -> None:
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("junk", ["", "15x", "m15", "30m1h", "1h1h", "0m", "-5m", "fast", "1 h x"])
def test_parse_budget_refuses_junk(junk: str) -> None:
    with pytest.raises(InputError, match="budget"):
        parse_budget(junk)


def test_the_subgraph_space_searches_ids_from_node2vec_only() -> None:
    from mmgraph.tune.space import SUBGRAPH_SPACE

    # random ids stay noise on nodes no training subgraph holds (component's validation
    # and test nodes): the search keeps node2vec's start; a space file can add "id"
    assert "id" not in SUBGRAPH_SPACE["node_input"]["choices"]
    assert "node2vec" in SUBGRAPH_SPACE["node_input"]["choices"]


def test_default_spaces_are_valid() -> None:
    for name in SPACES:
        space = load_space(name)
        assert space.params and set(space.to_dict()) == set(SPACES[name])


def test_a_space_file_fixes_a_feature_option(tmp_path: Path) -> None:
    # tune has no feature flags: a card with images that are not there goes through the space
    path = tmp_path / "space.yaml"
    path.write_text("on_image_error: missing\nhidden: {low: 8, high: 32}\n")
    space = load_space("node", path)
    assert space.fixed["on_image_error"] == "missing" and "on_image_error" not in space.params


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("hiden: {low: 8, high: 32}", r"unknown options \['hiden'\].*hidden"),
        ("hidden: {low: 32, high: 8}", "low < high"),
        ("lr: {low: 0, high: 0.1, log: true}", "log range"),
        ("aggregator: {choices: [gcn, sage]}", "'sage' is not a value of 'aggregator'"),
        ("hidden: {choices: []}", "non-empty list"),
        ("hidden: {low: 8, high: 32, lg: true}", "unknown keys"),
        ("hidden: {low: a, high: 32}", "finite numbers"),
        ("dropout: {low: 0.0, high: 1.5}", "dropout"),
        ("seed: {low: 0, high: 3}", "cannot be searched"),
        ("data: cora", "cannot be searched"),
        ("- hidden", "not a mapping"),
        ("hidden: {low: 8, high: 32}\nhidden: 3", "twice"),
    ],
)
def test_bad_space_files_are_refused(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        load_space("node", path)


@pytest.mark.parametrize(
    ("task", "text", "match"),
    [
        (
            "subgraph",
            "dropout: {choices: [auto, 0.2, 1.5]}",
            r"'dropout' takes a number in \[0, 1\)",
        ),
        ("subgraph", "dropout: {choices: [auto, half]}", "'dropout' takes a number"),
        ("node", "dropout: {choices: [auto, 0.2]}", "'dropout' takes a number"),
    ],
)
def test_dropout_auto_only_where_the_default_is_auto(
    tmp_path: Path, task: str, text: str, match: str
) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        load_space(task, path)
    path.write_text("dropout: {choices: [auto, 0.0, 0.5]}")
    assert load_space("subgraph", path).to_dict()["dropout"] == {"choices": ["auto", 0.0, 0.5]}


def test_task_detected_from_the_data(card: Path, tmp_path: Path, shared_data: Path) -> None:
    assert detect_task(load_dataset(card)) == "node"
    graph = make_social_graph(30, seed=1, image_size=8)
    del graph.y, graph.train_mask, graph.val_mask, graph.test_mask
    assert detect_task(load_dataset(save_card(graph, tmp_path / "unlabelled"))) == "unsupervised"
    assert detect_task(load_dataset("mutag", root=shared_data)) == "subgraph"
    assert detect_task(load_dataset("density", root=shared_data)) == "subgraph"
    # a task the data cannot have is refused with the fix (not `subgraph train`'s advice)
    for task in ("node", "unsupervised"):
        with pytest.raises(InputError, match=f"--task {task} cannot run on 'mutag', which is a "):
            tune("mutag", root=shared_data, task=task, trials=1, out=tmp_path / "t")
    assert not (tmp_path / "t").exists()


def test_trials_get_data_without_test_labels(card: Path, shared_data: Path) -> None:
    full = load_dataset(card)
    node = searches.NodeSearch(str(card))
    test = full.test_mask
    assert bool(test.any()) and bool((full.y[test] >= 0).all())
    assert bool((node.data.y[test] == -1).all()) and not bool(node.data.test_mask.any())
    assert torch.equal(node.data.y[~test], full.y[~test])

    sub = searches.SubgraphSearch("density", root=str(shared_data))
    dense = load_dataset("density", root=shared_data)
    assert bool((sub.data.y[dense.test_mask] == -1).all()) and not bool(sub.data.test_mask.any())
    tu = searches.SubgraphSearch("mutag", root=str(shared_data))
    mutag = load_dataset("mutag", root=shared_data)
    held = mutag.folds[0][1]
    assert bool((tu.data.y[held] == -1).all()) and tu.data.folds is None
    assert not bool((tu.data.train_mask | tu.data.val_mask)[held].any())
    # folds: one copy per fold, each without its test fold's labels, validated inside
    # that fold's training graphs
    assert len(tu.fold_data) == len(mutag.folds) == 10
    for data, (train_idx, test_idx) in zip(tu.fold_data, mutag.folds, strict=True):
        assert bool((data.y[test_idx] == -1).all()) and not bool(data.test_mask.any())
        inside = torch.zeros(len(mutag), dtype=torch.bool)
        inside[train_idx] = True
        assert bool(data.val_mask.any()) and bool(inside[data.val_mask].all())
        assert bool(inside[data.train_mask].all())
        assert not bool((data.train_mask & data.val_mask).any())
    assert "mean over the 10 folds" in tu.criterion({})

    unsup = searches.UnsupervisedSearch(str(card))
    assert getattr(unsup.data, "y", None) is None
    assert unsup.data.edge_index.size(1) < full.edge_index.size(1)


def test_search_never_reads_the_test_split(
    card: Path, space: Path, tmp_path: Path, evaluations: list
) -> None:
    """Trials evaluate no test node, and poisoned test labels leave the study unchanged."""
    graph = load_dataset(card)
    test = graph.test_mask
    poisoned = graph.clone()
    poisoned.y[test] = 1 - poisoned.y[test]  # every test label wrong
    poisoned_card = save_card(poisoned, tmp_path / "poisoned")

    a = tune(str(card), trials=3, seeds=1, space=space, out=tmp_path / "a", progress=False)
    searched = [e.scored for e in evaluations if e.phase == "search"]
    assert searched and not any(bool((mask & test).any()) for mask in searched)
    assert any(bool((e.scored & test).any()) for e in evaluations if e.phase == "final")

    evaluations.phase = "search"
    b = tune(str(poisoned_card), trials=3, seeds=1, space=space, out=tmp_path / "b", progress=False)
    assert trial_record(study_of(a.out)) == trial_record(study_of(b.out))
    # the confirmation (in the "search" phase above: no test node) chose the same
    assert a.confirmation == b.confirmation
    assert {**a.best_options, "data": None} == {**b.best_options, "data": None}
    assert a.metrics["val"] == b.metrics["val"] and a.metrics["test"] != b.metrics["test"]


def interrupt_the_third_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C in the search's third trial."""
    trial = searches.NodeSearch.trial
    calls = [0]

    def interrupted(self, options, report):  # noqa: ANN001, ANN202
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        return trial(self, options, report)

    monkeypatch.setattr(searches.NodeSearch, "trial", interrupted)


def test_interrupted_search_resumes(
    card: Path, space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    interrupt_the_third_trial(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        tune(str(card), trials=4, seeds=1, space=space, out=out, progress=False)
    partial = staging_path(out)
    assert not out.exists() and (partial / STUDY_DB).is_file()
    with pytest.raises(InputError, match="--resume"):
        tune(str(card), trials=4, seeds=1, space=space, out=out, progress=False)
    with pytest.raises(InputError, match="other"):  # another space: not the same study
        tune(str(card), trials=4, seeds=1, out=out, resume=True, progress=False)
    result = tune(str(card), trials=4, seeds=1, space=space, out=out, resume=True, progress=False)
    assert not partial.exists() and (out / "best.yaml").is_file()
    trials = study_of(out).trials
    states = [t.state for t in trials]
    assert states[:2] == [optuna.trial.TrialState.COMPLETE] * 2
    assert states[2] == optuna.trial.TrialState.FAIL  # the interrupted one, run again:
    assert trials[3].params == trials[2].params and states[3].is_finished()
    # the interrupted trial does not use up one of --trials: four are scored in the end
    scored = result.trials["complete"] + result.trials["pruned"] + result.trials["timed_out"]
    assert scored == 4 == len(trials) - 1
    assert result.trials["interrupted"] == 1 and result.trials["failed"] == 0  # Ctrl-C: no error


def test_a_search_interrupted_in_its_final_runs_resumes_them(
    card: Path, space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the second final seed: `--resume` keeps the first seed's run and gives the
    result of an uninterrupted search (it was refused: "An interrupted run of '.../runs'")."""
    from mmgraph.train.trainer import Trainer

    whole = tune(str(card), trials=2, seeds=3, space=space, out=tmp_path / "w", progress=False)
    out = tmp_path / "out"
    real = Trainer.fit
    finals = []

    def fit(self: Trainer, graph, *rest, **kwargs):  # noqa: ANN001, ANN202
        if self.out_dir is not None and self.out_dir.parent.name == ".runs.partial":
            finals.append(self.config.seed)
            if finals == [0, 1]:  # the first time seed 1 trains (before a checkpoint)
                raise KeyboardInterrupt
        return real(self, graph, *rest, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "fit", fit)
        with pytest.raises(KeyboardInterrupt):
            tune(str(card), trials=2, seeds=3, space=space, out=out, progress=False)
        kept = staging_path(staging_path(out) / "runs") / "seed-0" / "metrics.json"
        assert finals == [0, 1] and kept.is_file()
        result = tune(
            str(card), trials=2, seeds=3, space=space, out=out, resume=True, progress=False
        )
    assert finals == [0, 1, 1, 2]  # seed 0's run was kept, not trained again
    assert result.metrics == whole.metrics
    assert len(study_of(out).trials) == 2


@contextlib.contextmanager
def interrupts_at_their_default() -> Any:
    """SIGINT raising KeyboardInterrupt, as at a terminal (a background job ignores it)."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_interrupt_in_optunas_bookkeeping_waits_for_the_trial(
    card: Path, space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT while Optuna asks for the third trial (created, running, not yet training).

    Raised there, it would leave that trial marked running in the study for good; it is
    held and raised as the trial's training begins, so the trial is marked failed.
    """
    import os
    import signal

    class Interrupting(optuna.samplers.TPESampler):
        calls = 0

        def before_trial(self, study, trial):  # noqa: ANN001, ANN202 (in study.ask)
            Interrupting.calls += 1
            if Interrupting.calls == 3:
                os.kill(os.getpid(), signal.SIGINT)
            return super().before_trial(study, trial)

    monkeypatch.setattr(study_module, "_sampler", lambda seed: Interrupting(seed=seed))
    out = tmp_path / "out"
    with interrupts_at_their_default():
        with pytest.raises(KeyboardInterrupt):
            tune(str(card), trials=4, seeds=1, space=space, out=out, progress=False)
        # restored (checked inside: a background job's own handler is SIG_IGN)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    url = f"sqlite:///{staging_path(out) / STUDY_DB}"
    study = optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url)
    states = [t.state for t in study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE] * 2 + [optuna.trial.TrialState.FAIL]
    assert "error" not in study.trials[2].user_attrs  # an interrupt, not a failure


def test_interrupts_are_raised_in_training_and_held_elsewhere() -> None:
    import os
    import signal

    interrupts = study_module._Interrupts()
    with interrupts_at_their_default():
        with pytest.raises(KeyboardInterrupt), interrupts.scope():
            os.kill(os.getpid(), signal.SIGINT)  # bookkeeping: held
            with pytest.raises(KeyboardInterrupt), interrupts.deliverable():
                pass  # raised as the training begins
            with pytest.raises(KeyboardInterrupt), interrupts.deliverable():
                with interrupts.held():
                    os.kill(os.getpid(), signal.SIGINT)  # a report: held to its end
                    time.sleep(0.01)
                raise AssertionError("not reached: raised as the report ends")
            with interrupts.deliverable():
                pass  # nothing held
            with pytest.raises(KeyboardInterrupt), interrupts.deliverable():
                os.kill(os.getpid(), signal.SIGINT)  # training: at once
                time.sleep(1)
                raise AssertionError("not reached")
            os.kill(os.getpid(), signal.SIGINT)  # held to the end of the scope
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_resumed_search_refuses_changed_data(
    space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = save_card(make_social_graph(60, seed=0, image_size=8), tmp_path / "card")
    out = tmp_path / "out"
    interrupt_the_third_trial(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        tune(str(card), trials=4, seeds=1, space=space, out=out, progress=False)
    nodes = card.parent / "nodes.csv"
    original = nodes.read_text()
    lines = original.splitlines()
    nodes.write_text("\n".join([lines[0], *lines[1:][::-1]]) + "\n")  # rows reordered
    with pytest.raises(InputError, match="changed since the study .* Restore the data"):
        tune(str(card), trials=4, seeds=1, space=space, out=out, resume=True, progress=False)
    assert (staging_path(out) / STUDY_DB).is_file()  # the study is kept for the right data
    nodes.write_text(original)
    tune(str(card), trials=4, seeds=1, space=space, out=out, resume=True, progress=False)
    assert (out / "best.yaml").is_file()


def test_the_command_resumes_with_the_arguments_it_started_with(
    card: Path, space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """`mmgraph tune --resume --out DIR` alone, as `train --resume` (sweep 6 F6)."""
    import yaml

    from mmgraph.cli import main

    out = tmp_path / "out"
    interrupt_the_third_trial(monkeypatch)
    argv = ["tune", "--data", str(card), "--trials", "4", "--seeds", "1", "--space", str(space)]
    assert main([*argv, "--out", str(out), "--quiet"]) == 130
    started = yaml.safe_load((staging_path(out) / "arguments.yaml").read_text())
    assert (started["data"], started["trials"], started["seeds"]) == (str(card), 4, 1)
    assert main(["tune", "--resume", "--out", str(out), "--quiet"]) == 0
    assert (out / "best.yaml").is_file()
    states = [t.state for t in study_of(out).trials]
    assert (
        states.count(optuna.trial.TrialState.COMPLETE)
        + states.count(optuna.trial.TrialState.PRUNED)
        == 4
    )  # the first session's two trials and the third, run again, and a fourth
    # without an interrupted search there, --resume says so; --data is needed otherwise
    capsys.readouterr()
    assert main(["tune", "--resume", "--out", str(tmp_path / "none"), "--trials", "2"]) == 2
    assert "Nothing to resume" in capsys.readouterr().err
    assert main(["tune", "--trials", "2", "--out", str(tmp_path / "x")]) == 2
    assert "required: --data" in capsys.readouterr().err


def test_a_resumed_search_keeps_a_copy_of_its_space_file(
    card: Path, space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, caplog
) -> None:
    from mmgraph.cli import main

    mine = tmp_path / "my-space.yaml"
    mine.write_text(space.read_text())
    out = tmp_path / "out"
    interrupt_the_third_trial(monkeypatch)
    argv = ["tune", "--data", str(card), "--trials", "3", "--seeds", "1", "--space", str(mine)]
    assert main([*argv, "--out", str(out), "--quiet"]) == 130
    copy = staging_path(out) / study_module.SPACE_COPY
    assert copy.read_text() == space.read_text()
    mine.write_text(space.read_text().replace("epochs: 4", "epochs: 5"))
    capsys.readouterr()
    assert main(["tune", "--resume", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"the --space file '{mine}' differs from the one it began with" in err, err
    mine.unlink()  # gone: the copy stands in for it
    with caplog.at_level("WARNING", logger="mmgraph.tune.study"):
        assert main(["tune", "--resume", "--out", str(out), "--quiet"]) == 0
    assert "is gone: it goes on with the copy" in caplog.text
    assert (out / "best.yaml").is_file() and (out / study_module.SPACE_COPY).is_file()


def test_a_resumed_search_counts_the_time_already_searched(
    card: Path, space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """--resume does not get a fresh budget: a spent one starts no new trial."""
    out = tmp_path / "out"
    interrupt_the_third_trial(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        tune(str(card), budget="10m", seeds=1, space=space, out=out, progress=False)
    spent = study_module.searched_seconds(
        optuna.load_study(study_name=None, storage=f"sqlite:///{staging_path(out) / STUDY_DB}")
    )
    assert spent > 0
    # the earlier session ran its trials for all 10 minutes: none starts now
    monkeypatch.setattr(study_module, "searched_seconds", lambda study: 600.0)
    with caplog.at_level("WARNING", logger="mmgraph.tune.study"):
        tune(str(card), budget="10m", seeds=1, space=space, out=out, resume=True, progress=False)
    assert "ran trials for 600 s of the 600 s budget: 0 s are left (no new" in caplog.text
    finished = [t for t in study_of(out).trials if t.state.is_finished()]
    assert len(finished) == 3  # two complete, the interrupted one; nothing new


def test_a_budget_spent_before_the_first_trial_still_runs_it(
    card: Path, space: Path, tmp_path: Path
) -> None:
    """``--budget 2`` (seconds) ended before loading did: no trial, and an error, before."""
    result = tune(str(card), budget=0.001, seeds=1, space=space, out=tmp_path / "o", progress=False)
    assert result.trials["complete"] == 1 and (result.out / "best.yaml").is_file()


def test_searched_seconds_counts_overlapping_trials_once() -> None:
    import datetime

    study = optuna.create_study()
    start = datetime.datetime(2026, 1, 1)
    spans = [(0, 10), (5, 20), (30, 40), (35, None)]  # two workers; one trial still running
    for number, (begin, end) in enumerate(spans):
        study.add_trial(
            optuna.trial.FrozenTrial(
                number=number,
                trial_id=number,
                state=optuna.trial.TrialState.RUNNING
                if end is None
                else optuna.trial.TrialState.COMPLETE,
                value=None if end is None else 0.5,
                values=None,
                datetime_start=start + datetime.timedelta(seconds=begin),
                datetime_complete=None if end is None else start + datetime.timedelta(seconds=end),
                params={},
                distributions={},
                user_attrs={},
                system_attrs={},
                intermediate_values={},
            )
        )
    assert study_module.searched_seconds(study) == pytest.approx(30.0)  # 0-20 and 30-40


def test_two_workers_share_one_sqlite_study(
    card: Path, space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Forked, the second worker starts at once (a spawned one imports torch first: 15 s on
    # a small machine); either way it is a separate process with its own connection.
    monkeypatch.setattr(study_module, "START_METHOD", "fork")
    result = tune(
        str(card), budget="6s", seeds=1, workers=2, space=space, out=tmp_path / "w", progress=False
    )
    trials = study_of(result.out).trials
    assert all(t.state.is_finished() for t in trials)
    assert len({t.user_attrs["pid"] for t in trials}) == 2  # both processes ran trials
    assert [t.number for t in trials] == list(range(len(trials)))
    assert (result.out / "metrics.json").is_file()


def test_two_workers_stop_at_the_trial_count(
    card: Path, space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running trial of the other worker counts: --trials 4 gives 4, not 5."""
    monkeypatch.setattr(study_module, "START_METHOD", "fork")
    result = tune(
        str(card), trials=4, seeds=1, workers=2, space=space, out=tmp_path / "w", progress=False
    )
    trials = study_of(result.out).trials
    assert len(trials) == 4 and all(t.state.is_finished() for t in trials)


def test_trials_that_use_up_the_count() -> None:
    states = optuna.trial.TrialState
    study = optuna.create_study()
    cases = [
        (states.COMPLETE, {}),
        (states.PRUNED, {}),
        (states.FAIL, {"error": "ValueError: bad"}),  # failed by itself: counts
        (states.FAIL, {}),  # stopped by an interruption: runs again, not counted
        (states.RUNNING, {}),  # another worker's
        (states.WAITING, {}),  # queued
    ]
    for state, attrs in cases:
        study.add_trial(
            optuna.trial.create_trial(
                state=state, value=0.5 if state == states.COMPLETE else None, user_attrs=attrs
            )
        )
    assert study_module.used_trials(study) == 4


def test_joining_a_study_in_a_given_storage_says_so(
    card: Path, space: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    shared = {"seeds": 1, "space": space, "storage": storage, "progress": False}
    tune(str(card), trials=1, out=tmp_path / "a", **shared)
    with caplog.at_level("WARNING", logger="mmgraph.tune.study"):
        tune(str(card), trials=2, out=tmp_path / "b", **shared)
    assert "holds 1 trials already (another search or worker): this search joins it" in caplog.text
    assert "Give another --storage for a search of its own" in caplog.text
    assert len(optuna.load_study(study_name=None, storage=storage).trials) == 2
    with pytest.raises(InputError, match="or another --storage for a search of its own"):
        tune(str(card), trials=2, seeds=1, storage=storage, out=tmp_path / "c", progress=False)


def test_workers_are_spawnable() -> None:
    """What a spawned worker receives pickles, and its entry point is importable by name."""
    work = study_module._Worker("node", "cora", None, {}, None, "sqlite:///x.db", "s", 1, 3, None)
    assert pickle.loads(pickle.dumps(work)) == work
    assert study_module.START_METHOD == "spawn"
    assert pickle.loads(pickle.dumps(study_module._spawned)) is study_module._spawned


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_an_interrupt_sent_to_the_search_alone_stops_its_workers_cleanly(
    card: Path, space: Path, tmp_path: Path, name: str
) -> None:
    """`kill -INT` of the main process (a scheduler's stop), not Ctrl-C at a terminal; and
    `kill` (SIGTERM), which used to end the main process alone and leave its workers
    running their trials on their own."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys

    out = tmp_path / "out"
    argv = ["tune", "--data", str(card), "--trials", "400", "--workers", "2", "--seeds", "1"]
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mmgraph", *argv, "--space", str(space), "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the signal reaches this process alone, not its group
        # Python ignores SIGINT when it starts with it ignored (a job a shell put in the
        # background, as a CI runner may): the default, as at a terminal
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    db = staging_path(out) / STUDY_DB

    def states() -> list[str]:
        with contextlib.closing(sqlite3.connect(db)) as con:
            return [row[0] for row in con.execute("SELECT state FROM trials")]

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(sqlite3.Error):
            if db.is_file() and states().count("RUNNING") >= 2:  # both workers in a trial
                break
        time.sleep(0.2)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    children = _child_pids(proc.pid)
    assert len(children) >= 1  # the second worker's process
    os.kill(proc.pid, getattr(signal, name))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    gone = time.monotonic() + 20  # (a process may still be tearing down as its parent ends)
    alive = list(children)
    while alive and time.monotonic() < gone:
        alive = [pid for pid in alive if _running(pid)]
        time.sleep(0.2)
    assert not alive, f"workers {alive} still run on their own"
    last = err.strip().splitlines()[-1]
    assert "leaked" not in err and last.startswith("mmgraph tune: interrupted; what it finished")
    assert last.endswith(f"`mmgraph tune --resume --out {out}` goes on from there")
    assert "RUNNING" not in states()  # each worker marked its trial failed as it stopped


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux: read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


def test_subgraph_and_unsupervised_tasks(tmp_path: Path) -> None:
    from mmgraph.data.synthetic_subgraphs import make_synthetic_subgraphs, save_subgnn

    folder = tmp_path / "cut"
    save_subgnn(
        make_synthetic_subgraphs("cut_ratio", seed=0, num_nodes=80, num_subgraphs=30), folder
    )
    space = tmp_path / "sub.yaml"
    space.write_text("epochs: 2\nhidden: {choices: [4, 8]}\nlayers: 1\nbatch_size: 16\n")
    sub = tune(str(folder), trials=2, seeds=2, space=space, out=tmp_path / "s", progress=False)
    assert sub.task == "subgraph" and sub.best_options["repeats"] == 2
    assert set(sub.metrics) >= {"val", "test", "runs", "seed_list", "method"}
    assert "micro_f1_std" in sub.metrics["test"]

    graph = make_social_graph(40, seed=2, image_size=8)
    del graph.y, graph.train_mask, graph.val_mask, graph.test_mask
    graph = graph.edge_subgraph((graph.edge_index >= 5).all(dim=0))  # nodes 0-4 lose edges
    degree = torch.bincount(graph.edge_index.reshape(-1), minlength=graph.num_nodes)
    isolated = int((degree == 0).sum())
    unlabelled = save_card(graph, tmp_path / "unlabelled")
    space = tmp_path / "emb.yaml"
    space.write_text(
        "epochs: 1\ndim: {low: 4, high: 8}\nwalks_per_node: 1\nwalk_length: 5\ncontext_size: 3\n"
    )
    with pytest.warns(UserWarning, match="nodes have no edge") as record:
        emb = tune(str(unlabelled), trials=2, seeds=2, space=space, out=tmp_path / "u",
                   progress=False)  # fmt: skip
    # once, with the data's own count: not the trials' (their graph lacks the held-out edges)
    shown = [str(w.message).split(":")[0] for w in record if "have no edge" in str(w.message)]
    assert shown == [f"{isolated} of 40 nodes have no edge"]
    assert emb.task == "unsupervised" and "edge AUC" in emb.criterion
    assert emb.metrics["nmi"] is None or emb.metrics["nmi"] != emb.metrics["nmi"]  # no labels
    assert 2 <= emb.metrics["k"] <= 10 and "modularity_std" in emb.metrics
    written = [emb.out / "runs" / f"seed-{k}" / "embeddings.npy" for k in (0, 1)]
    assert all(path.is_file() for path in written)  # one per seed, as the other tasks' runs
    assert not np.array_equal(np.load(written[0]), np.load(written[1]))


def test_a_multi_label_search_hides_the_test_label_sets(tmp_path: Path) -> None:
    """SubGNN's HPO-NEURO kind: several labels a subgraph, their test rows hidden whole."""
    from mmgraph.data.synthetic_subgraphs import make_position_multilabel, save_subgnn
    from mmgraph.tune.searches import hide_test_subgraphs

    data = make_position_multilabel(
        num_blocks=8, block_size=20, p_in=0.3, p_out=0.01, num_subgraphs=60, seed=0
    )
    hidden = hide_test_subgraphs(data)
    test = data.test_mask
    assert bool((hidden.y[test] == -1).all()) and bool((hidden.y[~test] == data.y[~test]).all())
    folder = save_subgnn(data, tmp_path / "multi")
    space = tmp_path / "sub.yaml"
    space.write_text("epochs: 2\nhidden: {choices: [4, 8]}\nlayers: 1\nnode_input: id\n")
    result = tune(str(folder), trials=2, seeds=2, space=space, out=tmp_path / "s", progress=False)
    assert result.task == "subgraph"
    assert 0.0 <= result.metrics["test"]["micro_f1"] <= 1.0
    assert "micro_f1_std" in result.metrics["test"]


def test_a_tu_search_under_a_budget_scores_the_folds_that_fit(
    shared_data: Path, tmp_path: Path
) -> None:
    space = tmp_path / "tu.yaml"
    space.write_text("epochs: 2\nhidden: 8\nlayers: 2\naggregator: {choices: [gin, gcn]}\n")
    # a fold takes well over 0.05 s, so six trials of ten folds cannot fit 3 s
    result = tune("mutag", root=shared_data, budget=3, space=space, out=tmp_path / "t",
                  progress=False)  # fmt: skip
    summary = json.loads((result.out / "tune.json").read_text())
    study = study_of(result.out)
    count = summary["scored_folds"]
    assert 1 <= count < 10 and study.user_attrs["scored_folds"] == count
    # (how many fit depends on the machine's speed; one fold is said in other words)
    said = "on the first of the 10 folds" if count == 1 else f"the first {count} of the 10 folds"
    assert said in result.criterion == summary["criterion"]
    for trial in study.trials:
        if trial.state == optuna.trial.TrialState.COMPLETE:
            assert sorted(trial.intermediate_values) == list(range(count))
    assert len(result.metrics["runs"]) == 10  # the final run trains every fold


def test_tune_refuses_bad_arguments(card: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="budget"):
        tune(str(card), out=tmp_path / "x")
    with pytest.raises(InputError, match="budget"):
        tune(str(card), budget="soon", out=tmp_path / "x")
    with pytest.raises(InputError, match="task"):
        tune(str(card), trials=1, task="regression", out=tmp_path / "x")
    assert not (tmp_path / "x").exists() and not staging_path(tmp_path / "x").exists()


def test_the_first_trial_is_the_defaults(card: Path, space: Path, tmp_path: Path) -> None:
    from mmgraph.tune.options import OPTIONS

    tune(str(card), trials=2, seeds=1, space=space, out=tmp_path / "d", progress=False)
    first = study_of(tmp_path / "d").trials[0]
    # Searched options whose defaults lie in the space take them; the space of this test
    # searches hidden over 4..16 (default 64: drawn) and lr over 0.005..0.05 (default 0.01).
    assert first.params["lr"] == OPTIONS["node"]["lr"]
    assert 4 <= first.params["hidden"] <= 16


def test_defaults_outside_the_space_are_kept_as_their_trial_drew_them(
    card: Path, tmp_path: Path
) -> None:
    """``hidden: {choices: [8]}``: whichever option set is kept, it has hidden 8, not 64."""
    space = tmp_path / "one.yaml"
    space.write_text(SPACE.replace("{low: 4, high: 16, log: true}", "{choices: [8]}"))
    result = tune(str(card), trials=3, seeds=1, space=space, out=tmp_path / "o", progress=False)
    assert result.best_options["hidden"] == 8
    assert yaml.safe_load((tmp_path / "o" / "best.yaml").read_text())["hidden"] == 8
    study = study_of(tmp_path / "o")
    assert all(trial.params["hidden"] == 8 for trial in study.trials)
    first = study.trials[0].params  # the defaults' trial
    defaults = {k: v for k, v in first.items() if k != "hidden"}
    assert study_module._defaults_as_run(study, load_space("node", space), defaults) == first


def test_the_first_node_trial_is_the_default_command() -> None:
    """Every option the node space searches starts at its default (designs chosen inside)."""
    import types

    from mmgraph.tune.options import OPTIONS
    from mmgraph.tune.space import load_space
    from mmgraph.tune.study import default_params

    space = load_space("node")
    first = default_params(space, types.SimpleNamespace(task="node"))
    assert first == {name: OPTIONS["node"][name] for name in space.params}
    assert first["layers"] == first["head"] == first["modality_dim"] == "auto"


@pytest.mark.parametrize(("space_name", "whole"), [("subgraph", False), ("graph", True)])
def test_the_first_subgraph_trial_is_the_default_command(space_name: str, whole: bool) -> None:
    """Every option the subgraph and graph spaces search can start at its default."""
    import types

    from mmgraph.tune.options import OPTIONS, WHOLE_GRAPH_DEFAULTS
    from mmgraph.tune.space import load_space
    from mmgraph.tune.study import default_params

    space = load_space(space_name)
    first = default_params(space, types.SimpleNamespace(task="subgraph", whole_graphs=whole))
    defaults = {**OPTIONS["subgraph"], **(WHOLE_GRAPH_DEFAULTS if whole else {})}
    assert first == {name: defaults[name] for name in space.params}
    if whole:  # graphs whose nodes carry nothing but structure start from their own
        from mmgraph.data import MultimodalGraph
        from mmgraph.tune.options import STRUCTURE_DEFAULTS

        edges = types.SimpleNamespace(graph=MultimodalGraph(torch.tensor([[0], [1]]), num_nodes=2))
        search = types.SimpleNamespace(task="subgraph", whole_graphs=True, data=edges)
        first = default_params(space, search)
        defaults.update(STRUCTURE_DEFAULTS)
        assert first == {name: defaults[name] for name in space.params}
        assert set(STRUCTURE_DEFAULTS) <= set(space.params)  # the search can leave them


class _SlowSearch:
    """A search whose trial reports ten steps, counting how many it reached."""

    def __init__(self) -> None:
        self.steps: list[int] = []

    def trial(self, options: dict[str, float], report: Callable[[int, float], None]) -> float:
        for step in range(10):
            self.steps.append(step)
            report(step, 0.5)
        return float(options["x"])


def test_a_trial_running_past_the_budget_stops_once_one_has_completed() -> None:
    import time

    from mmgraph.tune.space import Param, Space
    from mmgraph.tune.study import _objective

    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={})
    study = optuna.create_study(direction="maximize")
    search = _SlowSearch()
    past = time.time() - 1.0
    # The first trial runs to its end even past the deadline: there must be a best one.
    study.optimize(_objective(search, space, deadline=past), n_trials=1)
    assert search.steps == list(range(10))
    assert study.trials[0].state == optuna.trial.TrialState.COMPLETE
    # The next is stopped at its first report.
    search.steps.clear()
    study.optimize(_objective(search, space, deadline=past), n_trials=1)
    assert search.steps == [0]
    assert study.trials[1].state == optuna.trial.TrialState.PRUNED
    assert study.trials[1].user_attrs["stopped"] == "the time budget ran out"
    # Without a deadline, trials run to their end.
    search.steps.clear()
    study.optimize(_objective(search, space), n_trials=1)
    assert search.steps == list(range(10))


def test_a_node_trial_scores_its_validation_accuracy(
    card: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Node trials are scored as `mmgraph train` scores its designs: the kept run's val
    accuracy; the pruner sees the running best of the accuracy curve."""
    from mmgraph.tasks import node_classification

    node = searches.NodeSearch(str(card))
    assert node.criterion({}) == "validation accuracy"
    seen: list[Any] = []
    train = node_classification.train_node_classifier

    def recording(*args: Any, **kwargs: Any) -> Any:
        result = train(*args, **kwargs)
        seen.append(result)
        return result

    monkeypatch.setattr(node_classification, "train_node_classifier", recording)
    monkeypatch.setattr("mmgraph.tasks.train_node_classifier", recording)
    reported: list[tuple[int, float]] = []
    options = {"text_encoder": "hashing", "image_encoder": "none", "epochs": 4, "hidden": 8}
    options.update(layers=1, head="linear", modality_dim=8)  # one design: reported per epoch
    score = node.trial(options, lambda step, value: reported.append((step, value)))
    curve = [r["val_accuracy"] for r in seen[-1].trainer.history if "val_accuracy" in r]
    assert score == seen[-1].metrics["val"]["accuracy"] and score in curve
    assert [v for _, v in reported] == [max(curve[: i + 1]) for i in range(len(curve))]


@pytest.mark.parametrize(
    "error",
    [
        optuna.exceptions.UpdateFinishedTrialError("Trial#0 has already finished"),
        ValueError("Cannot tell a COMPLETE trial."),  # the other worker told it first
    ],
)
def test_a_worker_goes_on_when_another_finished_its_queued_trial(
    error: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers can take the same queued trial; the second's `tell` fails: go on."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(study_name="s", storage=url, direction="maximize")
    calls: list[int] = []

    def optimize(self: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise error

    monkeypatch.setattr(optuna.study.Study, "optimize", optimize)
    monkeypatch.setattr(study_module, "load_space", lambda *a, **k: None)
    search = type("Search", (), {"space_name": "node"})()
    work = study_module._Worker("node", "x", None, {}, None, url, "s", 1, None, time.time() + 60)
    study_module._run_worker(work, search)
    assert len(calls) == 2
    # any other error of Optuna's is not this race: it propagates
    calls.clear()
    monkeypatch.setattr(
        optuna.study.Study, "optimize", lambda *a, **k: (_ for _ in ()).throw(ValueError("x"))
    )
    with pytest.raises(ValueError, match="x"):
        study_module._run_worker(work, search)


def test_the_best_replaces_the_defaults_only_beyond_one_standard_error() -> None:
    from mmgraph.tune.study import replaces_defaults

    # A steady gain on every seed: replaced.
    replace, gain, se = replaces_defaults([0.61, 0.62, 0.60], [0.50, 0.51, 0.50])
    assert replace and gain == pytest.approx(0.32 / 3) and se == pytest.approx(0.01 / 3)
    # One lucky seed makes all of the gain, the others lose: within the noise, kept.
    replace, gain, se = replaces_defaults([0.80, 0.45, 0.45], [0.50, 0.50, 0.50])
    assert not replace and gain == pytest.approx(0.2 / 3) and se > gain
    # A loss is never a replacement; one seed has no standard error (any gain replaces).
    assert not replaces_defaults([0.4, 0.4], [0.5, 0.5])[0]
    assert replaces_defaults([0.51], [0.50]) == (True, pytest.approx(0.01), 0.0)
    # Another standard error (the validation nodes') raises the bar; equal to it is not beyond.
    assert replaces_defaults([0.61, 0.62, 0.60], [0.50, 0.51, 0.50], 0.2) == (
        False, pytest.approx(0.32 / 3), 0.2
    )  # fmt: skip
    assert not replaces_defaults([0.6], [0.5], 0.1)[0]
    with pytest.raises(ValueError, match="one score per seed"):
        replaces_defaults([0.5], [0.5, 0.6])


class _ScoredSearch:
    """Scores ``x`` plus a per-seed noise; records every (x, seed) it trains."""

    def __init__(self, noise: dict[int, float], fail_x: float | None = None) -> None:
        self.noise, self.fail_x, self.runs = noise, fail_x, []

    def trial(self, options: dict[str, Any], report: Callable[[int, float], None]) -> float:
        self.runs.append((options["x"], options["seed"], options["fixed"]))
        if options["x"] == self.fail_x:
            raise ValueError("diverged")
        return options["x"] + (self.noise[options["seed"]] if options["x"] > 0.5 else 0.0)


def test_confirmation_trains_both_option_sets_on_the_new_seeds() -> None:
    from mmgraph.tune.space import Param, Space
    from mmgraph.tune.study import confirm_best

    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={"fixed": 7})
    steady = _ScoredSearch({1: 0.0, 2: 0.0, 3: 0.0})
    record = confirm_best(steady, space, {"x": 0.7}, {"x": 0.5}, [1, 2, 3])
    assert record["kept"] == "best" and record["best"] == [0.7] * 3
    assert record["defaults"] == [0.5] * 3 and record["seeds"] == [1, 2, 3]
    assert sorted(steady.runs) == sorted((x, s, 7) for x in (0.7, 0.5) for s in (1, 2, 3))
    # The best's gain is one seed's luck: the defaults are kept.
    lucky = _ScoredSearch({1: 0.9, 2: -0.3, 3: -0.2})
    record = confirm_best(lucky, space, {"x": 0.7}, {"x": 0.5}, [1, 2, 3])
    assert record["kept"] == "defaults" and record["gain"] < record["standard_error"]
    # A failing option set loses.
    failing = _ScoredSearch({1: 0.0}, fail_x=0.7)
    assert confirm_best(failing, space, {"x": 0.7}, {"x": 0.5}, [1])["kept"] == "defaults"
    failing = _ScoredSearch({1: 0.0}, fail_x=0.5)
    assert confirm_best(failing, space, {"x": 0.7}, {"x": 0.5}, [1])["kept"] == "best"


class _Clock:
    """A fake ``time`` module for :mod:`mmgraph.tune.study`: each run advances it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


class _TimedSearch(_ScoredSearch):
    """``_ScoredSearch`` whose every run takes ``seconds`` on ``clock``."""

    def __init__(self, clock: _Clock, seconds: float, folds: int = 0) -> None:
        super().__init__({s: 0.01 * s for s in range(1, 10)})
        self.clock, self.seconds = clock, seconds
        if folds:  # one score per fold
            self.trial_scores = lambda options, report: [self.trial(options, report)] * folds

    def trial(self, options: dict[str, Any], report: Callable[[int, float], None]) -> float:
        self.clock.now += self.seconds
        return super().trial(options, report)


def test_the_confirmation_stops_adding_seeds_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mmgraph.tune import study as study_module
    from mmgraph.tune.space import Param, Space
    from mmgraph.tune.study import MIN_CONFIRM_SCORES, confirm_best

    clock = _Clock()
    monkeypatch.setattr(study_module, "time", clock)
    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={"fixed": 7})
    seeds = [1, 2, 3, 4, 5]
    # 20 s a seed (two runs of 10 s): after two seeds (40 s) a third would end at 60 s,
    # past the deadline at 50 s
    search = _TimedSearch(clock, 10.0)
    record = confirm_best(search, space, {"x": 0.7}, {"x": 0.5}, seeds, clock.now + 50.0)
    assert record["seeds"] == [1, 2] and record["planned_seeds"] == seeds
    assert len(record["best"]) == len(record["defaults"]) == MIN_CONFIRM_SCORES
    assert [s for _, s, _ in search.runs] == [1, 1, 2, 2]  # best, then defaults, per seed
    assert record["kept"] == "best" and record["gain"] == pytest.approx(0.215)
    # past the deadline already: still the two paired scores a standard error needs
    record = confirm_best(_TimedSearch(clock, 10.0), space, {"x": 0.7}, {"x": 0.5}, seeds, 0.0)
    assert record["seeds"] == [1, 2]
    # room for every seed, or no deadline: all of them, and no planned_seeds
    for deadline in (clock.now + 1000.0, None):
        record = confirm_best(
            _TimedSearch(clock, 10.0), space, {"x": 0.7}, {"x": 0.5}, seeds, deadline
        )
        assert record["seeds"] == seeds and "planned_seeds" not in record
    # on folds one seed gives a score per fold: enough for the minimum
    folds = _TimedSearch(clock, 10.0, folds=3)
    record = confirm_best(folds, space, {"x": 0.7}, {"x": 0.5}, [1, 2], 0.0)
    assert record["seeds"] == [1] and len(record["best"]) == 3


class _NodeOutcomeSearch(_ScoredSearch):
    """Per validation node, whether it is right: ``x`` fixes which of 40 nodes are."""

    def __init__(self, right: dict[float, int], flips: dict[int, int]) -> None:
        super().__init__({})
        self.right, self.flips = right, flips  # per x, the first nodes right; per seed, a flip

    def val_outcomes(self, options: dict[str, Any], report: Callable[[int, float], None]):
        self.runs.append((options["x"], options["seed"], options["fixed"]))
        correct = np.zeros(40)
        correct[: self.right[options["x"]]] = 1.0
        if options["x"] > 0.5:
            correct[self.flips[options["seed"]]] = 1.0 - correct[self.flips[options["seed"]]]
        return [correct]  # one split


def test_node_confirmation_counts_the_validation_nodes() -> None:
    from mmgraph.tune.space import Param, Space
    from mmgraph.tune.study import confirm_best, item_standard_error, replaces_defaults

    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={"fixed": 7})
    # On every seed the best gets two more nodes of 40 right and one wrong: steady over the
    # seeds (their standard error is 0), but a net node is within what another draw of 40
    # nodes could give.
    one_node = _NodeOutcomeSearch({0.7: 32, 0.5: 30}, {1: 0, 2: 0, 3: 0})
    record = confirm_best(one_node, space, {"x": 0.7}, {"x": 0.5}, [1, 2, 3])
    assert record["best"] == [31 / 40] * 3 and record["defaults"] == [30 / 40] * 3
    assert record["gain"] == pytest.approx(1 / 40)
    assert replaces_defaults(record["best"], record["defaults"])[2] == 0.0  # the seeds' own
    diff = np.r_[-1.0, np.zeros(29), 1.0, 1.0, np.zeros(8)]  # node 0 lost, 30 and 31 won
    assert record["item_standard_error"] == pytest.approx(diff.std(ddof=1) / 40**0.5)
    assert record["standard_error"] == record["item_standard_error"] > record["gain"]
    assert record["kept"] == "defaults"
    assert sorted(one_node.runs) == sorted((x, s, 7) for x in (0.7, 0.5) for s in (1, 2, 3))
    # Ten more nodes right: beyond both standard errors, the best is kept.
    ten = _NodeOutcomeSearch({0.7: 30, 0.5: 20}, {1: 39, 2: 38, 3: 37})
    record = confirm_best(ten, space, {"x": 0.7}, {"x": 0.5}, [1, 2, 3])
    assert record["kept"] == "best" and record["gain"] > record["standard_error"]
    # node by node: each node's correctness averaged over the seeds, best minus defaults
    best, defaults = [np.array([1.0, 1.0, 0.0])] * 2, [np.array([1.0, 0.0, 0.0])] * 2
    diff = np.array([0.0, 1.0, 0.0])
    assert item_standard_error(best, defaults) == pytest.approx(diff.std(ddof=1) / 3**0.5)
    assert item_standard_error([np.ones(1)], [np.zeros(1)]) == 0.0


def test_a_node_trial_gives_each_validation_nodes_outcome(card: Path) -> None:
    search = searches.NodeSearch(str(card))
    options = {"text_encoder": "hashing", "image_encoder": "none", "image_size": 8,
               "epochs": 3, "hidden": 8, "seed": 1}  # fmt: skip
    assert search.folds == 1  # the card's own split
    [correct] = search.val_outcomes(options, lambda step, value: None)
    assert correct.shape == (int(search.data.val_mask.sum()),)
    assert set(np.unique(correct)) <= {0.0, 1.0}
    assert float(correct.mean()) == pytest.approx(search.trial(options, lambda s, v: None))


class _FoldSearch(_ScoredSearch):
    """Scores ``x`` plus a per-fold noise over three folds; counts its trainings."""

    folds = 3

    def trial_scores(self, options: dict[str, Any], report: Callable[[int, float], None]):
        self.runs.append((options["x"], options["seed"], options["fixed"]))
        return [
            options["x"] + (noise if options["x"] > 0.5 else 0.0) for noise in self.noise.values()
        ]


def test_confirmation_on_folds_pairs_them_with_one_new_seed(shared_data: Path) -> None:
    from mmgraph.tune.space import Param, Space
    from mmgraph.tune.study import confirm_best, confirmation_seeds, default_seeds

    # 5 seeds' worth of scores: one seed of 10 folds; without folds, 5 seeds
    assert confirmation_seeds("subgraph", 5, folds=10) == [1]
    assert confirmation_seeds("subgraph", 5, folds=3) == [1, 2]
    assert confirmation_seeds("node", 5) == [1, 2, 3, 4, 5]
    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={"fixed": 7})
    steady = _FoldSearch({0: 0.01, 1: 0.02, 2: 0.03})
    record = confirm_best(steady, space, {"x": 0.7}, {"x": 0.5}, [1])
    assert record["best"] == pytest.approx([0.71, 0.72, 0.73]) and record["defaults"] == [0.5] * 3
    assert record["kept"] == "best" and record["gain"] == pytest.approx(0.22)
    assert record["standard_error"] == pytest.approx(0.01 / 3**0.5)
    assert sorted(steady.runs) == [(0.5, 1, 7), (0.7, 1, 7)]  # one training of each per seed
    # one fold's luck is not a gain
    lucky = _FoldSearch({0: 0.9, 1: -0.4, 2: -0.45})
    assert confirm_best(lucky, space, {"x": 0.7}, {"x": 0.5}, [1])["kept"] == "defaults"
    # the final seeds: 1 on TU folds (the 10 folds are the repeats), else 5
    tu = searches.SubgraphSearch("mutag", root=str(shared_data))
    assert tu.folds == 10 and default_seeds(tu) == 1
    assert default_seeds(searches.SubgraphSearch("density", root=str(shared_data))) == 5


def test_a_subgraph_trial_tells_its_length(shared_data: Path) -> None:
    density = searches.SubgraphSearch("density", root=str(shared_data))
    # 100 epochs for each of the two poolings on each of the two inputs (edges alone)
    assert density.total_steps({}) == 400
    assert density.total_steps({"pool": "mean", "epochs": 30}) == 60
    assert density.total_steps({"node_input": "constant"}) == 200
    assert density.total_steps({"pool": "mean", "node_input": "id", "epochs": 30}) == 30
    assert density.total_steps({"patience": 5}) is None  # early stopping: unknown
    tu = searches.SubgraphSearch("mutag", root=str(shared_data))
    assert tu.total_steps({}) == 10
    tu.scored_folds = 4
    assert tu.total_steps({}) == 4


def test_a_tu_trial_scores_every_fold(shared_data: Path) -> None:
    tu = searches.SubgraphSearch("mutag", root=str(shared_data))
    reports: list[tuple[int, float]] = []
    options = {"epochs": 2, "hidden": 8, "layers": 1}
    scores = tu.trial_scores(options, lambda step, value: reports.append((step, value)))
    assert len(scores) == 10 and all(0.0 <= -s < 10 for s in scores)  # minus the val loss
    assert [step for step, _ in reports] == list(range(10))
    assert reports[-1][1] == pytest.approx(sum(scores) / 10)  # the mean, fold by fold
    assert tu.trial(options, lambda step, value: None) == pytest.approx(sum(scores) / 10)
    # a budget's share: the first folds only, the same ones in every trial
    tu.scored_folds = 2
    reports.clear()
    assert tu.trial_scores(options, lambda step, value: reports.append((step, value))) == (
        pytest.approx(scores[:2])
    )
    assert [step for step, _ in reports] == [0, 1]
    assert "mean over the first 2 of the 10 folds" in tu.criterion({})


def test_a_tu_trial_gives_each_validation_graphs_part_of_the_loss(shared_data: Path) -> None:
    tu = searches.SubgraphSearch("mutag", root=str(shared_data))
    tu.scored_folds = 2
    options = {"epochs": 2, "hidden": 8, "layers": 1}
    scores = tu.trial_scores(options, lambda step, value: None)
    outcomes = tu.val_outcomes(options, lambda step, value: None)
    # per fold, one value per labelled validation graph: minus its cross-entropy
    assert [o.shape[0] for o in outcomes] == [
        int((d.val_mask & (d.y >= 0)).sum()) for d in tu.fold_data[:2]
    ]
    assert all(bool((o <= 0).all()) for o in outcomes)
    assert [float(o.mean()) for o in outcomes] == pytest.approx(scores, abs=1e-5)


def test_subgraph_outcomes_are_the_parts_of_the_monitor() -> None:
    from mmgraph.tune.searches import subgraph_outcomes

    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, -1.0]])
    y = torch.tensor([0, 0, 0])
    loss = torch.nn.functional.cross_entropy(logits, y).item()
    each = subgraph_outcomes(-loss, (logits, y), "loss")
    assert each.shape == (3,) and float(each.mean()) == pytest.approx(-loss, abs=1e-6)
    assert each[1] < each[0] < 0  # the wrong graph loses most
    right = subgraph_outcomes(2 / 3, (logits, y), "accuracy")
    assert right.tolist() == [1.0, 0.0, 1.0]
    assert subgraph_outcomes(2 / 3, (logits, y), "micro_f1").tolist() == [1.0, 0.0, 1.0]
    # several labels a subgraph: the mean of its labels' binary cross-entropies
    rows = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, rows).item()
    multi = subgraph_outcomes(-bce, (logits, rows), "loss")
    assert float(multi.mean()) == pytest.approx(-bce, abs=1e-6)
    # a monitor that is no mean over subgraphs, or no outputs: the score alone
    assert subgraph_outcomes(0.4, (logits, y), "macro_f1").tolist() == [0.4]
    assert subgraph_outcomes(0.4, (logits, rows), "micro_f1").tolist() == [0.4]
    assert subgraph_outcomes(-0.3, None, "loss").tolist() == [-0.3]


class _GraphLossSearch(_ScoredSearch):
    """One fold of 100 validation graphs: the best's loss is lower by ``gain`` on some."""

    def __init__(self, per_seed: dict[int, np.ndarray]) -> None:
        super().__init__({})
        self.per_seed = per_seed

    def val_outcomes(self, options: dict[str, Any], report: Callable[[int, float], None]):
        self.runs.append((options["x"], options["seed"], options["fixed"]))
        losses = np.full(100, -0.9)
        if options["x"] > 0.5:
            losses = losses + self.per_seed[options["seed"]]
        return [losses]


def test_one_fold_confirmation_counts_the_validation_graphs() -> None:
    """IMDB-MULTI's case: two seeds on one fold agree, but a few graphs carry the gain."""
    from mmgraph.tune.space import Param, Space
    from mmgraph.tune.study import confirm_best, replaces_defaults

    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={"fixed": 7})
    mixed = np.zeros(100)
    mixed[:10], mixed[10:17] = 0.6, -0.6  # ten graphs 0.6 better, seven worse: 0.018 net
    search = _GraphLossSearch({1: mixed, 2: mixed + 0.0005})
    record = confirm_best(search, space, {"x": 0.7}, {"x": 0.5}, [1, 2])
    assert record["gain"] == pytest.approx(0.01825)
    assert replaces_defaults(record["best"], record["defaults"])[0]  # the seeds' own: kept
    assert record["item_standard_error"] == pytest.approx(mixed.std(ddof=1) / 100**0.5)
    assert record["standard_error"] == record["item_standard_error"] > record["gain"] > 0
    assert record["kept"] == "defaults"
    # the same gain spread over every graph is beyond both
    spread = np.full(100, 0.018)
    record = confirm_best(_GraphLossSearch({1: spread, 2: spread}), space, {"x": 0.7},
                          {"x": 0.5}, [1, 2])  # fmt: skip
    assert record["kept"] == "best" and record["item_standard_error"] == pytest.approx(0.0)


@pytest.mark.usefixtures("later_trials_score_higher")
def test_tune_keeps_what_the_confirmation_kept(
    card: Path, space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    from mmgraph.tune.options import OPTIONS

    seen: list[int] = []
    train = searches.NodeSearch._train  # of the trials and of the confirmation's runs

    def recording(self, options, split, report):  # noqa: ANN001, ANN202
        seen.append(options.get("seed", OPTIONS["node"]["seed"]))
        return train(self, options, split, report)

    monkeypatch.setattr(searches.NodeSearch, "_train", recording)
    result = tune(str(card), trials=3, seeds=1, space=space, out=tmp_path / "c", progress=False)
    doc = json.loads((result.out / "tune.json").read_text())
    # The best trial (the last) is not the defaults' (lr 0.01, and the hidden it drew, as
    # 64 lies outside the space), so it is confirmed against them on seeds 1 and 2, both
    # option sets: two seeds although --seeds is 1, as a standard error needs two scores.
    metrics = json.loads((result.out / "metrics.json").read_text())
    assert "seeds" not in metrics and "test" in metrics  # one final seed: a single run's keys
    confirmation = doc["confirmation"]
    assert confirmation == result.confirmation and confirmation["seeds"] == [1, 2]
    assert seen[:3] == [0, 0, 0] and sorted(seen[3:]) == [1, 1, 2, 2]
    assert doc["kept"] == confirmation["kept"] in ("best", "defaults")
    beyond = confirmation["gain"] > confirmation["standard_error"]
    assert confirmation["kept"] == ("best" if beyond else "defaults")
    best = yaml.safe_load((result.out / "best.yaml").read_text())
    first = study_of(result.out).trials[0].params
    assert first["lr"] == OPTIONS["node"]["lr"] and doc["best_trial"] == 2
    if confirmation["kept"] == "defaults":  # those of the defaults' trial, in the space
        assert best["lr"] == first["lr"] and best["hidden"] == first["hidden"]
    else:
        assert best["hidden"] == doc["best_params"]["hidden"]


def test_the_search_leaves_time_for_the_confirmation() -> None:
    import dataclasses
    import datetime
    import types

    from mmgraph.tune.study import _stop_time, _Worker

    now = datetime.datetime.now()
    done = [  # the last trial scores best
        types.SimpleNamespace(
            number=k,
            value=float(k),
            datetime_start=now,
            datetime_complete=now + datetime.timedelta(seconds=seconds),
        )
        for k, seconds in enumerate((10.0, 20.0, 30.0))
    ]
    study = types.SimpleNamespace(get_trials=lambda **kw: done)
    start = 1000.0
    # 2 paired scores: 2 seeds without folds, each a run of the best and of the defaults
    work = _Worker("node", "x", None, {}, None, "", "s", 0, None, start + 900.0, None, start, 2)
    assert _stop_time(study, work) == start + 900.0 - 4 * 20.0  # 4 runs of the median trial
    assert _stop_time(study, dataclasses.replace(work, reserve_scores=20)) == start + 450.0
    assert _stop_time(study, dataclasses.replace(work, reserve_scores=0)) == start + 900.0
    assert _stop_time(types.SimpleNamespace(get_trials=lambda **kw: []), work) == start + 900.0
    # on folds, 5 paired scores: one seed of 10 folds until the study chooses its folds;
    # once it scores 2 of them, 3 seeds: 6 runs
    folds = dataclasses.replace(work, task="subgraph", reserve_scores=5, folds=10)
    assert _stop_time(study, folds) == start + 900.0 - 2 * 20.0  # before the choice
    study.user_attrs = {"scored_folds": 2}
    assert _stop_time(study, folds) == start + 900.0 - 6 * 20.0
    study.user_attrs = {"scored_folds": 10}
    assert _stop_time(study, folds) == start + 900.0 - 2 * 20.0
    # while the defaults' own trial (the first) leads, only the least confirmation is held
    # back: a search whose defaults win goes on past half its budget
    del study.user_attrs
    five = dataclasses.replace(work, reserve_scores=5)
    assert _stop_time(study, five) == start + 900.0 - 10 * 20.0
    done[0].value = 5.0  # now the defaults' trial (the first) leads
    assert _stop_time(study, five) == start + 900.0 - 4 * 20.0
    assert _stop_time(study, dataclasses.replace(work, reserve_scores=20)) == start + 900.0 - 80


def test_an_auto_design_trial_reports_every_candidate_to_the_pruner(card: Path) -> None:
    search = searches.NodeSearch(str(card))
    options = {
        "text_encoder": "hashing",
        "image_encoder": "none",
        "image_size": 8,
        "epochs": 4,
        "patience": 10,
        "layers": "auto",
        "head": "auto",
        "modality_dim": "auto",
    }
    steps: list[int] = []
    values: list[float] = []

    def report(step: int, value: float) -> None:
        steps.append(step)
        values.append(value)

    score = search.trial(options, report)
    # one curve across the three designs: distinct steps, the running best of all of them
    assert len(steps) == len(set(steps)) and steps == sorted(steps) and max(steps) >= 2 * 4
    assert values == sorted(values) and values[-1] == score

    def past_the_deadline(step: int, value: float) -> None:
        if step >= 4:  # the second design's first epoch
            raise optuna.TrialPruned("the time budget ran out")

    with pytest.raises(optuna.TrialPruned):
        search.trial(options, past_the_deadline)


class _SlowFoldSearch(_SlowSearch):
    """A ten-fold search whose folds take ``seconds`` each."""

    folds = 10
    scored_folds: int | None = None

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def trial(self, options: dict[str, float], report: Callable[[int, float], None]) -> float:
        step = 0
        while step < (self.scored_folds or self.folds):  # read per fold, as SubgraphSearch
            time.sleep(self.seconds)
            self.steps.append(step)
            report(step, 0.5)
            step += 1
        return float(options["x"])


class _EpochFoldSearch(searches.TaskSearch):
    """Ten folds of ten epochs through TaskSearch._each_fold; the epochs it reached."""

    folds = 10
    scored_folds: int | None = None

    def __init__(self) -> None:
        self.epochs: list[tuple[int, int]] = []

    def trial(self, options: dict[str, Any], report: Callable[[int, float], None]) -> float:
        def fold(k: int, curve: Callable[[int, float], None] | None) -> tuple[float, float]:
            for epoch in range(10):
                self.epochs.append((k, epoch))
                if curve is not None:
                    curve(epoch, 0.5)  # a fold's epochs: no value reaches the pruner
            return 0.5, 0.5

        return float(np.mean(self._each_fold(report, fold)))


def test_a_fold_trial_past_the_budget_stops_inside_its_fold() -> None:
    """A fold search reports once a fold; inside a fold the deadline is checked each epoch
    (a slow single-fold trial ran 114 s on a 1-minute budget)."""
    from mmgraph.tune.space import Param, Space
    from mmgraph.tune.study import SCORED_FOLDS, _objective

    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={})
    study = optuna.create_study(direction="maximize")
    study.set_user_attr(SCORED_FOLDS, 1)  # as a large TU set under a budget
    search = _EpochFoldSearch()
    past = time.time() - 1.0
    study.optimize(_objective(search, space, deadline=past), n_trials=1)
    assert search.epochs == [(0, e) for e in range(10)]  # the first trial runs to its end
    assert study.trials[0].state == optuna.trial.TrialState.COMPLETE
    assert study.trials[0].intermediate_values == {0: 0.5}  # one report, the fold's
    search.epochs.clear()
    study.optimize(_objective(search, space, deadline=past), n_trials=1)
    assert search.epochs == [(0, 0)]  # stopped at the first epoch, not the fold's end
    assert study.trials[1].state == optuna.trial.TrialState.PRUNED
    assert study.trials[1].user_attrs["stopped"] == "the time budget ran out"
    # before the deadline, and without one, a fold runs all its epochs
    search.epochs.clear()
    study.optimize(_objective(search, space, deadline=time.time() + 60), n_trials=1)
    assert search.epochs == [(0, e) for e in range(10)]
    # outside a study (a confirmation's or the final runs' report) nothing checks
    search.epochs.clear()
    search.scored_folds = 2
    assert search.trial({}, lambda step, value: None) == 0.5
    assert len(search.epochs) == 20


def test_folds_in_budget() -> None:
    from mmgraph.tune.study import BUDGET_TRIALS, folds_in_budget

    assert BUDGET_TRIALS == 6
    assert folds_in_budget(10.0, 900.0, 10) == 10  # 6 trials of 10 folds fit: all of them
    assert folds_in_budget(47.0, 900.0, 10) == 3  # 6 trials of 3 folds: 846 s
    assert folds_in_budget(94.0, 900.0, 10) == 1
    assert folds_in_budget(1000.0, 900.0, 10) == 1  # at least one
    assert folds_in_budget(0.0, 900.0, 10) == 10
    assert folds_in_budget(10.0, math.inf, 10) == 10  # --trials without --budget


def _study_with_a_trial(seconds: float, folds_scored: int) -> optuna.Study:
    import datetime

    study = optuna.create_study(direction="maximize")
    start = datetime.datetime(2026, 1, 1)
    study.add_trial(
        optuna.trial.FrozenTrial(
            number=0,
            trial_id=0,
            state=optuna.trial.TrialState.COMPLETE,
            value=0.5,
            values=None,
            datetime_start=start,
            datetime_complete=start + datetime.timedelta(seconds=seconds),
            params={"x": 0.5},
            distributions={"x": optuna.distributions.FloatDistribution(0.0, 1.0)},
            user_attrs={},
            system_attrs={},
            intermediate_values={k: 0.5 for k in range(folds_scored)},
        )
    )
    return study


@pytest.mark.parametrize(
    ("folds", "per_seed", "seconds", "scored", "seeds", "jobs", "warned"),
    [
        (10, False, 60.0, 1, 1, 1, "10 training runs: 1 seed × 10 folds) will take about 10 min"),
        (10, False, 60.0, 1, 1, 2, "1 seed × 10 folds, 2 at once) will take about 5 min"),
        (5, True, 40.0, 5, 5, 2, None),  # drawn splits: a run per seed, 40 s in all
        (1, False, 100.0, 0, 5, 2, "5 training runs: 5 seeds) will take about 8 min"),
    ],
)
def test_a_warning_when_the_final_runs_outlast_the_budget(
    folds: int,
    per_seed: bool,
    seconds: float,
    scored: int,
    seeds: int,
    jobs: int,
    warned: str | None,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mmgraph.tasks import subgraph
    from mmgraph.tune.study import _warn_if_final_overruns, final_run_count

    monkeypatch.setattr(subgraph, "fold_jobs", lambda folds: min(folds, jobs))
    search = _SlowFoldSearch(0.0)
    search.folds, search.fold_per_seed = folds, per_seed
    study = _study_with_a_trial(seconds, scored)
    with caplog.at_level("WARNING", logger="mmgraph.tune.study"):
        _warn_if_final_overruns(study, {"x": 0.5}, search, seeds, budget=180.0)
        _warn_if_final_overruns(study, {"x": 0.7}, search, seeds, budget=180.0)  # no trial
        _warn_if_final_overruns(study, {"x": 0.5}, search, seeds, budget=None)  # --trials
    messages = [r.getMessage() for r in caplog.records if r.name == "mmgraph.tune.study"]
    assert final_run_count(search, seeds) == (seeds * folds if not per_seed else seeds)
    if warned is None:
        assert messages == []
    else:
        assert len(messages) == 1 and warned in messages[0], messages
        assert "the budget bounds the search and its confirmation, not them" in messages[0]


def test_the_first_fold_sets_the_folds_of_every_trial(caplog: pytest.LogCaptureFixture) -> None:
    from mmgraph.tune.space import Param, Space
    from mmgraph.tune.study import SCORED_FOLDS, _objective

    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={})
    study = optuna.create_study(direction="maximize")
    search = _SlowFoldSearch(0.05)
    with caplog.at_level("WARNING", logger="mmgraph.tune.study"):
        # a fold of 0.05 s or more: 6 trials of even one fold overrun 0.2 s, so one fold
        study.optimize(_objective(search, space, deadline=time.time() + 0.2), n_trials=1)
    assert study.user_attrs[SCORED_FOLDS] == 1 and search.steps == [0]
    warned = [r.getMessage() for r in caplog.records]
    assert any("every trial scores the first of them (room" in w for w in warned)
    assert any(w.startswith("The first fold took") for w in warned)
    # 0.2 s hold at most 3 folds of 0.05 s or more: the room is counted, not assumed
    room = [int(m) for w in warned for m in re.findall(r"room for about (\d+) trials", w)]
    assert room and all(1 <= r <= 3 for r in room), warned
    # a node search's folds are drawn splits, and its messages say so
    caplog.clear()
    splits = _SlowFoldSearch(0.05)
    splits.fold_word = "split"
    with caplog.at_level("WARNING", logger="mmgraph.tune.study"):
        optuna.create_study(direction="maximize").optimize(
            _objective(splits, space, deadline=time.time() + 0.2), n_trials=1
        )
    assert any(
        r.getMessage().startswith("The first split took") and "10 splits a trial" in r.getMessage()
        for r in caplog.records
    )
    # another worker's search object (or a resumed study) takes the study's choice, and
    # gives no advice of its own (its faster first fold would have scored them all)
    other = _SlowFoldSearch(0.0)
    caplog.clear()
    with caplog.at_level("WARNING", logger="mmgraph.tune.study"):
        study.optimize(_objective(other, space, deadline=time.time() + 60), n_trials=1)
    assert other.scored_folds == 1 and other.steps == [0]
    assert not any("To score all" in r.getMessage() for r in caplog.records)
    assert study.trials[-1].state == optuna.trial.TrialState.COMPLETE
    # a budget that fits six trials of ten folds keeps them all
    fresh = optuna.create_study(direction="maximize")
    roomy = _SlowFoldSearch(0.0)
    fresh.optimize(_objective(roomy, space, deadline=time.time() + 60), n_trials=1)
    assert fresh.user_attrs[SCORED_FOLDS] == 10 and roomy.steps == list(range(10))
    # no budget (a worker's deadline is then infinite): no choice, every fold
    endless = optuna.create_study(direction="maximize")
    unbounded = _SlowFoldSearch(0.0)
    endless.optimize(_objective(unbounded, space, deadline=lambda study: math.inf), n_trials=1)
    assert SCORED_FOLDS not in endless.user_attrs and unbounded.steps == list(range(10))


def _completed(study: optuna.Study, seconds: float) -> None:
    """Add a completed trial of ``seconds`` to ``study``."""
    import datetime

    end = datetime.datetime.now()
    study.add_trial(
        optuna.trial.FrozenTrial(
            number=0, trial_id=0, state=optuna.trial.TrialState.COMPLETE, value=0.5,
            values=None, datetime_start=end - datetime.timedelta(seconds=seconds),
            datetime_complete=end, params={}, distributions={}, user_attrs={},
            system_attrs={}, intermediate_values={},
        )
    )  # fmt: skip


def test_a_trial_much_slower_than_the_completed_ones_stops() -> None:
    from mmgraph.tune.space import Param, Space
    from mmgraph.tune.study import _objective, trial_time_limit

    study = optuna.create_study(direction="maximize")
    assert trial_time_limit(study, 900.0) == math.inf  # the first trial: never stopped
    _completed(study, 60.0)
    _completed(study, 100.0)
    # twice the median completed trial, or a sixth of the budget if that is longer
    assert trial_time_limit(study, 900.0) == pytest.approx(160.0, abs=0.01)
    assert trial_time_limit(study, 6000.0) == pytest.approx(1000.0)
    assert trial_time_limit(study, None) == math.inf  # no budget, no limit
    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={})
    quick = optuna.create_study(direction="maximize")
    _completed(quick, 0.01)
    search = _SlowFoldSearch(0.05)  # 0.5 s in all, against a limit of 0.3 / 6 = 0.05 s
    quick.optimize(_objective(search, space, budget=0.3), n_trials=1)
    stopped = quick.trials[-1]
    assert stopped.state == optuna.trial.TrialState.PRUNED and len(search.steps) < 10
    assert stopped.user_attrs["stopped"] == "slower than the budget allows (0 s)"


class _PacedSearch(_SlowSearch):
    """An epoch search of ``steps`` reports, ``seconds`` apart, that tells its length."""

    def __init__(self, seconds: float, steps: int | None) -> None:
        super().__init__()
        self.seconds, self.length = seconds, steps

    def total_steps(self, options: dict[str, float]) -> int | None:
        return self.length

    def trial(self, options: dict[str, float], report: Callable[[int, float], None]) -> float:
        for step in range(self.length or 100):
            time.sleep(self.seconds)
            self.steps.append(step)
            report(step, 0.5)
        return float(options["x"])


def test_projected_seconds() -> None:
    from mmgraph.tune.study import projected_seconds

    pace: list[tuple[int, float]] = []
    now = time.time()
    assert projected_seconds(pace, 0, 100, now - 5.0) == 0.0  # the first report: no pace
    assert pace[0][0] == 0
    pace[0] = (0, now - 1.0)  # one step a second since the first report, 5 s before it
    assert projected_seconds(pace, 1, 100, now - 6.0) == pytest.approx(6.0 + 98.0, abs=0.1)
    assert projected_seconds(pace, 1, None, now - 6.0) == 0.0  # length unknown
    assert projected_seconds(pace, 99, 100, now - 6.0) == 0.0  # the last step
    assert projected_seconds(pace, 0, 100, now - 6.0) == 0.0  # no step since the first


def test_a_trial_whose_pace_overruns_its_limit_stops_early() -> None:
    from mmgraph.tune.space import Param, Space
    from mmgraph.tune.study import _objective

    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={})
    study = optuna.create_study(direction="maximize")
    _completed(study, 0.01)
    # a limit of 6 / 6 = 1 s; 0.1 s a step over 100 steps projects 10 s at the second step
    slow = _PacedSearch(0.1, 100)
    study.optimize(_objective(slow, space, budget=6.0), n_trials=1)
    stopped = study.trials[-1]
    assert stopped.state == optuna.trial.TrialState.PRUNED and slow.steps == [0, 1]
    # about 10 s: sleeps overrun on a busy machine (11 s was seen under CI), so not exactly
    message = stopped.user_attrs["stopped"]
    match = re.match(r"would take about (\d+) s, over 3 times the 1 s the budget allows", message)
    assert match and 10 <= int(match.group(1)) <= 20, message
    # the same pace over 5 steps fits: it completes; an unknown length is not projected
    for steps, length in ((5, 5), (None, 100)):
        short = _PacedSearch(0.002 if steps is None else 0.1, steps)
        study.optimize(_objective(short, space, budget=6.0), n_trials=1)
        assert study.trials[-1].state == optuna.trial.TrialState.COMPLETE
        assert short.steps == list(range(length))


def test_a_first_fold_trial_past_the_budget_is_announced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from mmgraph.tune.space import Param, Space
    from mmgraph.tune.study import _objective

    space = Space(params={"x": Param("x", "float", low=0.0, high=1.0)}, fixed={})
    study = optuna.create_study(direction="maximize")
    search = _SlowFoldSearch(0.1)
    with caplog.at_level("WARNING", logger="mmgraph.tune.study"):
        # even one fold of 0.1 s cannot end within 0.05 s: said once, at the first fold
        study.optimize(_objective(search, space, deadline=time.time() + 0.05), n_trials=1)
    warned = [r.getMessage() for r in caplog.records if "first trial" in r.getMessage()]
    assert len(warned) == 1
    assert "trains 1 fold and" in warned[0] and "--budget 1m" in warned[0]
    assert search.steps == [0]  # and it still runs to its end
    caplog.clear()
    with caplog.at_level("WARNING", logger="mmgraph.tune.study"):
        # the next trial is not the first: stopped by the budget, not announced
        study.optimize(_objective(search, space, deadline=time.time() + 0.05), n_trials=1)
        # a first trial that fits its budget is not announced either
        fresh = optuna.create_study(direction="maximize")
        fresh.optimize(
            _objective(_SlowFoldSearch(0.02), space, deadline=time.time() + 60), n_trials=1
        )
    assert not [r for r in caplog.records if "first trial" in r.getMessage()]
    # a trial past the budget that has trained its last fold completes: its work is done
    assert study.trials[1].state == optuna.trial.TrialState.COMPLETE
    two = _SlowFoldSearch(0.0)
    two.scored_folds = 2
    study.set_user_attr("scored_folds", 2)
    study.optimize(_objective(two, space, deadline=time.time() - 1), n_trials=1)
    assert study.trials[2].state == optuna.trial.TrialState.PRUNED and two.steps == [0]


def test_fold_searches_prune_from_the_third_fold() -> None:
    from mmgraph.tune.study import _pruner

    def study_with_two_trials(folds: int) -> optuna.Study:
        study = optuna.create_study(direction="maximize", pruner=_pruner(folds))
        for _ in range(2):
            trial = study.ask()
            for step in range(10):
                trial.report(0.8, step)
            study.tell(trial, 0.8)
        return study

    study = study_with_two_trials(10)
    worse = study.ask()
    worse.report(0.5, 0)
    worse.report(0.5, 1)
    assert not worse.should_prune()  # two folds: too early
    worse.report(0.5, 2)
    assert worse.should_prune()  # the third fold's mean is below the median
    # per epoch (one split): no pruning before 5 trials and epoch 10
    study = study_with_two_trials(1)
    worse = study.ask()
    for step in range(12):
        worse.report(0.5, step)
    assert not worse.should_prune()


def test_a_tu_search_trains_the_epochs_of_the_default_command(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large set's trials train the capped epochs that ``subgraph train`` would."""
    from mmgraph.tasks import subgraph as tasks_subgraph
    from mmgraph.tune import options

    tu = searches.SubgraphSearch("mutag", root=str(shared_data))
    work = options.whole_graph_epoch_work(len(tu.data), 3371, 7442, batch_size=64)
    monkeypatch.setattr(options, "WHOLE_GRAPH_WORK", 20 * work)
    trained: list[tuple[int, int | None]] = []

    def fake_train(data: Any, config: Any, train: Any, *args: Any, **kwargs: Any) -> Any:
        trained.append((train.epochs, train.lr_step_size))
        metrics = {"val": {"loss": 0.5, "accuracy": 0.5}}
        return tasks_subgraph.SubgraphResult(metrics, torch.zeros(1, 1), [])

    monkeypatch.setattr(tasks_subgraph, "train_subgraph_model", fake_train)
    tu.trial_scores({"batch_size": 64}, lambda step, value: None)
    assert set(trained) == {(20, 3)} and len(trained) == 10  # 20 of 300 epochs, step 50/15
    trained.clear()
    tu.trial_scores({"batch_size": 64, "epochs": 7}, lambda step, value: None)
    assert set(trained) == {(7, 50)}  # a space that sets the epochs keeps them


def test_a_search_shows_each_warning_once() -> None:
    import warnings

    from mmgraph.tune.study import each_warning_once

    @each_warning_once
    def trials() -> None:
        for isolated in (87, 85, 87, 85):  # one warning per run: two graphs
            with warnings.catch_warnings():  # as a sparse product does: resets "once"
                warnings.simplefilter("ignore", DeprecationWarning)
            warnings.warn(f"{isolated} of 250 nodes have no edge", UserWarning, stacklevel=1)
        warnings.warn("another warning", UserWarning, stacklevel=1)

    with pytest.warns(UserWarning) as record:
        trials()
        trials()  # a second search shows them again
    shown = [str(w.message) for w in record]
    once = ["87 of 250 nodes have no edge", "85 of 250 nodes have no edge", "another warning"]
    assert shown == once * 2


def test_a_card_names_its_study_by_its_folder(tmp_path: Path) -> None:
    import optuna

    from mmgraph.tasks.run_folder import RunFolder
    from mmgraph.tune.study import _study_name

    folder = RunFolder(tmp_path / "out")
    # every card is dataset.yaml: two cards in one --storage are two studies
    assert _study_name("node", "/d/bots/dataset.yaml", None, folder, False) == "mmgraph-node-bots"
    assert _study_name("node", "/d/bots", None, folder, False) == "mmgraph-node-bots"
    assert _study_name("node", "/d/cora.csv", None, folder, False) == "mmgraph-node-cora.csv"
    url = f"sqlite:///{tmp_path / 'shared.db'}"  # a study begun under the former name
    optuna.create_study(study_name="mmgraph-node-dataset.yaml", storage=url)
    name = _study_name("node", "/d/bots/dataset.yaml", url, folder, False)
    assert name == "mmgraph-node-dataset.yaml"


def test_few_held_out_edges_are_said_to_be_noise(caplog: pytest.LogCaptureFixture) -> None:
    """On the TwiBot-20 sample (32 edges) the search scored 3 held-out edges, and presented
    an AUC of 1.0 as a result without a word."""
    from mmgraph.data import MultimodalGraph

    ring = torch.arange(40)
    graph = MultimodalGraph(torch.stack([ring, (ring + 1) % 40]), num_nodes=40)
    with caplog.at_level("WARNING", logger="mmgraph.tune.searches"):
        _, held, negatives = searches.hold_out_edges(graph)
    assert len(held) == len(negatives) == 4
    assert "scores each trial on 4 held-out edges (10% of the graph's 40)" in caplog.text
    assert "steps of 1/16" in caplog.text and "500 edges or more" in caplog.text
    caplog.clear()
    ring = torch.arange(600)
    big = MultimodalGraph(torch.stack([ring, (ring + 1) % 600]), num_nodes=600)
    with caplog.at_level("WARNING", logger="mmgraph.tune.searches"):
        searches.hold_out_edges(big)
    assert caplog.text == ""


def test_trials_stopped_for_time_are_told_apart_and_warned_of(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 3-minute search with two workers completed the defaults alone and stopped 16
    trials for time, which it printed as "16 pruned" and then chose among nothing."""
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.9, params={}, distributions={}))
    for _ in range(3):
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState.PRUNED,
                user_attrs={"stopped": "would take about 705 s, over 3 times the 30 s"},
            )
        )
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED))
    counts = study_module._trial_counts(study)
    assert (counts["complete"], counts["pruned"], counts["timed_out"]) == (1, 1, 3)
    with caplog.at_level("WARNING", logger="mmgraph.tune.study"):
        study_module._warn_if_trials_ran_out_of_time(study, counts)
    assert "1 trial completed and 3 were stopped for time (e.g. would take about 705 s" in (
        caplog.text
    )
    assert "Give a larger --budget" in caplog.text


def test_no_importance_plot_from_one_completed_trial(tmp_path: Path) -> None:
    study = optuna.create_study(direction="maximize")
    distribution = optuna.distributions.FloatDistribution(0.0, 1.0)
    study.add_trial(
        optuna.trial.create_trial(value=0.9, params={"lr": 0.1}, distributions={"lr": distribution})
    )
    assert study_module._plots(study, tmp_path) == [study_module.HISTORY_PLOT]


def test_the_plots_name_the_criterion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The values' axis says what they are, not Optuna's "Objective Value"."""
    from matplotlib.figure import Figure

    study = optuna.create_study(direction="maximize")
    distribution = optuna.distributions.FloatDistribution(0.0, 1.0)
    for value, lr in ((0.9, 0.1), (0.7, 0.5), (0.8, 0.3)):
        study.add_trial(
            optuna.trial.create_trial(
                value=value, params={"lr": lr}, distributions={"lr": distribution}
            )
        )
    labels = []
    real = Figure.savefig

    def savefig(self: Figure, *args: Any, **kwargs: Any) -> None:
        labels.append([axis.get_ylabel() or axis.get_xlabel() for axis in self.axes][0])
        real(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    written = study_module._plots(study, tmp_path, "validation accuracy")
    assert written == [study_module.HISTORY_PLOT, study_module.IMPORTANCE_PLOT]
    assert labels[0] == "validation accuracy"  # the history's value axis
    assert all("Objective Value" not in label for label in labels)


def test_a_subgraph_split_without_validation_validates_on_a_tenth_of_training(
    tmp_path: Path,
) -> None:
    """`subgraph train` chose on a tenth of the training subgraphs; `tune` refused the data."""
    from mmgraph.data.synthetic_subgraphs import make_synthetic_subgraphs, save_subgnn

    folder = tmp_path / "no-val"
    save_subgnn(
        make_synthetic_subgraphs("cut_ratio", seed=0, num_nodes=80, num_subgraphs=30), folder
    )
    path = folder / "subgraphs.pth"
    path.write_text(path.read_text().replace("\tval\n", "\ttrain\n"))
    dataset = load_dataset(folder)
    assert not bool(dataset.val_mask.any())
    search = searches.SubgraphSearch(str(folder))
    val, train = search.data.val_mask, search.data.train_mask
    assert bool(val.any()) and not bool((val & train).any())
    assert bool((val | train)[dataset.train_mask].all())  # carved from the training ones
    assert not bool((val | train)[dataset.test_mask].any())  # the test ones stay out
    assert int(val.sum()) == round(0.1 * int(dataset.train_mask.sum()))
