"""Text features and design chosen together on validation data (``--text-encoder auto``).

``mmgraph train`` trains each design of :data:`mmgraph.models.auto.DESIGNS` with each text
feature of :data:`mmgraph.models.auto.TEXT_CANDIDATES` (a frozen sentence encoder, the raw
bag of words) on a graph with text, and keeps the pair with the highest validation accuracy
(ties: the lowest validation loss). This script trains every design with each text feature
of :data:`GRID_TEXTS` (those two and raw TF-IDF, the candidate before) on every labelled
node data set with seeds 0-4 (a split per seed where the data has none, as ``mmgraph train
--seeds`` does; sets without text have one text candidate), records each run's lowest
validation loss, validation accuracy and macro-F1 (of the kept checkpoint) and test
accuracy, and compares the rules that pick among them:

* ``previous``: the sentence encoder and the first two designs, on the lowest loss (the
  default before the text choice);
* ``designs``: the sentence encoder and all three designs, on the lowest loss;
* ``MiniLM or TF-IDF + designs``: those pairs, on the lowest loss (the rule of the text
  choice's first round), on the highest validation accuracy (the rule before the bag of
  words) or macro-F1, ties broken by the loss;
* ``MiniLM or bag of words + designs``, on accuracy: the default rule now;
* ``all three texts + designs``, on accuracy;

beside each pair alone and the pick on the test score (``oracle``, a bound, not a method).
A rule is judged by its average rank across the data sets of the mean test score of its
picks. ``--optimizer adamw`` runs the same grid with AdamW (decoupled weight decay), the
node default before this round, into ``text_selection_adamw.*``; ``compare`` ranks every
(optimizer, rule) pair of both grids and checks the pick by leaving each data set out.

Usage::

    python benchmarks/text_selection.py run [--datasets texas cornell] [--seeds 5]
    python benchmarks/text_selection.py report
    python benchmarks/text_selection.py --optimizer adamw run
    python benchmarks/text_selection.py compare

Results: ``benchmarks/results/text_selection.jsonl`` (one line per run, resumable),
``text_selection.md``, the same ``_adamw`` and ``text_selection_compare.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mmgraph.models.features import DEFAULT_TEXT_ENCODER

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
RUNS = RESULTS / "text_selection.jsonl"
REPORT = RESULTS / "text_selection.md"
DATA_ROOT = Path(os.environ.get("MMGRAPH_DATA_ROOT", HERE.parent.parent / "shared" / "data"))
OPTIMIZER: str | None = None
"""The optimizer of every run when not the default command's (``--optimizer``)."""
NODE_DATA = ("cora", "citeseer", "cornell", "texas", "country-flags", "synthetic")
GRID_TEXTS: tuple[dict[str, Any], ...] = (
    {"text_encoder": DEFAULT_TEXT_ENCODER},
    {"text_encoder": "tfidf", "text_dim": None},
    {"text_encoder": "bow", "text_dim": None},
)
"""The text features of the grid, by index: the sentence encoder, raw TF-IDF (a candidate
of ``--text-encoder auto`` before), the raw bag of words (one now)."""
TEXT_NAMES = ("MiniLM", "TF-IDF", "bag of words")


