"""Training epochs beside other work: OpenMP's spin-waiting and what mmgraph sets.

PyTorch's CPU wheels run their parallel kernels with GNU OpenMP (libgomp). Between
parallel regions its threads spin for about 300,000 iterations (``GOMP_SPINCOUNT``'s
default) before they sleep. Alone on the machine that saves a wake-up per kernel. With
any other process on one of the cores (a second run, a notebook, an editor's indexer) a
spinning thread takes the core the other work needs, and the small kernels of a GNN on a
few thousand nodes wait at every barrier: the epochs of ``mmgraph train`` became 9-18
times slower on 2 cores. ``import mmgraph`` therefore sets ``GOMP_SPINCOUNT`` (see
:mod:`mmgraph`) unless the user set it or ``OMP_WAIT_POLICY``; it takes effect when
mmgraph is imported before torch, as the ``mmgraph`` command does.

Each row trains the default node model (``mmgraph train``'s, `--text-encoder hashing`,
no images, so that the one-off encoding does not matter) on the synthetic graph in a
fresh process with the row's environment, alone, beside a busy single-threaded Python
loop, or beside a second identical run (two commands at once), and reports the median
epoch time (the training step) over ``--repeats`` processes.

    python benchmarks/threads.py            # writes benchmarks/results/threads.md
"""

from __future__ import annotations

import argparse
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
    ("mmgraph's (nothing set)", {}),
    ("OMP_WAIT_POLICY=PASSIVE", {"OMP_WAIT_POLICY": "PASSIVE"}),
    ("one thread (OMP_NUM_THREADS=1)", {"OMP_NUM_THREADS": "1"}),
)
BESIDE = ("alone", "busy loop", "second run")
THREAD_VARIABLES = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def child(nodes: int, epochs: int) -> dict[str, Any]:
    """Train the default node model for ``epochs`` epochs in this process; its timings."""
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
    result = train_node_classifier(
        spec, features, {}, train, graph=data, progress=False, prefeaturized=True
    )
    times = [r["time"] for r in result.trainer.history[1:]]  # the first warms up
    return {
        "epoch_ms": 1000 * statistics.median(times),
        "threads": torch.get_num_threads(),
        "spincount": os.environ.get("GOMP_SPINCOUNT"),
    }


def _environment(setting: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    return {**env, **setting, "HF_HUB_OFFLINE": "1"}


def _start(nodes: int, epochs: int, env: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--child", str(nodes), str(epochs)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def _result(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the timed run failed (exit {process.returncode})")
    return dict(json.loads(out.strip().splitlines()[-1]))


def measure(nodes: int, epochs: int, setting: dict[str, str], beside: str) -> dict[str, Any]:
    """One timed process with ``setting``'s environment, ``beside`` one of :data:`BESIDE`."""
    env = _environment(setting)
    other: subprocess.Popen[Any] | None = None
    if beside == "busy loop":
        other = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    elif beside == "second run":
        other = _start(nodes, epochs, env)
    try:
        row = _result(_start(nodes, epochs, env))
    finally:
        if other is not None:
            if beside == "busy loop":
                other.kill()
            other.wait()
    return row


def run(sizes: Sequence[int], epochs: int, repeats: int) -> list[dict[str, Any]]:
    """Every setting beside every kind of work, per graph size; median epoch times."""
    rows = []
    for nodes in sizes:
        for name, setting in SETTINGS:
            row: dict[str, Any] = {"nodes": nodes, "setting": name}
            for beside in BESIDE:
                runs = [measure(nodes, epochs, setting, beside) for _ in range(repeats)]
                row[beside] = statistics.median(r["epoch_ms"] for r in runs)
                row["threads"] = runs[0]["threads"]
                row["spincount"] = runs[0]["spincount"]
            rows.append(row)
            cells = "  ".join(f"{b} {row[b]:8.1f} ms" for b in BESIDE)
            print(f"{nodes:6d} {name:42s} {cells}", flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table: epoch times, and the worst case's ratio to the fastest alone."""
    lines = [
        "| nodes | setting | threads | GOMP_SPINCOUNT in the run | alone (ms) | beside a busy "
        "loop (ms) | beside a second run (ms) | worst / best alone |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for nodes in dict.fromkeys(r["nodes"] for r in rows):
        group = [r for r in rows if r["nodes"] == nodes]
        best = min(r["alone"] for r in group)
        for r in group:
            worst = max(r[b] for b in BESIDE)
            lines.append(
                f"| {nodes} | {r['setting']} | {r['threads']} | {r['spincount'] or '-'} | "
                f"{r['alone']:.1f} | {r['busy loop']:.1f} | {r['second run']:.1f} | "
                f"{worst / best:.1f} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 2000, 10000])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
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
            f"synthetic graph (`--text-encoder hashing`, no images); the median epoch "
            f"(training step) of epochs 2..{args.epochs}, median over {args.repeats} "
            "processes. 'Busy loop': one single-threaded Python loop beside the run; "
            "'second run': the same command started at the same time (its own time not "
            "shown).",
            table(rows),
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
