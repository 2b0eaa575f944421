"""What the fuzz tests share: the command-line contract, snapshots, byte mutations.

The contract checked for every generated input:

* the command line ends with exit status 0 (a result) or 2 (one line on stderr,
  ``mmgraph <command>: error: ...``), never 1 (an internal error: a bug), never with an
  exception escaping :func:`mmgraph.cli.main` (a traceback), never past a time limit;
* a loader returns or raises :class:`ValueError` / :class:`OSError` whose message names
  the offending file;
* no input file and no existing run folder changes (compare :func:`snapshot` before and
  after).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from mmgraph.cli import main

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("MMGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))

SLOW_CALL_S = 30
"""Seconds after which one call counts as a hang."""

FUZZ = settings(
    derandomize=True,
    deadline=None,  # a hang is caught by the alarm of `time_limit` instead (see there)
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    database=None,
    print_blob=True,
)
"""Reproducible settings: CI must not flake; every test sets its own ``max_examples``."""


class Hang(BaseException):
    """Raised by the alarm of :func:`time_limit`: not an ``Exception``, so no handler eats it."""


@contextlib.contextmanager
def time_limit(seconds: float = SLOW_CALL_S) -> Iterator[None]:
    """Raise :class:`Hang` in the block after ``seconds`` (a hang fails instead of blocking).

    Hypothesis' ``deadline`` only judges a call once it returns; this stops one that would not.
    """

    def _alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    """What one command-line call returned and printed."""

    argv: list[str]
    code: int
    out: str
    err: str


def run_cli(argv: Sequence[str], seconds: float = SLOW_CALL_S) -> Outcome:
    """Run ``mmgraph argv`` in this process, capturing stdout, stderr and warning logs.

    Log records of level WARNING and above go to the captured stderr as the command line's
    own handler would write them, so a warning before an error counts as a second line.
    """
    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with time_limit(seconds), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
    finally:
        root.removeHandler(handler)
    return Outcome(list(argv), code, out.getvalue(), err.getvalue())


def check_outcome(outcome: Outcome, command: str) -> Outcome:
    """Assert the contract: exit 0, or exit 2 with one line ``mmgraph COMMAND: error: ...``."""
    report = f"mmgraph {outcome.argv!r} -> {outcome.code}\nstderr:\n{outcome.err}"
    assert "Traceback" not in outcome.err, report
    assert outcome.code in (0, 2), report
    if outcome.code == 2:
        lines = outcome.err.splitlines()
        assert len(lines) == 1, report
        assert lines[0].startswith(f"mmgraph {command}: error: "), report
    return outcome


def cli(argv: Sequence[str], command: str) -> Outcome:
    """:func:`run_cli` then :func:`check_outcome`."""
    return check_outcome(run_cli(argv), command)


def snapshot(*folders: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (``None``) under ``folders``, by path."""
    state: dict[str, bytes | None] = {}
    for folder in folders:
        if folder.is_file():
            state[str(folder)] = folder.read_bytes()
            continue
        for p in sorted(folder.rglob("*")):
            state[str(p)] = p.read_bytes() if p.is_file() else None
    return state


def check_load(path: Path, names: Iterable[str], seconds: float = SLOW_CALL_S) -> Any:
    """Load ``path``: a data set, or a ValueError/OSError naming one of ``names``."""
    from mmgraph.data import load_dataset

    try:
        with time_limit(seconds):
            return load_dataset(path)
    except (ValueError, OSError) as error:
        message = str(error)
        names = list(names)
        assert any(name in message for name in names), (
            f"{type(error).__name__} names none of {names}: {message}"
        )
        assert message.strip(), type(error).__name__
        return error


