"""Node classification: ``demo``, ``train``, ``evaluate``, ``predict``."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from mmgraph.cli.commands import command_help
from mmgraph.cli.common import (
    SEEDS_COLUMNS,
    add_data,
    add_features,
    add_model,
    add_on_image_error,
    add_overwrite,
    add_quiet,
    add_training,
    check_training_options,
    data_options,
    data_spec,
    refuse_gamma_without_step,
    refuse_unread_image_size,
    refuse_unread_modality_flags,
)
from mmgraph.cli.config import add_config, explicit_options
from mmgraph.cli.types import image_size, non_negative_int, positive_int
from mmgraph.errors import as_flag
from mmgraph.names import DEFAULT_TEXT_ENCODER


def register(sub: Any) -> None:
    """Add ``demo``, ``train``, ``evaluate`` and ``predict``."""
    p = sub.add_parser("demo", help=command_help("demo"))
    p.add_argument("--nodes", type=positive_int, default=2000, help="accounts (default: 2000)")
    p.add_argument(
        "--text-encoder",
        default=DEFAULT_TEXT_ENCODER,
        help=f"text encoder of every setting (default: {DEFAULT_TEXT_ENCODER})",
    )
    p.add_argument(
        "--image-size",
        type=image_size,
        default=16,
        help="avatar side, at most 32 for the frozen 'cnn' image encoder (default: 16)",
    )
    p.add_argument("--epochs", type=positive_int, default=200, help="(default: 200)")
    p.add_argument("--patience", type=positive_int, default=50, help="(default: 50)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="(default: 0)")
    p.add_argument("--out", default=None, help="folder for the runs and the table")
    add_quiet(p)
    add_overwrite(p, "replace the runs and table in an existing --out folder")
    p.set_defaults(handler=cmd_demo, image_encoder="cnn")  # its settings' (frozen) encoder

    p = sub.add_parser(
        "train",
        help=command_help("train"),
        description="Train a MultimodalGNN node classifier and write a run folder. A data set "
        "without a split gets a seeded stratified split, by default 60% train, 20% "
        "validation, 20% test (--split).",
    )
    add_data(p, required=False)  # checked in cmd_train: --resume reads it from the run
    add_config(p)
    add_features(p, task="node")
    add_model(p)
    add_training(p)
    p.add_argument(
        "--seeds",
        nargs="+",
        type=non_negative_int,
        default=None,
        metavar="SEED",
        help="train one run per seed (replaces --seed): --out holds seed-K/ run folders and "
        "metrics.json with each metric's mean and <metric>_std over the seeds; on data "
        "without a split of its own each seed also draws its own split (--split-seed fixes "
        "one for all)",
    )
    p.add_argument("--out", required=True, help="run folder, e.g. runs/NAME")
    add_overwrite(
        p, "replace an existing run folder (the old run stays until the new one completes)"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run of --out from its last checkpoint, with the options "
        "it was started with (give no others)",
    )
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser(
        "evaluate",
        help=command_help("evaluate"),
        description="Print a trained run's validation and test metrics on its data; the run "
        "folder is left as it is.",
    )
    p.add_argument("--run", required=True, help="run folder written by `train`")
    p.add_argument("--out", default=None, help="also write the metrics to this JSON file")
    add_overwrite(p, "replace an existing --out file")
    add_quiet(p)
    p.set_defaults(handler=cmd_evaluate)

    p = sub.add_parser(
        "predict",
        help=command_help("predict"),
        description="Predict the class of every node of the run's data (or of --data, "
        "conformed to the run's columns) and write a CSV: node_id, predicted_class, its "
        "probability and each class's (and true_class where the data has labels).",
    )
    p.add_argument("--run", required=True, help="run folder written by `train`")
    p.add_argument("--out", required=True, help="CSV file to write")
    add_overwrite(p, "replace an existing --out file (never one the command reads)")
    add_data(p, required=False)
    add_on_image_error(p, of_run=True)
    add_quiet(p)
    p.set_defaults(handler=cmd_predict)


def cmd_demo(args: argparse.Namespace) -> int:
    """``mmgraph demo``."""
    from mmgraph.tasks.demo import COLUMNS, DEMO_SETTINGS, run_demo
    from mmgraph.tasks.report import format_table
    from mmgraph.tasks.run_folder import check_output_file, write_atomic

    refuse_unread_image_size(args, explicit_options(args.parser, args.argv))
    if args.overwrite and not args.out:
        args.parser.error(
            "--overwrite replaces the runs and table of an --out folder, and none is given: "
            "give --out DIR, or drop --overwrite"
        )
    table = Path(args.out) / "demo.md" if args.out else None
    if table is not None:
        check_output_file(table, overwrite=args.overwrite)
    print(f"mmgraph demo: bot detection on the synthetic social graph ({args.nodes} accounts)")
    rows: list[dict[str, Any]] = []
    width = max(len(name) for name, *_ in DEMO_SETTINGS)

    def on_row(row: dict[str, Any]) -> None:
        # Rows print as they finish: pad the names so that the columns line up.
        rows.append({**row, "setting": row["setting"].ljust(width)})
        # a row not printed, as wide as a negative MCC: the header fits the rows to come
        widest = {"setting": "", "mcc": "-0.000"}
        table = format_table([widest, *rows], COLUMNS)
        lines = [line.rstrip() for line in table.splitlines()]
        print(("\n" + "\n".join(lines[:2]) + "\n" if len(rows) == 1 else "") + lines[-1])

    result = run_demo(
        num_nodes=args.nodes,
        text_encoder=args.text_encoder,
        image_size=args.image_size,
        epochs=args.epochs,
        patience=args.patience,
        seed=args.seed,
        out=args.out,
        progress=not args.quiet,
        echo=print,
        on_row=on_row,
        overwrite=args.overwrite,
    )
    print("\nTest metrics of the 'bot' class (f1), early stopping on validation macro-F1.")
    if table is not None:
        write_atomic(table, lambda fh: fh.write(result.markdown() + "\n"))
        print(f"table written to {table}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """``mmgraph train``."""
    flags: set[str] = set()  # the options typed (a new run's)
    if not args.resume:  # refusals that need no data: before torch is imported (5 s)
        if not args.data:
            args.parser.error("the following arguments are required: --data")
        check_training_options(args.parser, args)
        flags = explicit_options(args.parser, args.argv)
        if args.seeds is not None and "seed" in flags and "seeds" not in flags:
            args.seeds = None  # --seed typed over a config file's seeds: the flag wins
        if args.seeds is not None and "seed" in flags:
            args.parser.error(
                "--seed and --seeds both given: --seeds sets each run's seed (and the split's, "
                "on data without a split of its own), so --seed would change nothing; drop "
                "--seed, or add its value to --seeds"
            )
    from mmgraph.distributed import is_main_process
    from mmgraph.tasks import (
        load_graph,
        resume_node_classifier,
        resume_node_classifier_seeds,
        train_node_classifier,
    )
    from mmgraph.tasks.node_classification import describe_selection, is_seeds_run
    from mmgraph.tasks.report import format_split_metrics

    if args.resume:
        given = changed_options(args, ignore={"out", "resume", "quiet", "debug", "verbose"})
        if given:
            args.parser.error(
                f"--resume continues with the options the run was started with; drop "
                f"{', '.join(given)}"
            )
        if is_seeds_run(args.out):
            metrics = resume_node_classifier_seeds(args.out, progress=not args.quiet)
            _report_seeds(args, metrics)
            return 0
        result = resume_node_classifier(args.out, progress=not args.quiet)
    else:
        loaded = _refuse_flags_the_data_ignores(args, flags)
        features, model, train = node_options(args)
        refuse_gamma_without_step(args, flags, train.lr_step_size)
        if args.seeds is not None and len(args.seeds) > 1:
            return _train_seeds(args, features, model, train, loaded)
        if args.seeds is not None:
            args.seed = args.seeds[0]  # the seed of the split too (data_spec)
            train = dataclasses.replace(train, seed=args.seeds[0])
        spec = data_spec(args)
        result = train_node_classifier(
            spec,
            features,
            model,
            train,
            graph=None if loaded is None else load_graph(spec, need_labels=True, loaded=loaded),
            out=args.out,
            progress=not args.quiet,
            pretrain_epochs=args.pretrain_epochs,
            overwrite=args.overwrite,
        )
    if "test" not in result.metrics:
        warn_no_test(args)
    if is_main_process():
        if result.selection:
            print(
                "design chosen on validation accuracy/loss: " + describe_selection(result.selection)
            )
        print(format_split_metrics(result.metrics))
        print(f"run written to {args.out} (metrics.json, model.safetensors, config.yaml)")
    return 0


def warn_no_test(args: argparse.Namespace) -> None:
    """Say that the run has no test metrics: its split holds no labelled test node."""
    import warnings

    fix = (
        "--split gives the test no share: give it one (e.g. --split 0.6 0.2 0.2)"
        if getattr(args, "split", None) and float(args.split[-1]) == 0
        else "label more nodes, or give the card's split column 'test' rows"
    )
    data = f"--data {args.data}" if args.data else f"the data of {args.out}"  # --resume
    warnings.warn(
        f"{data}: no labelled node lies in the test split, so only validation "
        f"metrics are reported, on the nodes that chose the model; {fix}",
        UserWarning,
        stacklevel=2,
    )


def _refuse_flags_the_data_ignores(args: argparse.Namespace, explicit: set[str]) -> Any:
    """Refuse flags the data would leave unread: they would change nothing.

    Modality flags the data or ``--modalities`` leave unread
    (:func:`~mmgraph.cli.common.refuse_unread_modality_flags`), and ``--split``/
    ``--split-seed`` for data with a split of its own. Only flags on the command line
    (``explicit``) count: a run folder's ``config.yaml`` holds them all. Returns the data
    when it had to be loaded for that (:obj:`None` otherwise), so training reads it once.
    """
    from mmgraph.data.registry import is_card, load_dataset

    graph = refuse_unread_modality_flags(args, explicit)
    splits = sorted(explicit & {"split", "split_seed"})
    if not splits:
        return graph
    if graph is None:
        graph = load_dataset(args.data, root=args.root, **data_options(args))
    if getattr(graph, "train_mask", None) is not None:
        flags = " and ".join(as_flag(k) for k in splits)
        one = len(splits) == 1
        card = is_card(str(args.data))
        own = (
            "a split column in its card"
            if card
            else "the split its files give"
            if Path(str(args.data)).expanduser().exists()
            else "the built-in data set's own split"
        )
        args.parser.error(
            f"{flags} draw{'s' if one else ''} a split for data without one, and --data "
            f"{args.data} has its own ({own}): {'it' if one else 'they'} would change "
            f"nothing. Drop {'it' if one else 'them'}"
            + (", or drop the card's 'split' key to have splits drawn" if card else "")
        )
    return graph


def _train_seeds(
    args: argparse.Namespace, features: Any, model: Any, train: Any, loaded: Any = None
) -> int:
    """``mmgraph train --seeds A B ...``: one run per seed, mean ± std."""
    from mmgraph.tasks.node_classification import train_node_classifier_seeds

    if len(set(args.seeds)) != len(args.seeds):
        args.parser.error(f"argument --seeds: give distinct seeds (got {args.seeds})")
    metrics = train_node_classifier_seeds(
        data_spec(args),
        features,
        model,
        train,
        seeds=args.seeds,
        out=args.out,
        progress=not args.quiet,
        pretrain_epochs=args.pretrain_epochs,
        overwrite=args.overwrite,
        split_per_seed=args.split_seed is None,
        loaded=loaded,
    )
    _report_seeds(args, metrics)
    return 0


def _report_seeds(args: argparse.Namespace, metrics: dict[str, Any]) -> None:
    """Print a multi-seed run's mean ± std per split and the designs chosen per seed."""
    from mmgraph.distributed import is_main_process
    from mmgraph.tasks.node_classification import describe_design
    from mmgraph.tasks.report import format_table

    if "test" not in metrics:
        warn_no_test(args)
    if is_main_process():
        columns = list(SEEDS_COLUMNS)
        rows = []
        for split in ("val", "test"):
            if split in metrics:
                values = metrics[split]
                row: dict[str, Any] = {"split": split}
                for key in columns:
                    mean, std = values.get(key), values.get(f"{key}_std")
                    row[key] = "-" if mean is None else f"{mean:.3f} ± {std:.3f}"
                rows.append(row)
        chosen = [
            next(describe_design(c["options"]) for c in s if c["chosen"])
            for s in metrics.get("selection", [])
            if s
        ]
        if chosen:
            counts = ", ".join(f"{d} ({chosen.count(d)}×)" for d in dict.fromkeys(chosen))
            print(f"designs chosen on validation accuracy, per seed: {counts}")
        seeds = [int(seed) for seed in metrics["seed_list"]]
        print(f"{len(seeds)} seeds {' '.join(map(str, seeds))} (mean ± std):")
        print(format_table(rows, ["split", *columns]))
        print(f"runs written to {args.out} (seed-K/ run folders, metrics.json)")


