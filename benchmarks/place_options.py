"""Which options help node ids where labels follow place, and the multi-label loss weights.

On ``position`` and ``position_multilabel`` (mmgraph's place-labelled subgraph tasks,
``mmgraph subgraph generate``) the default command keeps node ids (``--node-input auto``
chooses them on validation), and ``tune`` found much better options on the multi-label set.
This trains GLASS on node ids with one pooling (mean) and the default's other options,
changing one option at a time (depth, dropout, norms, head dropout, width, weight decay),
and the default command itself (both inputs, both poolings) with and without the
multi-label positive weights, three seeds each, and prints validation and test micro-F1
(mean over the seeds) with the seconds of the three runs. Choices read the validation
column; the test column is for the record.

    python benchmarks/place_options.py run --data position_multilabel:0 [--seeds 3]
    python benchmarks/place_options.py report
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

RESULTS = Path(__file__).parent / "results"
ROWS = RESULTS / "place_options.jsonl"
REPORT = RESULTS / "place_options.md"

VARIANTS: dict[str, dict[str, Any]] = {
    "ids": {},
    "ids, 2 layers": {"layers": 2},
    "ids, 3 layers": {"layers": 3},
    "ids, dropout 0.34": {"dropout": 0.34},
    "ids, no norms": {"norm": "none"},
    "ids, head dropout 0.25": {"head_dropout": 0.25},
    "ids, hidden 16": {"hidden": 16},
    "ids, weight decay 1e-5": {"weight_decay": 1e-5},
}
"""One option changed from the default, on node ids and mean pooling."""

COMMAND_VARIANTS: dict[str, dict[str, Any]] = {
    "default command": {},
    "default command, no positive weights": {"class_weights": False},
}
"""The default command (both inputs, both poolings), with and without its class weights."""


def run_variant(
    dataset: Any, name: str, options: dict[str, Any], seeds: Sequence[int], ids: bool
) -> dict[str, Any]:
    """Train ``options`` on ``dataset`` once per seed: validation and test micro-F1."""
    from mmgraph.tasks.subgraph import train_subgraph_model
    from mmgraph.train import TrainConfig
    from mmgraph.tune.options import subgraph_run

    options = dict(options)
    class_weights = options.pop("class_weights", True)
    fixed = {"node_input": "id", "pool": "mean"} if ids else {}
    val, test = [], []
    started = time.perf_counter()
    for seed in seeds:
        run = subgraph_run({"data": "-", "seed": seed, **fixed, **options}, dataset=dataset)
        train = TrainConfig.from_dict({**run.train.to_dict(), "class_weights": class_weights})
        result = train_subgraph_model(dataset, run.config, train)
        val.append(float(result.metrics["val"]["micro_f1"]))
        test.append(float(result.metrics["test"]["micro_f1"]))
    return {
        "variant": name,
        "val": val,
        "test": test,
        "seconds": time.perf_counter() - started,
    }


def run(data: str, seeds: Sequence[int], out: Path) -> None:
    """Every variant on ``data`` (``task:instance``), appended to ``out``."""
    from mmgraph.data.synthetic_subgraphs import make_synthetic_subgraphs

    task, instance = data.split(":")
    dataset = make_synthetic_subgraphs(task, seed=int(instance))
    jobs = [(n, o, True) for n, o in VARIANTS.items()]
    if dataset.multi_label:
        jobs += [(n, o, False) for n, o in COMMAND_VARIANTS.items()]
    for name, options, ids in jobs:
        row = {"data": data, **run_variant(dataset, name, options, seeds, ids)}
        row["torch_threads"] = torch.get_num_threads()
        with out.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(
            f"{data} {name}: validation {statistics.mean(row['val']):.3f}, test "
            f"{statistics.mean(row['test']):.3f} ({row['seconds']:.0f} s)",
            flush=True,
        )


def report(rows_path: Path, out: Path) -> str:
    """The table of ``rows_path``, written to ``out``."""
    rows = [json.loads(line) for line in rows_path.read_text().splitlines() if line.strip()]
    data = list(dict.fromkeys(r["data"] for r in rows))
    lines = [
        "# Node ids where labels follow place",
        "",
        "`python benchmarks/place_options.py run --data D` for each D below, then `report`; "
        f"Torch {torch.__version__}. Micro-F1 × 100, mean over the seeds (validation / test), "
        "and the seconds of the runs. Choices read validation only.",
        "",
        "| variant | " + " | ".join(data) + " |",
        "|---|" + "---|" * len(data),
    ]
    names = list(dict.fromkeys(r["variant"] for r in rows))
    for name in names:
        cells = []
        for d in data:
            match = [r for r in rows if r["data"] == d and r["variant"] == name]
            if not match:
                cells.append("-")
                continue
            r = match[-1]
            cells.append(
                f"{100 * statistics.mean(r['val']):.1f} / {100 * statistics.mean(r['test']):.1f}"
                f" ({r['seconds']:.0f} s, {len(r['val'])} seeds)"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    out.write_text(text)
    return text


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    r = sub.add_parser("run")
    r.add_argument("--data", nargs="+", required=True, help="task:instance, e.g. position:0")
    r.add_argument("--seeds", type=int, default=3)
    r.add_argument("--threads", type=int, default=None)
    r.add_argument("--out", type=Path, default=ROWS)
    p = sub.add_parser("report")
    p.add_argument("--rows", type=Path, default=ROWS)
    p.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    if args.step == "report":
        print(report(args.rows, args.out))
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    for data in args.data:
        run(data, list(range(args.seeds)), args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
