"""How long the default whole-graph command trains on sets of every size, and what the
epoch cap of :func:`mmgraph.tune.options.whole_graph_epochs` changes.

``mmgraph subgraph train --data X`` on whole graphs (TU) trains 4 GIN layers for 300 epochs
in each of 10 folds. That was chosen on MUTAG, PTC, ENZYMES and IMDB-MULTI, the largest of
which (IMDB-MULTI) takes about 20 minutes on 2 cores; on a set the size of NCI1 it would
take well over an hour, and on DD- or COLLAB-sized sets many hours. The default epochs now
shrink on large sets so a fold does at most :data:`~mmgraph.tune.options.WHOLE_GRAPH_WORK`
of work (nodes, an eighth of the edges and 2,000 a batch of graphs, times epochs).

For each set (the four shared TU sets, and generated sets in the TU Dortmund format at the
sizes of NCI1, DD and a dense COLLAB-like set) this times real epochs of the default model
on fold 1 (the time of 1 + ``--epochs`` epochs less that of 1, so setup and the evaluation
do not count), then estimates the default command (epochs × 10 folds) with 300 epochs and
with the capped ones. A least-squares fit of the epoch times on the batches, nodes and edges
of the training graphs gives what an edge and a batch cost against a node
(:data:`~mmgraph.tune.options.WHOLE_GRAPH_EDGE_COST`, ``WHOLE_GRAPH_BATCH_COST``).
``--accuracy K`` also trains the generated NCI1-sized set's first ``K`` folds with 300
epochs and with the capped ones and compares their test accuracy (the generated label,
"two ring edges or more", is learnable).

    python benchmarks/graph_epochs.py [--epochs 3] [--threads 1] [--accuracy 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mmgraph.data.subgraphs import SubgraphDataset
from mmgraph.tasks.subgraph import load_subgraph_dataset, train_subgraph_model
from mmgraph.tune.options import (
    WHOLE_GRAPH_BATCH_COST,
    WHOLE_GRAPH_DEFAULTS,
    WHOLE_GRAPH_EDGE_COST,
    subgraph_run,
    whole_graph_epoch_work,
    whole_graph_epochs,
)

RESULTS = Path(__file__).parent / "results" / "graph_epochs.md"
DATA_ROOT = Path(
    os.environ.get("MMGRAPH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
SHARED = ("mutag", "ptc", "enzymes", "imdb-multi")
GENERATED: dict[str, dict[str, Any]] = {
    # molecule-like: a random tree plus 0-3 ring-closing edges; NCI1's 4,110 graphs of ~30
    "nci1-sized": {"graphs": 4110, "nodes": 30, "tags": 37, "dense": None},
    # DD-like: few large sparse graphs
    "dd-sized": {"graphs": 1178, "nodes": 284, "tags": 82, "dense": None},
    # COLLAB-like: dense ego-networks (a fifth of COLLAB's 5,000 graphs)
    "dense": {"graphs": 1000, "nodes": 74, "tags": 0, "dense": (0.35, 0.45)},
}
FOLDS = 10


def write_tu_dortmund(folder: Path, name: str, spec: dict[str, Any], seed: int = 0) -> Path:
    """Write a generated set of ``spec``'s size as ``folder/name/name_*.txt``.

    Sparse sets: each graph a random tree plus 0-3 random extra edges, labelled 1 when it
    has two or more; dense sets: each graph a G(n, p) with the class's ``p``.
    """
    rng = np.random.default_rng(seed)
    out = folder / name
    out.mkdir(parents=True, exist_ok=True)
    edges, indicator, labels, tags = [], [], [], []
    offset = 0
    for g in range(spec["graphs"]):
        n = max(4, int(rng.normal(spec["nodes"], spec["nodes"] / 3)))
        if spec["dense"] is None:
            parent = np.array([rng.integers(0, i) for i in range(1, n)])
            extra = int(rng.integers(0, 4))
            a = np.concatenate([np.arange(1, n), rng.integers(0, n, extra)])
            b = np.concatenate([parent, rng.integers(0, n, extra)])
            keep = a != b
            a, b = a[keep], b[keep]
            labels.append(int(extra >= 2))
        else:
            cls = g % 2
            upper = np.triu(rng.random((n, n)) < spec["dense"][cls], 1)
            a, b = np.nonzero(upper)
            labels.append(cls)
        edges.append(np.stack([np.concatenate([a, b]), np.concatenate([b, a])], 1) + offset + 1)
        indicator.append(np.full(n, g + 1))
        if spec["tags"]:
            tags.append(rng.integers(0, spec["tags"], n))
        offset += n
    np.savetxt(out / f"{name}_A.txt", np.concatenate(edges), fmt="%d", delimiter=", ")
    np.savetxt(out / f"{name}_graph_indicator.txt", np.concatenate(indicator), fmt="%d")
    np.savetxt(out / f"{name}_graph_labels.txt", np.array(labels), fmt="%d")
    if tags:
        np.savetxt(out / f"{name}_node_labels.txt", np.concatenate(tags), fmt="%d")
    return out


def fold(dataset: SubgraphDataset, k: int) -> SubgraphDataset:
    """``dataset`` with only its fold ``k``, which ``train_subgraph_model`` runs as it runs
    every fold of the default command."""
    return dataclasses.replace(dataset, folds=[dataset.folds[k]])


def train_seconds(data: SubgraphDataset, source: str, epochs: int, step: int | None) -> float:
    """Wall time of training the default model on ``data`` for ``epochs`` epochs."""
    run = subgraph_run({"data": source, "epochs": epochs, "lr_step_size": step}, whole_graphs=True)
    start = time.perf_counter()
    train_subgraph_model(data, run.config, run.train, run.features)
    return time.perf_counter() - start


def measure(name: str, source: str, epochs: int) -> dict[str, Any]:
    """The size, epoch time and default-command estimates of one set."""
    dataset = load_subgraph_dataset(source, root=DATA_ROOT)
    nodes, edges = int(dataset.graph.num_nodes), int(dataset.graph.edge_index.size(1))
    data = fold(dataset, 0)
    train_graphs = len(dataset.folds[0][0])
    share = train_graphs / len(dataset)
    base = train_seconds(data, source, 1, None)
    more = train_seconds(data, source, 1 + epochs, None)
    epoch_s = max(more - base, 0.0) / epochs
    capped, step = whole_graph_epochs(len(dataset), nodes, edges)
    full = WHOLE_GRAPH_DEFAULTS["epochs"]
    row = {
        "data": name,
        "graphs": len(dataset),
        "nodes": nodes,
        "edges": edges,
        "batches": -(-train_graphs // WHOLE_GRAPH_DEFAULTS["batch_size"]),
        "train_nodes": nodes * share,
        "train_edges": edges * share,
        "work": whole_graph_epoch_work(len(dataset), nodes, edges),
        "epoch_s": epoch_s,
        "epochs": capped,
        "step": step,
        "before_min": epoch_s * full * FOLDS / 60,
        "after_min": epoch_s * capped * FOLDS / 60,
    }
    print(
        f"{name:12s} {nodes:>9,d} nodes {edges:>11,d} edges  {epoch_s:6.3f} s/epoch  "
        f"{full} epochs: {row['before_min']:6.1f} min  {capped} epochs: "
        f"{row['after_min']:6.1f} min",
        flush=True,
    )
    return row


def fit(rows: Sequence[dict[str, Any]]) -> tuple[float, float, float]:
    """Least-squares seconds per batch, per training node and per training edge."""
    a = np.array([[r["batches"], r["train_nodes"], r["train_edges"]] for r in rows], float)
    b = np.array([r["epoch_s"] for r in rows])
    coef, *_ = np.linalg.lstsq(a, b, rcond=None)
    return float(coef[0]), float(coef[1]), float(coef[2])


def accuracy(source: str, folds: int) -> list[dict[str, Any]]:
    """Test accuracy of folds ``0..folds-1`` with 300 epochs and with the capped ones."""
    dataset = load_subgraph_dataset(source)
    nodes, edges = int(dataset.graph.num_nodes), int(dataset.graph.edge_index.size(1))
    capped, step = whole_graph_epochs(len(dataset), nodes, edges)
    settings = [(WHOLE_GRAPH_DEFAULTS["epochs"], WHOLE_GRAPH_DEFAULTS["lr_step_size"])]
    settings.append((capped, step))
    rows = []
    for k in range(folds):
        data = fold(dataset, k)
        for epochs, lr_step in settings:
            run = subgraph_run(
                {"data": source, "epochs": epochs, "lr_step_size": lr_step}, whole_graphs=True
            )
            start = time.perf_counter()
            result = train_subgraph_model(data, run.config, run.train, run.features)
            m = result.metrics
            rows.append(
                {
                    "fold": k + 1,
                    "epochs": epochs,
                    "step": lr_step,
                    "train": m["train"]["accuracy"],
                    "test": m["test"]["accuracy"],
                    "seconds": time.perf_counter() - start,
                }
            )
            print(
                f"fold {k + 1} {epochs} epochs (step {lr_step}): train {m['train']['accuracy']:.3f}"
                f" test {m['test']['accuracy']:.3f} ({rows[-1]['seconds']:.0f} s)",
                flush=True,
            )
    return rows


def tables(rows: Sequence[dict[str, Any]], checks: Sequence[dict[str, Any]]) -> str:
    """The timing table, the fitted costs and the accuracy check, in Markdown."""
    lines = [
        "| data | graphs | nodes | edges | work an epoch | s an epoch | 300 epochs × 10 folds "
        "(min) | default epochs (step) | default command (min) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['graphs']:,} | {r['nodes']:,} | {r['edges']:,} | "
            f"{r['work']:,.0f} | {r['epoch_s']:.3f} | {r['before_min']:.1f} | {r['epochs']} "
            f"({r['step']}) | {r['after_min']:.1f} |"
        )
    per_batch, per_node, per_edge = fit(rows)
    out = "\n".join(lines)
    out += (
        f"\n\nLeast-squares fit of the epoch times: {1000 * per_batch:.2f} ms a batch, "
        f"{1e6 * per_node:.2f} µs a training node, {1e6 * per_edge:.2f} µs a training edge: "
        f"an edge costs {per_edge / per_node:.3f} of a node and a batch "
        f"{per_batch / per_node:,.0f} nodes (the cap counts {WHOLE_GRAPH_EDGE_COST} and "
        f"{WHOLE_GRAPH_BATCH_COST:,})."
    )
    if checks:
        out += "\n\n| fold | epochs (step) | train accuracy | test accuracy | seconds |\n"
        out += "|---|---|---|---|---|\n"
        out += "\n".join(
            f"| {c['fold']} | {c['epochs']} ({c['step']}) | {c['train']:.3f} | {c['test']:.3f} | "
            f"{c['seconds']:.0f} |"
            for c in checks
        )
        for epochs in dict.fromkeys(c["epochs"] for c in checks):
            tests = [c["test"] for c in checks if c["epochs"] == epochs]
            out += f"\n\nMean test accuracy with {epochs} epochs: {statistics.mean(tests):.3f}"
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed per set")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--accuracy", type=int, default=0, help="folds of the NCI1-sized set to compare"
    )
    parser.add_argument("--sets", nargs="*", default=[*SHARED, *GENERATED])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    rows, checks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets:
            if name in GENERATED:
                source = str(write_tu_dortmund(Path(tmp), name.upper(), GENERATED[name]))
            elif name in SHARED:
                source = name
            else:
                raise SystemExit(f"unknown set {name!r}: one of {[*SHARED, *GENERATED]}")
            rows.append(measure(name, source, args.epochs))
        if args.accuracy:
            source = str(write_tu_dortmund(Path(tmp), "NCI1-SIZED", GENERATED["nci1-sized"]))
            checks = accuracy(source, args.accuracy)
    command = "python benchmarks/graph_epochs.py " + shlex.join(
        list(argv) if argv is not None else sys.argv[1:]
    )
    text = "\n\n".join(
        [
            "# The default whole-graph command on sets of every size",
            f"Command: `{command.strip()}`",
            f"{args.threads} thread(s), torch {torch.__version__}, Python "
            f"{platform.python_version()}, load average at start {load:.1f}. Fold 1's training "
            f"graphs; an epoch's time is that of {args.epochs} epochs beyond a first one, "
            "divided by them. The generated sets are in the TU Dortmund format "
            "(`write_tu_dortmund`).",
            tables(rows, checks),
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
