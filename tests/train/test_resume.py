"""Checkpoints and resumption: a killed run, resumed, ends as if it had never stopped."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import mmgraph.train.trainer as trainer_module
from mmgraph.errors import InputError
from mmgraph.seed import seed_everything
from mmgraph.train import TrainConfig, Trainer
from mmgraph.train.checkpoint import (
    CHECKPOINT,
    WEIGHTS,
    Checkpoint,
    load_checkpoint,
    load_state_dict_from,
    load_weights,
    save_weights,
)
from mmgraph.train.history import HISTORY, HistoryLog

WORKER = Path(__file__).with_name("resume_worker.py")
_spec = importlib.util.spec_from_file_location("resume_worker", WORKER)
assert _spec is not None and _spec.loader is not None
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)


class Interrupted(Exception):
    """Stands for a crash at a chosen point of the loop."""


@pytest.fixture(scope="module")
def graph():
    return worker.make_graph()


def train(graph, out: Path | None, mode: str = "full", resume: bool = False, **kw) -> Trainer:
    trainer = Trainer(worker.make_model(graph), worker.make_config(mode, **kw), out_dir=out)
    return trainer.fit(graph, resume=resume)


@contextlib.contextmanager
def crash_after_epoch(epoch: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Raise :class:`Interrupted` once ``epoch``'s record is in the history (the block must)."""
    append = HistoryLog.append

    def crash(self: HistoryLog, record: dict[str, Any]) -> None:
        append(self, record)
        if record["epoch"] == epoch:
            raise Interrupted

    with monkeypatch.context() as patch:
        patch.setattr(HistoryLog, "append", crash)
        with pytest.raises(Interrupted):
            yield


