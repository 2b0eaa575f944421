"""Training epochs beside other work: OpenMP's spin-waiting and what mmgraph sets.

PyTorch's CPU wheels run their parallel kernels with GNU OpenMP (libgomp). Between
parallel regions its threads spin for about 300,000 iterations (``GOMP_SPINCOUNT``'s
default) before they sleep. Alone on the machine that saves a wake-up per kernel. With
any other process on one of the cores (a second run, a notebook, an editor's indexer) a
spinning thread takes the core the other work needs, and the small kernels of a GNN on a
few thousand nodes wait at every barrier. Threads that never spin
(``OMP_WAIT_POLICY=PASSIVE``) avoid that but pay a wake-up at every barrier, which
tripled graph classification alone (many small kernels). ``import mmgraph`` therefore
sets ``GOMP_SPINCOUNT=10000`` (``mmgraph._openmp``) unless the user set it or
``OMP_WAIT_POLICY``; it takes effect when mmgraph is imported before torch, as the
``mmgraph`` command does.

Each row trains the default node model (``mmgraph train``'s, `--text-encoder hashing`,
no images, so that the one-off encoding does not matter) on the synthetic graph in a
fresh process with the row's environment, alone, beside a busy single-threaded Python
loop, or beside a second identical run (two commands at once), and reports the training
run's time (with the median training step and the whole process's time), medians over
``--repeats`` processes.

    python benchmarks/threads.py            # writes benchmarks/results/threads.md
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "threads.md"

SETTINGS: tuple[tuple[str, dict[str, str]], ...] = (
    ("libgomp's default (GOMP_SPINCOUNT=300000)", {"GOMP_SPINCOUNT": "300000"}),
    ("a short spin (GOMP_SPINCOUNT=1000)", {"GOMP_SPINCOUNT": "1000"}),
    ("a medium spin (GOMP_SPINCOUNT=10000)", {"GOMP_SPINCOUNT": "10000"}),
    ("no spin (OMP_WAIT_POLICY=PASSIVE)", {"OMP_WAIT_POLICY": "PASSIVE"}),
    ("mmgraph's (nothing set)", {}),
    ("one thread (OMP_NUM_THREADS=1)", {"OMP_NUM_THREADS": "1"}),
)
BESIDE = ("alone", "busy loop", "second run")
THREAD_VARIABLES = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def child(nodes: int, epochs: int) -> dict[str, Any]:
    """Train the default node model for ``epochs`` epochs in this process; its timings.

    ``run_s``: the training run (every epoch's step and validation pass, the test at the
    end); ``epoch_ms``: the median training step. The whole process
    (imports, the graph, its features, the run) is timed by :func:`measure`. mmgraph is
    imported before torch, as the ``mmgraph`` command does, so that its waiting policy
    applies.
    """
    importlib.import_module("mmgraph")  # first, before torch loads libgomp
    import torch

    from mmgraph.data.synthetic import make_social_graph
    from mmgraph.models import FeatureConfig, featurize
    from mmgraph.tasks import DataSpec, train_node_classifier
    from mmgraph.train import TrainConfig

    graph = make_social_graph(nodes, seed=0)
    features = FeatureConfig(text_encoder="hashing", image_encoder=None)
    data = featurize(graph, features, progress=False)
    spec = DataSpec("synthetic", options={"num_nodes": nodes, "seed": 0})
    train = TrainConfig(epochs=epochs, patience=None, seed=0, progress=False)
    run_start = time.perf_counter()
    result = train_node_classifier(
        spec, features, {}, train, graph=data, progress=False, prefeaturized=True
    )
    end = time.perf_counter()
    times = [r["time"] for r in result.trainer.history[1:]]  # the first warms up
    return {
        "run_s": end - run_start,
        "epoch_ms": 1000 * statistics.median(times),
        "threads": torch.get_num_threads(),
        "policy": " ".join(
            f"{k}={os.environ[k]}" for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT") if k in os.environ
        ),
    }


def _environment(setting: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    return {**env, **setting, "HF_HUB_OFFLINE": "1"}


def _start(nodes: int, epochs: int, env: dict[str, str]) -> tuple[subprocess.Popen[str], float]:
    command = [sys.executable, __file__, "--child", str(nodes), str(epochs)]
    started = time.perf_counter()
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True), started


def _result(process: subprocess.Popen[str], started: float) -> dict[str, Any]:
    out, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the timed run failed (exit {process.returncode})")
    row = dict(json.loads(out.strip().splitlines()[-1]))
    return {**row, "process_s": time.perf_counter() - started}


def measure(nodes: int, epochs: int, setting: dict[str, str], beside: str) -> dict[str, Any]:
    """One timed process with ``setting``'s environment, ``beside`` one of :data:`BESIDE`."""
    env = _environment(setting)
    other: subprocess.Popen[Any] | None = None
    if beside == "busy loop":
        # ends by itself within 10 minutes should this script be killed before its kill
        loop = "import time\nend = time.time() + 600\nwhile time.time() < end: pass"
        other = subprocess.Popen([sys.executable, "-c", loop])
    elif beside == "second run":
        other = _start(nodes, epochs, env)[0]
    try:
        row = _result(*_start(nodes, epochs, env))
    finally:
        if other is not None:
            if beside == "busy loop":
                other.kill()
            other.wait()
    return row


