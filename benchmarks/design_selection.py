"""How ``mmgraph train`` chooses its design on validation data: which criterion.

``--layers/--head/--modality-dim auto`` (the defaults) train each design of
:data:`mmgraph.models.auto.DESIGNS` and keep one by a validation criterion. This script
trains every design on every labelled node data set with seeds 0-4 (a split per seed where
the data has none, as ``mmgraph train --seeds`` does), keeps each run's validation curve
and test score, then compares criteria that could pick the design:

* ``best_<metric>``: the best validation value of the curve (what the trainer monitors);
* ``smooth_<metric>``: the best of the curve's moving average over :data:`WINDOW`
  evaluations (less rewarded by one lucky epoch of a noisy curve);
* ``loss``: the lowest validation loss;
* ``kept_accuracy``: the validation accuracy of the epoch whose weights the run keeps
  (node sets: the best validation macro-F1, ties to the lower loss; subgraphs: the lowest
  validation loss), which scores the model the run goes on with, not its best epoch.

Each design's test score is that of its run (weights of the best validation macro-F1,
the default monitor); only the pick changes with the criterion. A criterion is chosen by
its average rank across data sets of the mean test score of its picks: a default chosen
across data sets, never for one.

The same for ``mmgraph subgraph train --pool auto`` (``--family subgraph``): mean and sum
pooling on density, component and fresh cut-ratio and coreness instances (instance 0, as
the default commands use), seeds 0-4; the test score is micro-F1, the run's own selection
the best validation loss (its default monitor).

Usage::

    python benchmarks/design_selection.py run [--family node|subgraph] [--datasets cora]
    python benchmarks/design_selection.py report

Results: ``benchmarks/results/design_selection.jsonl`` (one line per run, resumable) and
``benchmarks/results/design_selection.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
RUNS = RESULTS / "design_selection.jsonl"
REPORT = RESULTS / "design_selection.md"
DATA_ROOT = Path(os.environ.get("MMGRAPH_DATA_ROOT", HERE.parent.parent / "shared" / "data"))
NODE_DATA = ("cora", "citeseer", "cornell", "texas", "country-flags", "synthetic")
SUBGRAPH_DATA = ("density", "component", "cut_ratio", "coreness")
POOLS = ("mean", "sum")
WINDOW = 10
CRITERIA = (
    "best_macro_f1",
    "best_accuracy",
    "smooth_macro_f1",
    "smooth_accuracy",
    "loss",
    "kept_accuracy",
)


def _rows() -> list[dict[str, Any]]:
    if not RUNS.is_file():
        return []
    return [json.loads(line) for line in RUNS.read_text().splitlines() if line.strip()]


def run(datasets: Sequence[str], seeds: int) -> None:
    """Train each design on each data set and seed; append one line per run."""
    from mmgraph.models.auto import DESIGNS
    from mmgraph.tasks.node_classification import train_node_classifier
    from mmgraph.tune.options import node_run

    done = {(r["data"], r["seed"], r["design"]) for r in _rows()}
    for name in datasets:
        for seed in range(seeds):
            for index, design in enumerate(DESIGNS):
                if (name, seed, index) in done:
                    continue
                options = {
                    "data": name,
                    "root": str(DATA_ROOT),
                    "seed": seed,
                    "layers": design["num_layers"],
                    "head": design["head"],
                    "modality_dim": design["modality_dim"] or 0,
                }
                node = node_run(options)
                with tempfile.TemporaryDirectory() as tmp:
                    started = time.perf_counter()
                    result = train_node_classifier(
                        node.data,
                        node.features,
                        node.model,
                        node.train,
                        out=Path(tmp) / "run",
                        progress=False,
                    )
                    seconds = time.perf_counter() - started
                    history = [
                        json.loads(line)
                        for line in (Path(tmp) / "run" / "history.jsonl").read_text().splitlines()
                    ]
                curve = {
                    key: [h[f"val_{key}"] for h in history if f"val_{key}" in h]
                    for key in ("macro_f1", "accuracy", "loss")
                }
                row = {
                    "data": name,
                    "seed": seed,
                    "design": index,
                    "test": result.metrics["test"]["accuracy"],
                    "val_curve": curve,
                    "seconds": seconds,
                }
                with RUNS.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                print(f"{name} seed {seed} design {index}: test {row['test']:.3f}", flush=True)


def run_subgraph(datasets: Sequence[str], seeds: int) -> None:
    """Train mean and sum pooling on each subgraph data set and seed; one line per run."""
    from mmgraph.data.synthetic_subgraphs import make_synthetic_subgraphs
    from mmgraph.tasks.subgraph import load_subgraph_dataset, train_subgraph_model
    from mmgraph.tune.options import subgraph_run

    done = {(r["data"], r["seed"], r["design"]) for r in _rows()}
    for name in datasets:
        if name in ("cut_ratio", "coreness"):
            dataset = make_synthetic_subgraphs(name, seed=0)
        else:
            dataset = load_subgraph_dataset(name, root=str(DATA_ROOT))
        for seed in range(seeds):
            for index, pool in enumerate(POOLS):
                if (name, seed, index) in done:
                    continue
                run = subgraph_run({"data": name, "seed": seed, "pool": pool})
                records: list[dict[str, Any]] = []
                started = time.perf_counter()
                result = train_subgraph_model(
                    dataset,
                    run.config,
                    run.train,
                    run.features,
                    callbacks=[lambda _, record, out=records: out.append(dict(record))],
                )
                curve = {
                    key: [r[f"val_{key}"] for r in records if f"val_{key}" in r]
                    for key in ("macro_f1", "accuracy", "loss")
                }
                row = {
                    "data": name,
                    "seed": seed,
                    "design": index,
                    "test": result.metrics["test"]["micro_f1"],
                    "val_curve": curve,
                    "seconds": time.perf_counter() - started,
                }
                with RUNS.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                print(f"{name} seed {seed} {pool}: test {row['test']:.3f}", flush=True)


def _kept_epoch(curve: dict[str, list[float]], family: str) -> int:
    """Position in ``curve`` of the epoch the run keeps (as the trainer's monitor picks it)."""
    loss = curve["loss"]
    if family == "subgraph":  # the lowest validation loss, the first of ties
        return min(range(len(loss)), key=lambda i: (loss[i], i))
    f1 = curve["macro_f1"]  # the best macro-F1, ties to the lower loss, then the first
    return min(range(len(f1)), key=lambda i: (-f1[i], loss[i], i))


def _score(curve: dict[str, list[float]], criterion: str, family: str) -> float:
    if criterion == "loss":
        return -min(curve["loss"])
    if criterion == "kept_accuracy":
        return curve["accuracy"][_kept_epoch(curve, family)]
    kind, metric = criterion.split("_", 1)
    values = curve[metric]
    if kind == "best":
        return max(values)
    width = min(WINDOW, len(values))
    return max(statistics.fmean(values[i : i + width]) for i in range(len(values) - width + 1))


def report() -> str:
    rows = _rows()
    lines = [
        "# Choosing the design on validation data",
        "",
        "Command: `python benchmarks/design_selection.py run [--family subgraph]` then "
        "`report` (see the script's docstring). Test score (%: accuracy for node sets, "
        "micro-F1 for subgraphs) of the candidate each criterion picks, mean ± std over the "
        "seeds, the picks per seed, and each criterion's average rank across the family's "
        "data sets. `design 0/1` always take one candidate; `oracle (test)` picks on the "
        "test score (a bound, not a method).",
        "",
    ]
    families = (
        ("node", NODE_DATA, "0: 2 layers, linear head, modality dim 64; 1: 1 layer, conv "
         "head, no projection"),
        ("subgraph", SUBGRAPH_DATA, "0: mean pooling; 1: sum pooling"),
    )  # fmt: skip
    for family, data, legend in families:
        names = [n for n in data if any(r["data"] == n for r in rows)]
        if names:
            table = _family_table(rows, names, family)
            lines += [f"## {family} ({legend})", "", *table, ""]
    text = "\n".join(lines)
    REPORT.write_text(text)
    return text


def _family_table(rows: list[dict[str, Any]], names: list[str], family: str) -> list[str]:
    by = {(r["data"], r["seed"], r["design"]): r for r in rows}
    table: dict[str, dict[str, tuple[float, float, str]]] = {}
    for criterion in (*CRITERIA, "design 0", "design 1", "oracle (test)"):
        table[criterion] = {}
        for name in names:
            tests, picks = [], []
            for seed in sorted({r["seed"] for r in rows if r["data"] == name}):
                pair = [by.get((name, seed, d)) for d in (0, 1)]
                if None in pair:
                    continue
                if criterion.startswith("design"):
                    pick = int(criterion[-1])
                elif criterion == "oracle (test)":
                    pick = max((0, 1), key=lambda d: pair[d]["test"])
                else:
                    scores = [_score(p["val_curve"], criterion, family) for p in pair]
                    pick = 1 if scores[1] > scores[0] else 0
                tests.append(pair[pick]["test"])
                picks.append(str(pick))
            if tests:
                std = statistics.stdev(tests) if len(tests) > 1 else 0.0
                table[criterion][name] = (statistics.fmean(tests), std, "".join(picks))
    ranked = [c for c in CRITERIA if table[c]]
    ranks: dict[str, list[float]] = {c: [] for c in ranked}
    for name in names:
        values = sorted((table[c][name][0] for c in ranked if name in table[c]), reverse=True)
        for c in ranked:
            if name in table[c]:
                mean = table[c][name][0]
                first = values.index(mean) + 1
                ties = values.count(mean)
                ranks[c].append(first + (ties - 1) / 2)
    lines = [
        "| criterion | " + " | ".join(names) + " | average rank |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for c, cells in table.items():
        row = [
            f"{cells[n][0] * 100:.1f} ± {cells[n][1] * 100:.1f} ({cells[n][2]})"
            if n in cells
            else "-"
            for n in names
        ]
        rank = f"{statistics.fmean(ranks[c]):.2f}" if c in ranks and ranks[c] else "-"
        lines.append(f"| {c} | " + " | ".join(row) + f" | {rank} |")
    if ranks:
        best = min(ranks, key=lambda c: (statistics.fmean(ranks[c]), CRITERIA.index(c)))
        lines += ["", f"Best average rank: **{best}**."]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    r = sub.add_parser("run")
    r.add_argument("--family", choices=("node", "subgraph"), default="node")
    r.add_argument("--datasets", nargs="+", default=None)
    r.add_argument("--seeds", type=int, default=5)
    sub.add_parser("report")
    args = parser.parse_args(argv)
    if args.step == "run" and args.family == "node":
        run(args.datasets or NODE_DATA, args.seeds)
    elif args.step == "run":
        run_subgraph(args.datasets or SUBGRAPH_DATA, args.seeds)
    print(report())


if __name__ == "__main__":
    main()
