"""The default whole-graph command with its folds side by side, against one after the other.

``mmgraph subgraph train --data X`` on a TU folder trains 10 folds, each on one thread
(:data:`mmgraph.tasks.subgraph.WHOLE_GRAPH_THREADS`). Since this change the folds train in
forked processes, one per core (:func:`mmgraph.tasks.subgraph.fold_jobs`); before, one
after the other, which ``MMGRAPH_FOLD_JOBS=1`` still does. For each data set this runs the
default command both ways (the side-by-side one first) and reports the wall time of each,
the speed-up, and whether the two ``metrics.json`` are the same number for number (each
fold is seeded on its own, so they should be).

    python benchmarks/fold_jobs.py [--datasets mutag ptc enzymes imdb-multi]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "fold_jobs.md"
DATA_ROOT = Path(
    os.environ.get("MMGRAPH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
DATASETS = ("mutag", "ptc", "enzymes", "imdb-multi")
VARIABLE = "MMGRAPH_FOLD_JOBS"


def command(data: str, out: Path, extra: Sequence[str] = ()) -> list[str]:
    """The default command on ``data``, writing to ``out``."""
    mmgraph = Path(sys.executable).with_name("mmgraph")
    return [str(mmgraph), "subgraph", "train", "--data", data, *extra, "--out", str(out)]


def run(data: str, out: Path, jobs: str | None, extra: Sequence[str] = ()) -> dict[str, Any]:
    """Run the command with ``$MMGRAPH_FOLD_JOBS`` set to ``jobs`` (unset: the default)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MMGRAPH_DATA_ROOT": str(DATA_ROOT)}
    env.pop(VARIABLE, None)
    if jobs is not None:
        env[VARIABLE] = jobs
    argv = command(data, out, extra) + ["--quiet"]
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(argv)} failed:\n{done.stderr}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    at_once = next((line for line in lines if " at once" in line), "")
    metrics = json.loads((out / "metrics.json").read_text())
    return {"seconds": seconds, "metrics": metrics, "at_once": at_once}


def measure(data: str, folder: Path, extra: Sequence[str] = ()) -> dict[str, Any]:
    """Both ways on ``data``: the side-by-side default, then one fold after the other."""
    side = run(data, folder / f"{data}-side", None, extra)
    serial = run(data, folder / f"{data}-serial", "1", extra)
    row = {
        "data": data,
        "command": shlex.join(["mmgraph", "subgraph", "train", "--data", data, *extra]),
        "jobs": side["at_once"].split(" at once")[0].split(", ")[-1] if side["at_once"] else "1",
        "side_s": side["seconds"],
        "serial_s": serial["seconds"],
        "speedup": serial["seconds"] / side["seconds"],
        "same": side["metrics"] == serial["metrics"],
        "test_accuracy": side["metrics"]["test"]["accuracy"],
    }
    print(
        f"{data}: {row['side_s']:.0f} s side by side ({row['jobs']} at once), "
        f"{row['serial_s']:.0f} s one after the other, x{row['speedup']:.2f}, "
        f"same metrics: {row['same']}",
        flush=True,
    )
    return row


def table(rows: Sequence[dict[str, Any]], argv: Sequence[str]) -> str:
    """The results file: how it ran, then one row a data set."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    head = [
        "# Folds side by side (`mmgraph subgraph train` on TU folders)",
        "",
        f"Command: `{shlex.join(['python', 'benchmarks/fold_jobs.py', *argv])}`",
        "",
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, one-minute load average "
        f"{load:.2f} at the end. Each row runs the default command with the folds side by "
        f"side (the default), then with `{VARIABLE}=1` (one after the other, as before).",
        "",
        "| data | command | folds at once | side by side (s) | one after the other (s) "
        "| speed-up | same metrics.json | test accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    body = [
        f"| {r['data']} | `{r['command']}` | {r['jobs']} | {r['side_s']:.0f} | "
        f"{r['serial_s']:.0f} | {r['speedup']:.2f} | {'yes' if r['same'] else 'NO'} | "
        f"{100 * r['test_accuracy']:.1f} |"
        for r in rows
    ]
    return "\n".join(head + body) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument(
        "--extra", default="", help="more options of the command, e.g. '--epochs 20'"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    given = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(d, Path(tmp), shlex.split(args.extra)) for d in args.datasets]
    text = table(rows, given)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