TIMES = ("run_s", "process_s", "epoch_ms")


def run(sizes: Sequence[int], epochs: int, repeats: int) -> list[dict[str, Any]]:
    """Every setting beside every kind of work, per graph size; median times."""
    rows = []
    for nodes in sizes:
        for name, setting in SETTINGS:
            row: dict[str, Any] = {"nodes": nodes, "setting": name}
            for beside in BESIDE:
                runs = [measure(nodes, epochs, setting, beside) for _ in range(repeats)]
                row[beside] = {t: statistics.median(r[t] for r in runs) for t in TIMES}
                row["threads"] = runs[0]["threads"]
                row["policy"] = runs[0]["policy"]
            rows.append(row)
            cells = "  ".join(f"{b} {row[b]['run_s']:6.1f} s" for b in BESIDE)
            print(f"{nodes:6d} {name:42s} {cells}", flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table: the runs' times, and the worst case's ratio to the fastest alone."""
    lines = [
        "| nodes | setting | threads | waiting policy in the run | alone | beside a busy loop "
        "| beside a second run | worst / best alone |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for nodes in dict.fromkeys(r["nodes"] for r in rows):
        group = [r for r in rows if r["nodes"] == nodes]
        best = min(r["alone"]["run_s"] for r in group)
        for r in group:
            worst = max(r[b]["run_s"] for b in BESIDE)
            cells = " | ".join(
                f"{r[b]['run_s']:.1f} s ({r[b]['epoch_ms']:.0f} ms; {r[b]['process_s']:.0f} s)"
                for b in BESIDE
            )
            lines.append(
                f"| {nodes} | {r['setting']} | {r['threads']} | {r['policy'] or '-'} | "
                f"{cells} | {worst / best:.1f} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 2000])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", type=int, nargs=2, metavar=("NODES", "EPOCHS"))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    load = os.getloadavg()[0]
    start = time.perf_counter()
    rows = run(args.sizes, args.epochs, args.repeats)
    command = "python benchmarks/threads.py " + shlex.join(
        list(argv) if argv is not None else sys.argv[1:]
    )
    text = "\n\n".join(
        [
            "# Training epochs beside other work (OpenMP spin-waiting)",
            f"Command: `{command.strip()}`",
            f"{os.cpu_count()} cores, torch's default thread count, Python "
            f"{platform.python_version()}, load average at start {load:.1f}, "
            f"{time.perf_counter() - start:.0f} s in all. The default node model on the "
            f"synthetic graph (`--text-encoder hashing`, no images), {args.epochs} epochs. "
            "Each cell: the training run (every epoch's step and validation pass), in "
            "brackets the median training step of epochs 2.. and the whole process "
            f"(imports, graph, features, run); medians over {args.repeats} processes. "
            "'Busy loop': one single-threaded Python loop beside the run; 'second run': the "
            "same command started at the same time (its own times not shown).",
            table(rows),
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
