"""mmgraph.heartbeat: a line a minute where no progress bar is drawn."""

from __future__ import annotations

import logging

import pytest

from mmgraph import heartbeat


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(heartbeat, "_now", lambda: now[0])
    monkeypatch.setattr(heartbeat, "_clock", {})
    monkeypatch.setattr(heartbeat, "_loops", {})
    return now


def test_one_line_per_interval_with_the_stages(
    clock: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=heartbeat.__name__)
    heartbeat.start()
    with heartbeat.stage("fold 3 of 10"), heartbeat.stage("candidate 2"):
        for epoch in range(1, 301):
            clock[0] += 1.0  # one second an epoch
            heartbeat.beat(epoch, 300)
        heartbeat.beat(300, 300, "pretraining rbm:text epoch")  # due? no: 0 s since
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "1 min 0 s: fold 3 of 10, candidate 2, epoch 60 of 300",
        "2 min 0 s: fold 3 of 10, candidate 2, epoch 120 of 300",
        "3 min 0 s: fold 3 of 10, candidate 2, epoch 180 of 300",
        "4 min 0 s: fold 3 of 10, candidate 2, epoch 240 of 300",
        "5 min 0 s: fold 3 of 10, candidate 2, epoch 300 of 300",
    ]
    clock[0] += 3600.0  # the stages have ended; a unit of another loop
    heartbeat.beat(4, 20, "pretraining rbm:text epoch")
    assert caplog.records[-1].getMessage() == "1 h 5 min: pretraining rbm:text epoch 4 of 20"


def test_silent_without_a_listener_and_starts_its_own_clock(
    clock: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=heartbeat.__name__)
    clock[0] += 500.0
    heartbeat.beat(1, 2)
    assert not caplog.records and heartbeat._clock == {}  # not even the clock is read
    caplog.set_level(logging.INFO, logger=heartbeat.__name__)
    heartbeat.beat(1, 2)  # the first beat without start() starts the clock
    clock[0] += 59.0
    heartbeat.beat(2, 2)
    assert not caplog.records
    clock[0] += 1.0
    heartbeat.beat(2, 2)
    assert [r.getMessage() for r in caplog.records] == ["1 min 0 s: epoch 2 of 2"]


def test_the_boltzmann_machine_beats_in_each_stage(
    clock: list[float], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # its greedy stages train outside the trainer: a long pretraining says where it is too
    import torch

    from mmgraph.coordination import MultimodalDBM

    monkeypatch.setattr(heartbeat, "INTERVAL", 0.0)
    caplog.set_level(logging.INFO, logger=heartbeat.__name__)
    heartbeat.start()
    x = {"a": torch.randn(20, 4), "b": torch.randn(20, 3)}
    MultimodalDBM({"a": 4, "b": 3}, epochs=1, pretrain_epochs=2, progress=False).fit(x)
    assert [r.getMessage() for r in caplog.records] == [
        "0 s: pretraining rbm:a epoch 1 of 2",
        "0 s: pretraining rbm:a epoch 2 of 2",
        "0 s: pretraining rbm:b epoch 1 of 2",
        "0 s: pretraining rbm:b epoch 2 of 2",
        "0 s: pretraining joint-rbm epoch 1 of 2",
        "0 s: pretraining joint-rbm epoch 2 of 2",
        "0 s: pretraining dbm epoch 1 of 1",
    ]


def test_a_loop_of_even_steps_says_the_time_left(
    clock: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=heartbeat.__name__)
    heartbeat.start()
    for run in range(2):  # the second run of the loop paces itself anew
        for done in range(1000, 30001, 1000):
            clock[0] += 6.0 if run == 0 else 20.0  # 1,000 texts in 6 s, then in 20 s
            heartbeat.beat(done, 30000, "texts encoded", eta=True)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "1 min 0 s: texts encoded 10,000 of 30,000, about 2 min 0 s left"
    assert lines[2] == "3 min 0 s: texts encoded 30,000 of 30,000"  # done: nothing left
    assert lines[3] == "4 min 0 s: texts encoded 3,000 of 30,000, about 9 min 0 s left"
    assert heartbeat._loops == {}  # finished loops are forgotten