def without_time(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records without 'time', NaN as None (NaN != NaN; history.jsonl stores null)."""
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
        for r in ({k: v for k, v in r.items() if k != "time"} for r in history)
    ]


def assert_same_run(a: Trainer, b: Trainer, out_a: Path | None, out_b: Path) -> None:
    assert a.best_epoch == b.best_epoch and a.best_score == b.best_score
    assert without_time(a.history) == without_time(b.history)
    state_a, state_b = a.model.state_dict(), b.model.state_dict()
    assert list(state_a) == list(state_b)
    for key in state_a:
        assert torch.equal(state_a[key], state_b[key]), key
    last_b = load_checkpoint(out_b / CHECKPOINT).model
    if out_a is not None:
        last_a = load_checkpoint(out_a / CHECKPOINT).model
        for key in last_a:
            assert torch.equal(last_a[key], last_b[key]), key
    saved = [json.loads(line) for line in (out_b / HISTORY).read_text().splitlines()]
    assert without_time(saved) == without_time(b.history)
    best = load_weights(out_b / WEIGHTS)
    for key in state_b:
        assert torch.equal(best[key], state_b[key]), key


def checkpoint_epoch(path: Path) -> int:
    """The epoch of the checkpoint at ``path`` (0 if none), read through one file handle.

    The worker replaces the file while this polls, and ``safe_open`` was seen (once in CI)
    to pair one file's header with another's size. The safetensors header (8-byte
    little-endian length, then JSON) is read here from a single open file instead.
    """
    try:
        with open(path, "rb") as fh:
            size = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(size))
    except FileNotFoundError:
        return 0
    return int(json.loads(header["__metadata__"]["trainer"])["epoch"])


@pytest.mark.parametrize(("mode", "delay"), [("full", 0.03), ("mini", 0.01)])
def test_sigkilled_run_resumes_exactly(graph, tmp_path: Path, mode: str, delay: float) -> None:
    """Kill a training process with SIGKILL after its second checkpoint, then resume it."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, str(WORKER), str(tmp_path / "killed"), mode, str(delay)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while checkpoint_epoch(tmp_path / "killed" / CHECKPOINT) < 10:
            assert process.poll() is None, process.communicate()[1].decode()[-3000:]
            assert time.monotonic() < deadline, "the worker wrote no checkpoint in time"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == -signal.SIGKILL
    killed_at = checkpoint_epoch(tmp_path / "killed" / CHECKPOINT)
    assert 10 <= killed_at < 30  # it stopped mid-run
    uninterrupted = train(graph, tmp_path / "full", mode)
    resumed = train(graph, tmp_path / "killed", mode, resume=True)
    assert_same_run(uninterrupted, resumed, tmp_path / "full", tmp_path / "killed")


def test_crash_between_history_and_checkpoint_resumes_exactly(
    graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mini-batches with dropout, stopped after epoch 12's record and best weights were
    written but before any checkpoint after epoch 10: the resumed run drops those files'
    later state and repeats epochs 11 and 12 exactly."""
    uninterrupted = train(graph, tmp_path / "full", "mini")
    with crash_after_epoch(12, monkeypatch):
        train(graph, tmp_path / "part", "mini")
    assert checkpoint_epoch(tmp_path / "part" / CHECKPOINT) == 10
    assert len((tmp_path / "part" / HISTORY).read_text().splitlines()) == 12
    torch.manual_seed(99)  # whatever state the crashed process left
    resumed = train(graph, tmp_path / "part", "mini", resume=True)
    assert_same_run(uninterrupted, resumed, tmp_path / "full", tmp_path / "part")


def test_early_stopping_count_survives_a_resume(
    graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = dict(epochs=200, patience=3, lr=0.05, checkpoint_every=1, monitor="loss")
    uninterrupted = train(graph, tmp_path / "full", **settings)
    stopped = len(uninterrupted.history)
    assert stopped < 200 and stopped - uninterrupted.best_epoch == 3
    save = trainer_module.save_checkpoint

    def crash_after(checkpoint: Checkpoint, path: Path) -> Path:
        out = save(checkpoint, path)
        if checkpoint.epoch == stopped - 1:
            assert checkpoint.bad_evals == 2  # mid-way through the patience
            raise Interrupted
        return out

    with monkeypatch.context() as patch:
        patch.setattr(trainer_module, "save_checkpoint", crash_after)
        with pytest.raises(Interrupted):
            train(graph, tmp_path / "part", **settings)
    resumed = train(graph, tmp_path / "part", resume=True, **settings)
    assert_same_run(uninterrupted, resumed, tmp_path / "full", tmp_path / "part")
    # Resuming a run that stopped early trains no further.
    again = train(graph, tmp_path / "part", resume=True, **settings)
    assert without_time(again.history) == without_time(uninterrupted.history)


def test_history_is_appended_not_rewritten(
    graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / HISTORY
    seen: list[tuple[int, int, int]] = []  # (epoch, size, inode) at each checkpoint
    save = trainer_module.save_checkpoint

    def watch(checkpoint: Checkpoint, out: Path) -> Path:
        stat = path.stat()
        seen.append((checkpoint.epoch, stat.st_size, stat.st_ino))
        if len(seen) == 1:  # mark the first line in place: a rewrite would lose the mark
            text = path.read_bytes()
            assert text.startswith(b'{"epoch": 1, ')
            with open(path, "r+b") as fh:
                fh.write(b'{"epoch":1 , ')
        return save(checkpoint, out)

    monkeypatch.setattr(trainer_module, "save_checkpoint", watch)
    train(graph, tmp_path, epochs=12, checkpoint_every=4)
    assert [epoch for epoch, _, _ in seen] == [4, 8, 12]
    sizes = [size for _, size, _ in seen]
    assert sizes == sorted(sizes) and len(set(sizes)) == 3
    assert {inode for _, _, inode in seen} == {path.stat().st_ino}
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 12 and lines[0].startswith(b'{"epoch":1 , ')
    assert sum(map(len, lines[:8])) == sizes[1]
    # A resume cuts the lines after the checkpoint and appends to the same file.
    with open(path, "ab") as fh:
        fh.write(b'{"epoch": 13, "train_loss": 0.5}\n{"epoch": 14, "trai')
    train(graph, tmp_path, epochs=14, checkpoint_every=4, resume=True)
    after = path.read_bytes().splitlines(keepends=True)
    assert after[:12] == lines and len(after) == 14 and path.stat().st_ino == seen[0][2]
    assert [json.loads(line)["epoch"] for line in after] == list(range(1, 15))
    assert "time" in json.loads(after[12])


@pytest.mark.parametrize("coordination", ["ranking", "structure"])
def test_a_coordination_loss_that_samples_resumes_exactly(
    graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, coordination: str
) -> None:
    """The loss draws its negatives from a generator of its own, seeded from torch's when
    the model is built: two seeded runs are the same run, and the checkpoint holds that
    generator's state, so a resumed run draws what the uninterrupted one drew."""

    def make(out: Path | None = None) -> Trainer:
        seed_everything(0)
        model = worker.MultimodalGNN.from_graph(
            graph, hidden=8, modality_dim=8, dropout=0.3, coordination=coordination
        )
        return Trainer(model, worker.make_config("full", epochs=16), out_dir=out)

    first = make(tmp_path / "full").fit(graph)
    again = make().fit(graph)
    assert without_time(first.history) == without_time(again.history)
    with crash_after_epoch(12, monkeypatch):
        make(tmp_path / "part").fit(graph)
    torch.manual_seed(99)  # whatever state the crashed process left
    resumed = make(tmp_path / "part").fit(graph, resume=True)
    assert_same_run(first, resumed, tmp_path / "full", tmp_path / "part")


@pytest.mark.parametrize("damage", ["empty", "truncated", "text"])
def test_damaged_files_raise_input_errors_naming_them(graph, tmp_path: Path, damage: str) -> None:
    train(graph, tmp_path, epochs=3)
    for name in (WEIGHTS, CHECKPOINT):
        path = tmp_path / name
        data = path.read_bytes()
        damaged = {"empty": b"", "truncated": data[: len(data) // 2], "text": b"weights\n"}
        path.write_bytes(damaged[damage])
    message = (
        r"' is truncated or not a safetensors file \(.*\): retrain with --overwrite or restore"
    )
    with pytest.raises(InputError, match=re.escape(str(tmp_path / WEIGHTS)) + message):
        load_weights(tmp_path / WEIGHTS)
    with pytest.raises(InputError, match=re.escape(str(tmp_path / CHECKPOINT)) + message):
        train(graph, tmp_path, epochs=6, resume=True)


def test_weights_of_another_model_raise_input_errors(graph, tmp_path: Path) -> None:
    train(graph, tmp_path, epochs=3)
    other = worker.MultimodalGNN.from_graph(graph, hidden=4, modality_dim=8)
    with pytest.raises(
        InputError, match=re.escape(f"'{tmp_path / WEIGHTS}' do not fit MultimodalGNN")
    ):
        load_state_dict_from(other, load_weights(tmp_path / WEIGHTS), tmp_path / WEIGHTS)
    trainer = Trainer(other, worker.make_config("full", epochs=6), out_dir=tmp_path)
    with pytest.raises(InputError, match=re.escape(f"'{tmp_path / CHECKPOINT}' do not fit")):
        trainer.fit(graph, resume=True)
    # A safetensors file that is no checkpoint (here: plain weights).
    save_weights(worker.make_model(graph).state_dict(), tmp_path / CHECKPOINT)
    with pytest.raises(InputError, match="is not an mmgraph training checkpoint"):
        train(graph, tmp_path, epochs=6, resume=True)


def test_resume_needs_a_checkpoint_and_its_history(graph, tmp_path: Path) -> None:
    with pytest.raises(
        FileNotFoundError,
        match=re.escape(f"No checkpoint in {tmp_path} ({CHECKPOINT}): nothing to resume"),
    ):
        train(graph, tmp_path, resume=True)
    (tmp_path / "trainer_state.yaml").write_text("meta: {}\n")
    with pytest.raises(FileNotFoundError, match="trainer_state.yaml is from an older mmgraph"):
        train(graph, tmp_path, resume=True)
    train(graph, tmp_path, epochs=5)
    lines = (tmp_path / HISTORY).read_text().splitlines(keepends=True)
    (tmp_path / HISTORY).write_text("".join(lines[:3]))
    with pytest.raises(InputError, match="holds 3 readable records but the checkpoint covers 5"):
        train(graph, tmp_path, epochs=8, resume=True)
    (tmp_path / HISTORY).unlink()
    with pytest.raises(InputError, match=f"No {HISTORY} beside the checkpoint"):
        train(graph, tmp_path, epochs=8, resume=True)


def test_a_fresh_run_discards_an_older_checkpoint(
    graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train(graph, tmp_path, epochs=5)

    def crash(checkpoint: Checkpoint, path: Path) -> Path:
        raise Interrupted

    with monkeypatch.context() as patch:
        patch.setattr(trainer_module, "save_checkpoint", crash)
        with pytest.raises(Interrupted):
            train(graph, tmp_path, epochs=3)
    assert not (tmp_path / CHECKPOINT).exists()
    assert len((tmp_path / HISTORY).read_text().splitlines()) == 3
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(graph, tmp_path, epochs=3, resume=True)


@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_checkpoint_every_is_checked(value: Any) -> None:
    with pytest.raises(ValueError, match="Expected 'checkpoint_every' to be an int >= 1"):
        TrainConfig(checkpoint_every=value)
    assert TrainConfig().checkpoint_every == 10
