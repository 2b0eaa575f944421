"""Shallow node2vec epochs with torch's SparseAdam and with mmgraph's RowSparseAdam.

``mmgraph embed`` (shallow node2vec) trains two sparse embedding tables with the
``sparse_adam`` optimizer. This script trains the same seeded ``Node2Vec`` on Erdős–Rényi
graphs of 2,000, 10,000 and 50,000 nodes (average degree 10), alternating the two
optimizers in one process, and reports the median epoch time of each over the repeats and
whether the two runs' embeddings are equal bit for bit (they must be: the updates are the
same arithmetic in the same order).

Usage::

    python benchmarks/sparse_adam.py [--nodes 2000 10000 50000] [--repeats 3] [--epochs 2]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import torch

from mmgraph.data.generators import erdos_renyi_gnm
from mmgraph.embedding import Node2Vec
from mmgraph.train import sparse_adam, trainer

RESULTS = Path(__file__).resolve().parent / "results" / "sparse_adam.md"
OPTIMIZERS = {"torch.optim.SparseAdam": torch.optim.SparseAdam, "RowSparseAdam": None}


def fit_once(edge_index: torch.Tensor, num_nodes: int, epochs: int, optimizer: str) -> tuple:
    """Seconds per epoch and the embeddings of one seeded fit with ``optimizer``."""
    cls = OPTIMIZERS[optimizer] or sparse_adam.RowSparseAdam
    model = Node2Vec(epochs=epochs, seed=0)
    with mock.patch.object(trainer, "RowSparseAdam", cls):
        start = time.perf_counter()
        model.fit(edge_index, num_nodes=num_nodes)
        seconds = (time.perf_counter() - start) / epochs
    return seconds, model.get_embedding()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[2000, 10000, 50000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    threads = torch.get_num_threads()
    rows = []
    for n in args.nodes:
        graph = erdos_renyi_gnm(n, 5 * n, seed=0)
        times: dict[str, list[float]] = {name: [] for name in OPTIMIZERS}
        outputs: dict[str, torch.Tensor] = {}
        for _ in range(args.repeats):
            for name in OPTIMIZERS:  # alternated, so both see the same machine load
                seconds, emb = fit_once(graph.edge_index, n, args.epochs, name)
                times[name].append(seconds)
                outputs[name] = emb
        ref, new = (statistics.median(times[name]) for name in OPTIMIZERS)
        same = torch.equal(*outputs.values())
        rows.append((n, ref, new, ref / new, same))
        print(f"{n} nodes: {ref:.2f} s -> {new:.2f} s an epoch, equal: {same}", flush=True)
    lines = [
        "# Shallow node2vec epochs: torch's SparseAdam against RowSparseAdam",
        "",
        f"Command: `{shlex.join(['python', f'benchmarks/{Path(__file__).name}', *sys.argv[1:]])}`",
        "",
        f"Node2Vec defaults (128 dims, walk length 20, 10 walks a node, batches of 128 start "
        f"nodes), seed 0, {args.epochs} epochs a fit, median of {args.repeats} fits each, "
        f"the two alternated; torch threads: {threads}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}.",
        "",
        "| nodes | SparseAdam s/epoch | RowSparseAdam s/epoch | speed-up | embeddings equal |",
        "|---|---|---|---|---|",
        *(f"| {n:,} | {a:.2f} | {b:.2f} | {r:.2f}x | {s} |" for n, a, b, r, s in rows),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    return 0 if all(row[-1] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