def _rows(path: Path | None = None) -> list[dict[str, Any]]:
    """The runs of ``path`` (default: this grid's, ``RUNS``)."""
    path = path or RUNS
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run(datasets: Sequence[str], seeds: int, optimizer: str | None = None) -> None:
    """Train each (text, design) pair on each data set and seed; one line per run.

    ``optimizer`` replaces the default command's (Adam) in every run.
    """
    import dataclasses

    from mmgraph.models import featurize
    from mmgraph.models.auto import DESIGNS, TEXT_CANDIDATES
    from mmgraph.tasks import load_graph
    from mmgraph.tasks.node_classification import min_val_loss, train_node_classifier
    from mmgraph.tune.options import node_run

    assert TEXT_CANDIDATES == (GRID_TEXTS[0], GRID_TEXTS[2]), "the default rule's row is stale"
    done = {(r["data"], r["seed"], r["text"], r["design"]) for r in _rows()}
    for name in datasets:
        for seed in range(seeds):
            base = node_run({"data": name, "root": str(DATA_ROOT), "seed": seed})
            graph = load_graph(base.data, need_labels=True)
            texts = GRID_TEXTS if getattr(graph, "text", None) is not None else GRID_TEXTS[:1]
            for t, text in enumerate(texts):
                features = dataclasses.replace(base.features, **text)
                todo = [d for d in range(len(DESIGNS)) if (name, seed, t, d) not in done]
                if not todo:
                    continue
                started = time.perf_counter()
                featured = featurize(graph, features, progress=False)
                featurize_seconds = time.perf_counter() - started
                for d in todo:
                    model = {**base.model, **DESIGNS[d]}
                    train = dataclasses.replace(
                        base.train, progress=False, optimizer=optimizer or base.train.optimizer
                    )
                    started = time.perf_counter()
                    result = train_node_classifier(
                        base.data,
                        features,
                        model,
                        train,
                        graph=featured.clone(),
                        progress=False,
                        prefeaturized=True,
                    )
                    row = {
                        "data": name,
                        "seed": seed,
                        "text": t,
                        "text_encoder": features.text_encoder,
                        "text_dim": features.text_dim,
                        "design": d,
                        "val_loss": min_val_loss(result.trainer),
                        "val": result.metrics["val"]["accuracy"],
                        "val_macro_f1": result.metrics["val"]["macro_f1"],
                        "test": result.metrics["test"]["accuracy"],
                        "seconds": time.perf_counter() - started,
                        "featurize_seconds": featurize_seconds,
                    }
                    with RUNS.open("a") as fh:
                        fh.write(json.dumps(row) + "\n")
                    print(
                        f"{name} seed {seed} text {t} design {d}: val loss "
                        f"{row['val_loss']:.4f}, test {row['test']:.3f}",
                        flush=True,
                    )


Rule = Callable[[dict[str, Any]], bool]
POOLS: dict[str, Rule] = {
    "previous (sentence encoder, designs 0-1)": lambda r: r["text"] == 0 and r["design"] < 2,
    "designs (sentence encoder, designs 0-2)": lambda r: r["text"] == 0,
    "MiniLM or TF-IDF + designs": lambda r: r["text"] in (0, 1),
    "MiniLM or bag of words + designs": lambda r: r["text"] in (0, 2),
    "all three texts + designs": lambda r: True,
}


Criterion = Callable[[dict[str, Any]], tuple[float, ...]]

CRITERIA: dict[str, Criterion] = {
    "loss": lambda r: (r["val_loss"],),
    "accuracy": lambda r: (-r["val"], r["val_loss"]),
    "macro-F1": lambda r: (-r["val_macro_f1"], r["val_loss"]),
}
"""How a rule picks among its candidates, lowest key first: the lowest validation loss,
or the highest validation accuracy or macro-F1 (of the kept checkpoint) with ties broken by
the loss. Ties left keep the earlier candidate, as training does."""

RULES: dict[str, tuple[str, str]] = {
    "previous (sentence encoder, designs 0-1)": (
        "previous (sentence encoder, designs 0-1)",
        "loss",
    ),
    "designs (sentence encoder, designs 0-2)": ("designs (sentence encoder, designs 0-2)", "loss"),
    "MiniLM or TF-IDF + designs, on loss (the first text rule)": (
        "MiniLM or TF-IDF + designs",
        "loss",
    ),
    "MiniLM or TF-IDF + designs, on accuracy (the rule before)": (
        "MiniLM or TF-IDF + designs",
        "accuracy",
    ),
    "MiniLM or TF-IDF + designs, on macro-F1": ("MiniLM or TF-IDF + designs", "macro-F1"),
    "MiniLM or bag of words + designs, on accuracy (the default rule)": (
        "MiniLM or bag of words + designs",
        "accuracy",
    ),
    "all three texts + designs, on accuracy": ("all three texts + designs", "accuracy"),
}
"""Each rule's candidates (:data:`POOLS`) and criterion (:data:`CRITERIA`)."""


def _pick(runs: list[dict[str, Any]], pool_name: str, criterion_name: str) -> dict[str, Any] | None:
    """The run the criterion picks among the pool's candidates (``None``: no candidate)."""
    pool = [r for r in runs if POOLS[pool_name](r)]
    criterion = CRITERIA[criterion_name]
    return min(pool, key=lambda r: (*criterion(r), r["text"], r["design"])) if pool else None


