"""How long the command line takes to answer before any work: help pages and typos.

``mmgraph --help``, each command's own ``--help`` and a mistyped command or option answer
without importing torch or PyG (``mmgraph/names.py``, ``mmgraph/tune/defaults.py``, the
lazy ``import mmgraph``). For each command line this runs it ``--repeats`` times in a fresh
process and reports the fastest and the median wall time, its exit status, and whether
torch was imported (``python -X importtime``).

    python benchmarks/startup.py [--repeats 5] [--out benchmarks/results/startup.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "startup.md"

COMMAND_LINES: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("train", "--help"),
    ("subgraph", "train", "--help"),
    ("embed", "--help"),
    ("cluster", "--help"),
    ("tune", "--help"),
    ("info", "--help"),
    ("retrieve", "--help"),
    ("trian",),
    ("train", "--data", "x", "--lyers", "2"),
    ("train", "--data", "x", "--aggregator", "gnc"),
)
"""The command lines timed: help pages, a mistyped command, option and choice."""


def status_and_torch(argv: Sequence[str]) -> tuple[int, bool]:
    """``(exit status, torch imported)`` of ``mmgraph argv`` (``python -X importtime``)."""
    code = "import sys; from mmgraph.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *argv],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    modules = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()]
    torch = "torch" in modules
    return done.returncode, torch


def time_plain(argv: Sequence[str]) -> float:
    """Wall seconds of ``mmgraph argv`` as a user runs it (no import timing)."""
    mmgraph = Path(sys.executable).with_name("mmgraph")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    subprocess.run([str(mmgraph), *argv], env=env, capture_output=True, check=False)
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    """Time each command line and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = []
    for line in COMMAND_LINES:
        status, torch = status_and_torch(line)  # the timed runs below import nothing extra
        times = [time_plain(line) for _ in range(args.repeats)]
        rows.append(
            f"| `mmgraph {shlex.join(line)}` | {min(times):.2f} | "
            f"{statistics.median(times):.2f} | {status} | {'yes' if torch else 'no'} |"
        )
        print(rows[-1], flush=True)
    table = [
        "# Start-up of the command line",
        "",
        f"`python benchmarks/startup.py --repeats {args.repeats}` on {platform.node()} "
        f"({os.cpu_count()} cores, Python {platform.python_version()}): wall seconds of "
        f"`mmgraph ...` in a fresh process, the fastest and the median of {args.repeats}; "
        "the exit status; whether torch was imported.",
        "",
        "| command line | fastest (s) | median (s) | exit | torch imported |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(table))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