def copy_tree(source: Path, target: Path) -> Path:
    """A writable copy of ``source`` (the shared data is read-only)."""
    shutil.copytree(source, target, copy_function=shutil.copyfile)
    for p in [target, *target.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return target


# ====================================================================== values
NASTY_NUMBERS = [
    "0",
    "-1",
    "-0",
    "1.5",
    "-2.5",
    "1e309",
    "-1e309",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "9" * 30,
    "-" + "9" * 30,
    str(2**63),
    str(2**31),
    str(2**63 - 1),
    "1e-320",
    "0x10",
    "1_000",
    " 3 ",
    "+3",
    "٣",  # an Arabic-Indic digit: int() accepts it
    "³",
]
"""Number-like option and cell values that are out of range, not finite or odd."""

NASTY_STRINGS = [
    "",
    " ",
    "abc",
    "None",
    "none",
    "null",
    "true",
    "[]",
    "{}",
    "-",
    "--",
    "\t",
    "a\nb",
    "é",
    "\x00",
    "💥",
    "../x",
    "/",
    "'",
    '"',
    ",",
    "x" * 300,
]
"""String values that an option or a cell may be given by mistake."""

NASTY = NASTY_NUMBERS + NASTY_STRINGS


def nasty_values() -> st.SearchStrategy[str]:
    """A listed nasty value or a short generated text."""
    return st.one_of(
        st.sampled_from(NASTY),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
        st.integers(-(2**70), 2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


# ====================================================================== mutations
_PIECES = re.compile(rb"(\s+|,|-|:|\[|\]|\{|\}|\")")
MutationOp = Callable[[Callable[..., Any], bytes], bytes]


def _truncate(draw: Callable[..., Any], data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _flip(draw: Callable[..., Any], data: bytes) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    return bytes(out)


def _line_index(draw: Callable[..., Any], lines: list[bytes]) -> int:
    # Early lines hold headers and counts: favour them, reach the others too.
    return draw(st.one_of(st.integers(0, min(3, len(lines) - 1)), st.integers(0, len(lines) - 1)))


def _delete_line(draw: Callable[..., Any], data: bytes) -> bytes:
    lines = data.split(b"\n")
    del lines[_line_index(draw, lines)]
    return b"\n".join(lines)


def _duplicate_line(draw: Callable[..., Any], data: bytes) -> bytes:
    lines = data.split(b"\n")
    i = _line_index(draw, lines)
    lines.insert(i, lines[i])
    return b"\n".join(lines)


def _replace_token(draw: Callable[..., Any], data: bytes) -> bytes:
    lines = data.split(b"\n")
    i = _line_index(draw, lines)
    pieces = _PIECES.split(lines[i])
    tokens = [k for k, piece in enumerate(pieces) if piece and not _PIECES.fullmatch(piece)]
    value = draw(st.sampled_from(NASTY)).encode()
    if tokens:
        pieces[draw(st.sampled_from(tokens))] = value
    else:
        pieces.append(value)
    lines[i] = b"".join(pieces)
    return b"\n".join(lines)


def _insert_token(draw: Callable[..., Any], data: bytes) -> bytes:
    lines = data.split(b"\n")
    i = _line_index(draw, lines)
    sep = draw(st.sampled_from([b" ", b"\t", b",", b"-", b""]))
    lines[i] = lines[i] + sep + draw(st.sampled_from(NASTY)).encode()
    return b"\n".join(lines)


def _append(draw: Callable[..., Any], data: bytes) -> bytes:
    return data + draw(st.binary(max_size=16))


def _empty(draw: Callable[..., Any], data: bytes) -> bytes:
    return draw(st.sampled_from([b"", b"\n", b" ", b"\xef\xbb\xbf"]))


MUTATIONS: dict[str, MutationOp] = {
    "truncate": _truncate,
    "flip": _flip,
    "delete_line": _delete_line,
    "duplicate_line": _duplicate_line,
    "replace_token": _replace_token,
    "insert_token": _insert_token,
    "append": _append,
    "empty": _empty,
}


@st.composite
def mutated(draw: Callable[..., Any], data: bytes, max_ops: int = 2) -> bytes:
    """``data`` after 1 to ``max_ops`` mutations (truncation, byte flips, line and token edits)."""
    for _ in range(draw(st.integers(1, max_ops))):
        data = MUTATIONS[draw(st.sampled_from(sorted(MUTATIONS)))](draw, data)
    return data


def mutate_files(
    draw: Callable[..., Any], folder: Path, names: Sequence[str], originals: dict[str, bytes]
) -> str:
    """Mutate (or delete) one of ``names`` in ``folder``; returns the file's name."""
    name = draw(st.sampled_from(list(names)))
    if draw(st.integers(0, 9)) == 0:
        (folder / name).unlink()
    else:
        (folder / name).write_bytes(draw(mutated(originals[name])))
    return name


def fuzz(max_examples: int) -> settings:
    """:data:`FUZZ` with ``max_examples`` (sized so that the folder runs in under 2 minutes)."""
    return settings(FUZZ, max_examples=max_examples)


def record(value: str) -> None:
    """:func:`hypothesis.event` (shown by ``--hypothesis-show-statistics``) inside a test."""
    from hypothesis import event
    from hypothesis.control import currently_in_test_context

    if currently_in_test_context():
        event(value)
