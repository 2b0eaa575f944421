"""One line a minute that says a long run is alive, where no progress bar can be drawn.

The training loops call :func:`beat` after each epoch. At most every :data:`INTERVAL`
seconds it logs one INFO line on the logger ``mmgraph.heartbeat``, with the time
since :func:`start` and the stages entered with :func:`stage`::

    2 min 10 s: design 2 of 6, epoch 41 of 200

Nothing shows unless a handler listens at INFO. The command line adds one when stderr is
not a terminal (a log file, a pipe), where tqdm's bars are off: a default run that
chooses between six designs had otherwise said nothing for three minutes. ``--verbose``
shows the lines too. When nothing listens, :func:`beat` costs one level check.

Example::

    from mmgraph import heartbeat

    heartbeat.start()
    with heartbeat.stage("fold 3 of 10"):
        for epoch in range(1, 301):
            ...
            heartbeat.beat(epoch, 300)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

log = logging.getLogger(__name__)

INTERVAL = 60.0
"""Seconds between two lines (and from :func:`start` to the first)."""

_now = time.monotonic  # the clock (a test replaces it)
_stages: ContextVar[tuple[str, ...]] = ContextVar("mmgraph_heartbeat_stages", default=())
_clock: dict[str, float] = {}
_loops: dict[tuple[str, int], tuple[float, int]] = {}  # (unit, total) -> its first beat


def start() -> None:
    """Count the time shown from now; the first line comes :data:`INTERVAL` seconds on."""
    now = _now()
    _clock["start"] = _clock["last"] = now


@contextmanager
def stage(text: str) -> Iterator[None]:
    """Name the work inside the block (``"design 2 of 6"``) in its lines; stages nest."""
    token = _stages.set((*_stages.get(), text))
    try:
        yield
    finally:
        _stages.reset(token)


def beat(done: int, total: int, unit: str = "epoch", eta: bool = False) -> None:
    """Log ``"<time>: <stages>, <unit> <done> of <total>"`` if a line is due.

    With ``eta``, the line adds the time left at the pace since the loop's first beat
    (``, about 6 min 10 s left``): for loops of even steps, such as encoding batches, not for
    epochs that early stopping may cut short. Without :func:`start`, the first call starts
    the clock.
    """
    if not log.isEnabledFor(logging.INFO):
        return
    now = _now()
    first = None
    if eta:
        key = (unit, total)
        first = _loops.get(key)
        if first is None or done < first[1]:  # a new run of this loop
            _loops[key] = first = (now, done)
        if done >= total:
            del _loops[key]
    if "last" not in _clock:
        start()
        return
    if now - _clock["last"] < INTERVAL:
        return
    _clock["last"] = now
    text = f"{unit} {done:,} of {total:,}"
    if first is not None and first[1] < done < total:
        left = (total - done) * (now - first[0]) / (done - first[1])
        text += f", about {elapsed(left)} left"
    where = [*_stages.get(), text]
    log.info("%s: %s", elapsed(now - _clock["start"]), ", ".join(where))


def elapsed(seconds: float) -> str:
    """``seconds`` as a line says it: ``"40 s"``, ``"2 min 10 s"``, ``"1 h 5 min"``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