def node_options(args: argparse.Namespace) -> tuple[Any, dict[str, Any], Any]:
    """The ``FeatureConfig``, model options and ``TrainConfig`` of ``train``'s options.

    One translation serves the command line and ``mmgraph tune``
    (:func:`mmgraph.tune.options.node_run`).
    """
    from mmgraph.tune.options import OPTIONS, node_run

    given = {k: v for k, v in vars(args).items() if k in OPTIONS["node"]}
    run = node_run(given, progress=not args.quiet)
    return run.features, run.model, run.train


def changed_options(args: argparse.Namespace, ignore: set[str]) -> list[str]:
    """The options given with a value other than their default (as ``--name``)."""
    parser: argparse.ArgumentParser = args.parser
    out = []
    for action in parser._actions:
        dest = action.dest
        if dest in ignore or dest in ("help", "handler", "parser") or not action.option_strings:
            continue
        if getattr(args, dest, None) != parser.get_default(dest):
            out.append(action.option_strings[-1])
    return out


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``mmgraph evaluate``."""
    from mmgraph.tasks import evaluate_run
    from mmgraph.tasks.report import format_split_metrics

    metrics = evaluate_run(
        args.run, progress=not args.quiet, out=args.out, overwrite=args.overwrite
    )
    print(format_split_metrics(metrics))
    if args.out:
        print(f"metrics written to {args.out}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``mmgraph predict``."""
    from mmgraph.tasks import predict_run

    data = data_spec(args) if args.data else None
    path = predict_run(
        args.run,
        args.out,
        data=data,
        progress=not args.quiet,
        overwrite=args.overwrite,
        on_image_error=args.on_image_error,
    )
    print(f"predictions written to {path}")
    return 0
