"""Model selection: ``tune``."""

from __future__ import annotations

import argparse
import math
from typing import Any

from mmgraph.cli.commands import command_help
from mmgraph.cli.common import SEEDS_COLUMNS, SUBGRAPH_COLUMNS, add_data, add_overwrite, add_quiet
from mmgraph.cli.types import non_negative_int, positive_int, seed_count
from mmgraph.tune.defaults import LOADER_OPTIONS

TASK_NAMES = ("node", "subgraph", "unsupervised")


def budget(value: str) -> float:
    """A wall-clock budget such as ``15m``, ``90s``, ``1h30m`` (argparse type).

    A bare number is refused: ``--budget 3`` would be 3 seconds (``parse_budget``'s unit)
    where 3 minutes may be meant.
    """
    from mmgraph.errors import InputError
    from mmgraph.tune import parse_budget

    number = str(value).strip()
    if number.replace(".", "", 1).isdigit():
        raise argparse.ArgumentTypeError(
            f"give the budget a unit: {number}s, {number}m or {number}h (got {value!r})"
        )
    try:
        return parse_budget(value)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register(sub: Any) -> None:
    """Add ``tune``."""
    p = sub.add_parser(
        "tune",
        help=command_help("tune"),
        description="Search a task's options with Optuna (TPE, median pruning) on validation "
        "data only, the test split hidden, within --budget and/or --trials; retrain the best "
        "options with --seeds seeds and evaluate the test split once. The task comes from the "
        "data: a SubGNN or TU folder is subgraph (graph) classification, a labelled graph node "
        "classification, an unlabelled graph unsupervised node2vec embedding (selected on "
        "held-out edge AUC). --out receives best.yaml (a --config file of the matching "
        "command), metrics.json, study.db, tune.json and the plots.",
    )
    add_data(p, required=False)  # checked in cmd_tune: --resume reads it from the search
    p.add_argument(
        "--task", choices=TASK_NAMES, default=None, help="override the task found from the data"
    )
    p.add_argument(
        "--budget",
        type=budget,
        default=None,
        help=(
            "wall-clock budget of the search and of its confirmation, with a unit: 90s, 15m, 1h30m "
            "(with --resume, less the time the earlier sessions' trials ran); "
            "a trial much slower than the completed ones stops, on TU folds (and a node "
            "task's five drawn splits, on data without a split of its own) each trial "
            "trains as many folds as let about six trials fit, and no confirmation seed "
            "starts that would end past it (once two paired scores are in)"
        ),
    )
    p.add_argument("--trials", type=positive_int, default=None, help="number of trials")
    p.add_argument(
        "--storage",
        default=None,
        help="Optuna storage URL shared by processes or machines (default: sqlite in --out)",
    )
    p.add_argument("--workers", type=positive_int, default=1, help="local processes (default: 1)")
    p.add_argument(
        "--seeds",
        type=seed_count,
        default=None,
        help="seeds of the final retraining (default: 5; 1 on TU data, whose 10 folds are "
        "the repeats); on node data without a split of its own, seed K trains the split of "
        "seed K, as `mmgraph train --seeds` does",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="first seed (default: 0)")
    p.add_argument("--space", default=None, help="YAML file overriding the search space")
    p.add_argument("--out", required=True, help="output folder")
    add_overwrite(p, "replace an existing --out folder (kept until the new one completes)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted search of --out, with the arguments it was started "
        "with (those given here replace them)",
    )
    add_quiet(p)
    p.set_defaults(handler=cmd_tune)


def confirmation_line(confirmation: dict[str, Any] | None, kept: str) -> str | None:
    """What ``tune`` prints of its confirmation (:func:`~mmgraph.tune.study.confirm_best`)."""
    if confirmation is not None and "gain" in confirmation:
        seeds_used = confirmation["seeds"]
        gain, se = confirmation["gain"], confirmation.get("standard_error", 0.0)
        if confirmation["kept"] == "best":
            verdict = "the best kept"
        elif gain < -se:
            verdict = "the defaults do better: kept"
        else:
            verdict = "within one standard error: the defaults kept"
        spread = ""
        items = confirmation.get("item_standard_error")
        if items is not None:
            spread = f" (the larger of the seeds' and the validation items' {items:.4f})"
        planned = confirmation.get("planned_seeds")
        cut = f" (of {len(planned)} planned: the budget's end)" if planned else ""
        first, last = seeds_used[0], seeds_used[-1]
        which = f"seed {first}" if len(seeds_used) == 1 else f"seeds {first}-{last}"
        scores = len(confirmation.get("best") or ())
        if scores > len(seeds_used):  # folds or drawn splits: a paired score each
            which += f" over {scores // len(seeds_used)} folds or splits"
        return (
            f"best against the defaults on {which}{cut}: "
            f"{confirmation['gain']:+.4f} ± {confirmation['standard_error']:.4f}{spread}; "
            f"{verdict}"
        )
    if confirmation is not None:
        return f"best against the defaults: a run failed; the {confirmation['kept']} kept"
    if kept == "defaults":
        return "the defaults' trial scored best: the defaults kept"
    return None


