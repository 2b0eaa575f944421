"""Node classification: ``demo``, ``train``, ``evaluate``, ``predict``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mmgraph.cli.common import (
    add_data,
    add_features,
    add_model,
    add_training,
    data_spec,
    head_and_scaling_options,
    none_or,
)
from mmgraph.distributed import is_main_process
from mmgraph.models.features import DEFAULT_TEXT_ENCODER


def register(sub: Any) -> None:
    """Add ``demo``, ``train``, ``evaluate`` and ``predict``."""
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
    add_data(p)
    add_features(p)
    add_model(p)
    add_training(p)
    p.add_argument("--out", required=True, help="run folder, e.g. runs/NAME")
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a trained run on its data")
    p.add_argument("--run", required=True, help="run folder written by `train`")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=cmd_evaluate)

    p = sub.add_parser("predict", help="predict classes with a trained run")
    p.add_argument("--run", required=True, help="run folder written by `train`")
    p.add_argument("--out", required=True, help="CSV file to write")
    add_data(p, required=False)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=cmd_predict)


def cmd_demo(args: argparse.Namespace) -> int:
    """``mmgraph demo``."""
    from mmgraph.tasks.demo import COLUMNS, DEMO_SETTINGS, run_demo
    from mmgraph.tasks.report import format_table

    print(f"mmgraph demo: bot detection on the synthetic social graph ({args.nodes} accounts)")
    rows: list[dict[str, Any]] = []
    width = max(len(name) for name, *_ in DEMO_SETTINGS)

    def on_row(row: dict[str, Any]) -> None:
        # Rows print as they finish: pad the names so that the columns line up.
        rows.append({**row, "setting": row["setting"].ljust(width)})
        lines = [line.rstrip() for line in format_table(rows, COLUMNS).splitlines()]
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
        text_encoder=none_or(args.text_encoder),
        image_encoder=none_or(args.image_encoder),
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
        **head_and_scaling_options(args),
    }
    if args.modalities:
        model["modalities"] = list(args.modalities)
    if args.coordination:
        model.update(
            coordination=args.coordination,
            coordination_weight=args.coordination_weight,
            coordination_dim=args.coordination_dim,
        )
    train = TrainConfig(
        epochs=args.epochs,
        lr=args.lr,
        lr_step_size=args.lr_step_size,
        lr_gamma=args.lr_gamma,
        weight_decay=args.weight_decay,
        patience=args.patience,
        monitor=args.monitor,
        class_weights=not args.no_class_weights,
        seed=args.seed,
        progress=not args.quiet,
        batch_size=args.batch_size,
        fanouts=args.fanouts,
    )
    result = train_node_classifier(
        data_spec(args),
        features,
        model,
        train,
        out=args.out,
        progress=not args.quiet,
        pretrain_epochs=args.pretrain_epochs,
    )
    if is_main_process():
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

    data = data_spec(args) if args.data else None
    path = predict_run(args.run, args.out, data=data, progress=not args.quiet)
    print(f"predictions written to {path}")
    return 0