def report() -> str:
    rows = _rows()
    names = [n for n in NODE_DATA if any(r["data"] == n for r in rows)]
    by_seed: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in rows:
        by_seed.setdefault((r["data"], r["seed"]), []).append(r)
    pairs = sorted({(r["text"], r["design"]) for r in rows})
    labels = {(r["text"], r["design"]): _pair_name(r) for r in rows}
    table: dict[str, dict[str, tuple[float, float, str]]] = {}

    def cell(
        label: str, name: str, choose: Callable[[list[dict[str, Any]]], dict[str, Any] | None]
    ) -> None:
        tests, picks = [], []
        for (data, _), runs in sorted(by_seed.items()):
            if data != name:
                continue
            chosen = choose(runs)
            if chosen is None:
                return
            tests.append(chosen["test"])
            picks.append(f"{chosen['text']}{chosen['design']}")
        std = statistics.stdev(tests) if len(tests) > 1 else 0.0
        table.setdefault(label, {})[name] = (
            round(statistics.fmean(tests), 8),
            std,
            " ".join(picks),
        )

    rules = list(RULES)
    for label in RULES:
        for name in names:
            cell(label, name, lambda runs, rule=RULES[label]: _pick(runs, *rule))
    for pair in pairs:
        label = f"{labels[pair]} alone"
        for name in names:
            cell(
                label,
                name,
                lambda runs, pair=pair: next(
                    (r for r in runs if (r["text"], r["design"]) == pair), None
                ),
            )
    label = "oracle (test)"
    for name in names:
        cell(label, name, lambda runs: max(runs, key=lambda r: r["test"]))
    ranks = _ranks(table, rules, names)
    seconds = sum(r["seconds"] for r in rows)
    lines = [
        "# Text features and design chosen on validation data",
        "",
        "Command: `python benchmarks/text_selection.py run` then `report` (see the script's "
        "docstring). Test accuracy (%) of the candidate each rule picks (on the lowest "
        "validation loss, or on the highest validation accuracy or macro-F1 of the kept "
        "checkpoint, ties broken by the loss, as its row says), mean ± std over seeds 0-4 "
        "(a split per seed where the data has "
        "none), then the picks per seed as text and design index (text 0: "
        "all-MiniLM-L6-v2, 1: raw TF-IDF, 2: raw bag of words; design 0: 2 layers, linear "
        "head, modality dim 64; 1: 1 layer, conv head, no projection; 2: 1 layer, linear "
        "head, modality dim 64). "
        "Cora and CiteSeer have no text: one text candidate."
        + (f" Every run trained with {OPTIMIZER}." if OPTIMIZER else ""),
        "",
        "| rule | " + " | ".join(names) + " | average rank of the rules |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for label, cells in table.items():
        shown = [
            f"{cells[n][0] * 100:.1f} ± {cells[n][1] * 100:.1f} ({cells[n][2]})"
            if n in cells
            else "-"
            for n in names
        ]
        rank = f"{statistics.fmean(ranks[label]):.2f}" if ranks.get(label) else ""
        lines.append(f"| {label} | " + " | ".join(shown) + f" | {rank} |")
    lines += [
        "",
        f"{len(rows)} runs, {seconds / 60:.0f} min of training (featurization not counted), "
        "on 2 CPUs shared with other jobs.",
    ]
    text = "\n".join(lines) + "\n"
    REPORT.write_text(text)
    return text


COMPARED = ("loss", "accuracy", "macro-F1")
"""The criteria ``compare`` ranks, each over every (text, design) pair."""


def compare() -> str:
    """Rank every (optimizer, criterion) over the data sets both grids ran; leave one out."""
    grids = {
        "adam": RESULTS / "text_selection.jsonl",
        "adamw": RESULTS / "text_selection_adamw.jsonl",
    }
    rows = {opt: _rows(path) for opt, path in grids.items()}
    names = [n for n in NODE_DATA if all(any(r["data"] == n for r in rs) for rs in rows.values())]
    means: dict[str, dict[str, float]] = {}
    for opt, runs in rows.items():
        for criterion in COMPARED:
            label = f"{opt}, {criterion}"
            for name in names:
                seeds = sorted({r["seed"] for r in runs if r["data"] == name})
                tests = []
                for seed in seeds:
                    pool = [r for r in runs if r["data"] == name and r["seed"] == seed]
                    picked = _pick(pool, "MiniLM or TF-IDF + designs", criterion)
                    assert picked is not None  # the seed has runs
                    tests.append(picked["test"])
                means.setdefault(label, {})[name] = round(
                    statistics.fmean(tests) * 100, 6
                )  # ties exact
    labels = list(means)
    table = {label: {n: (v, 0.0, "") for n, v in cells.items()} for label, cells in means.items()}
    ranks = _ranks(table, labels, names)

    def pick(without: str | None) -> str:
        kept = [i for i, n in enumerate(names) if n != without]
        return min(
            labels,
            key=lambda lab: (statistics.fmean(ranks[lab][i] for i in kept), labels.index(lab)),
        )

    lines = [
        "# Optimizer and selection criterion, compared across the node data sets",
        "",
        "Command: `python benchmarks/text_selection.py compare`, from the grids of "
        "`text_selection.jsonl` (Adam, the weight decay 5e-4 as an L2 term) and "
        "`text_selection_adamw.jsonl` (AdamW, decoupled). Each row: the optimizer and the "
        "criterion that picks among every (MiniLM or TF-IDF, design) pair; test accuracy "
        "(%) of the "
        "picks, mean over seeds 0-4, the rank among the rows in brackets, and the average "
        "rank. Test scores enter only the ranking of the rules, never a pick.",
        "",
        "| optimizer, criterion | " + " | ".join(names) + " | average rank |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for label in labels:
        cells = [f"{means[label][n]:.1f} ({ranks[label][i]:g})" for i, n in enumerate(names)]
        lines.append(
            f"| {label} | " + " | ".join(cells) + f" | {statistics.fmean(ranks[label]):.2f} |"
        )
    overall = pick(None)
    lines += [
        "",
        f"Best average rank: **{overall}**.",
        "",
        "Leave one data set out: the row with the best average rank without X, its test on X.",
        "",
        "| held out X | pick without X | its test on X | overall pick's test on X |",
        "|---|---|---|---|",
    ]
    for name in names:
        without = pick(name)
        lines.append(
            f"| {name} | {without} | {means[without][name]:.1f} | {means[overall][name]:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    (RESULTS / "text_selection_compare.md").write_text(text)
    return text


def _pair_name(row: dict[str, Any]) -> str:
    return f"{TEXT_NAMES[row['text']]}, design {row['design']}"


def _ranks(
    table: dict[str, dict[str, tuple[float, float, str]]], rules: list[str], names: list[str]
) -> dict[str, list[float]]:
    ranks: dict[str, list[float]] = {rule: [] for rule in rules}
    for name in names:
        values = sorted(
            (table[r][name][0] for r in rules if name in table.get(r, {})), reverse=True
        )
        for rule in rules:
            if name in table.get(rule, {}):
                mean = table[rule][name][0]
                ranks[rule].append(values.index(mean) + 1 + (values.count(mean) - 1) / 2)
    return ranks


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    r = sub.add_parser("run")
    r.add_argument("--datasets", nargs="+", default=list(NODE_DATA))
    r.add_argument("--seeds", type=int, default=5)
    sub.add_parser("report")
    sub.add_parser("compare")
    parser.add_argument(
        "--optimizer",
        choices=("adamw",),
        default=None,
        help="train every run with this optimizer instead of the default (Adam); runs and "
        "report go to text_selection_OPTIMIZER.jsonl / .md",
    )
    args = parser.parse_args(argv)
    global RUNS, REPORT, OPTIMIZER
    if args.optimizer:
        OPTIMIZER = args.optimizer
        RUNS = RESULTS / f"text_selection_{args.optimizer}.jsonl"
        REPORT = RESULTS / f"text_selection_{args.optimizer}.md"
    if args.step == "compare":
        print(compare())
        return
    if args.step == "run":
        run(args.datasets, args.seeds, args.optimizer)
    print(report())


if __name__ == "__main__":
    main()