def _take_started_arguments(args: argparse.Namespace) -> None:
    """``--resume``: the arguments not given take the values the search started with."""
    from mmgraph.cli.config import explicit_options
    from mmgraph.tune.study import started_with

    given = explicit_options(args.parser, args.argv)
    for key, value in started_with(args.out).items():
        if key not in given and hasattr(args, key):
            setattr(args, key, value)


def cmd_tune(args: argparse.Namespace) -> int:
    """``mmgraph tune``."""
    from mmgraph.tasks.report import format_table
    from mmgraph.tune import tune

    if args.overwrite and args.resume:
        args.parser.error("pass either --overwrite (start again) or --resume, not both")
    if args.resume:
        _take_started_arguments(args)
    if not args.data:
        args.parser.error("the following arguments are required: --data")
    if args.budget is None and args.trials is None:
        args.parser.error("give --budget (e.g. 15m) or --trials N, or both")
    result = tune(
        args.data,
        task=args.task,
        budget=args.budget,
        trials=args.trials,
        out=args.out,
        storage=args.storage,
        workers=args.workers,
        seeds=args.seeds,
        space=args.space,
        overwrite=args.overwrite,
        resume=args.resume,
        root=args.root,
        seed=args.seed,
        progress=not args.quiet,
        max_tweets=args.max_tweets,
    )
    counts = result.trials
    print(
        f"{result.task}: {counts['complete']} trial{'s' * (counts['complete'] != 1)} complete, "
        f"{counts['pruned']} pruned, "
        + (f"{counts['timed_out']} stopped for time, " if counts.get("timed_out") else "")
        + f"{counts['failed']} failed"
        + (f", {counts['interrupted']} interrupted" if counts.get("interrupted") else "")
        + f"; best {result.criterion} {result.best_value:.4f}"
    )
    line = confirmation_line(result.confirmation, result.kept)
    if line:
        print(line)
    searched = {
        k: v for k, v in result.best_options.items() if k not in ("data", "root", *LOADER_OPTIONS)
    }
    print(f"{result.kept}: " + " ".join(f"{k}={_short(v)}" for k, v in searched.items()))
    metrics = result.metrics
    seeds = len(metrics.get("seed_list", [])) or 1
    splits = [s for s in ("train", "val", "test") if isinstance(metrics.get(s), dict)]
    if splits:
        columns = [k for k in metrics[splits[-1]] if not k.endswith("_std")][:4]
        # those of `subgraph train` or `train --seeds`, for the same runs
        shown = SUBGRAPH_COLUMNS if result.task == "subgraph" else SEEDS_COLUMNS
        if all(k in metrics[splits[-1]] for k in shown):
            columns = list(shown)
        rows = [
            {"split": split, **{k: _mean_std(metrics[split], k) for k in columns}}
            for split in splits
        ]
        runs = len(metrics.get("runs") or [])
        what = f"{seeds} seed{'s' * (seeds != 1)}"
        if metrics.get("whole_graphs") and runs > seeds:  # TU: every seed trains each fold
            what += f" × {runs // seeds} folds"
        print(f"retrained with {what} (mean ± std):")
        print(format_table(rows, ["split", *columns]))
    else:  # unsupervised: the clustering metrics
        keys = ("nmi", "ari", "acc", "silhouette", "modularity")
        row = {"k": metrics.get("k"), **{k: _mean_std(metrics, k) for k in keys}}
        print(
            f"embedded with {seeds} seed{'s' if seeds != 1 else ''}, k-means clusters (mean ± std):"
        )
        print(format_table([row], ["k", *keys]))
    print(
        f"written to {result.out}: best.yaml, metrics.json, tune.json, plots"
        + (", study.db" if args.storage is None else "")
    )
    return 0


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _mean_std(values: dict[str, Any], key: str) -> str:
    mean, std = values.get(key), values.get(f"{key}_std")
    if not isinstance(mean, (int, float)) or math.isnan(mean):  # NaN: no labels to score
        return "-"
    return f"{mean:.3f}" if not isinstance(std, (int, float)) else f"{mean:.3f} ± {std:.3f}"
