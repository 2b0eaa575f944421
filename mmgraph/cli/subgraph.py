"""Subgraph embedding: ``subgraph train`` and ``subgraph generate``."""

from __future__ import annotations

import argparse
from typing import Any

from mmgraph.cli.commands import command_help
from mmgraph.cli.common import (
    SUBGRAPH_COLUMNS,
    add_data,
    add_features,
    add_lr_schedule,
    add_overwrite,
    add_quiet,
    has_modality,
    refuse_feature_flags_without_modality,
    refuse_gamma_without_step,
)
from mmgraph.cli.config import add_config
from mmgraph.cli.types import (
    dimension,
    layer_count,
    non_negative_float,
    non_negative_int,
    or_auto,
    positive_float,
    positive_int,
    probability,
    unit_interval,
)
from mmgraph.names import (
    AGGREGATORS,
    GLASS_AGGREGATORS,
    HEAD_FITS,
    ID_DROPOUT,
    NODE_INPUTS,
    SUBGRAPH_NORMS,
    SYNTHETIC_TASKS,
)

METHOD_NAMES = ("glass", "pool", "sub2vec")
SUBGRAPH_AGGREGATOR_NAMES = tuple(dict.fromkeys(("auto", *GLASS_AGGREGATORS, *AGGREGATORS)))
INPUT_NAMES = NODE_INPUTS
POOL_NAMES = ("mean", "sum", "max", "size", "attention")


def register(sub: Any) -> None:
    """Add ``subgraph train`` and ``subgraph generate``."""
    p = sub.add_parser(
        "subgraph",
        help=command_help("subgraph"),
        description="Embed and classify node sets of a graph (SubGNN folders) or whole graphs "
        "(TU folders).",
    )
    commands = p.add_subparsers(dest="subcommand", required=True)

    t = commands.add_parser(
        "train",
        help="train a subgraph classifier and write its metrics and embeddings",
        description="Train GLASS, a pooling GNN or Sub2Vec on a SubGNN folder (edge_list.txt, "
        "subgraphs.pth), a TU folder (<NAME>.txt, 10fold_idx/) or a built-in name (density, "
        "component, mutag, ptc, enzymes, imdb-multi). Prints micro-F1 per split (TU: mean and "
        "std over the 10 folds, with accuracy) and writes metrics.json, embeddings.npy and "
        "config.yaml to --out. A SubGNN file whose labels join other labels with '-' (HPO-NEURO) "
        "is multi-label: binary cross-entropy per label, a label predicted where its "
        "probability passes 0.5, micro-F1 over all labels (accuracy: every label right). "
        "The defaults shown are those of subgraphs; whole graphs (TU) start from a pooling GIN "
        "instead (--method pool --aggregator gin --hidden 32 --layers 4 --pool mean --jk "
        "--dropout 0 --batch-size 32 --epochs 300 --lr 0.01 --lr-step-size 50 --monitor "
        "loss --norm batch, no early stopping) for the options not given, and where the "
        "nodes carry nothing but structure (no features, one tag at most, as IMDB-MULTI) "
        "--node-input degree. On a set larger "
        "than IMDB-MULTI (counting nodes, an eighth of the edges and 2,000 a batch) the "
        "default epochs shrink so a fold trains about as long as IMDB-MULTI's 300, and the "
        "step with them.",
    )
    add_data(t, required=False, tweets=False)  # checked in cmd_train: --config may give it
    add_config(t)
    t.add_argument("--method", choices=METHOD_NAMES, default="glass", help="(default: glass)")
    g = t.add_argument_group("model")
    g.add_argument(
        "--node-input",
        choices=INPUT_NAMES,
        default="auto",
        help="what nodes start from; auto: multimodal features, else attributes, else x; "
        "subgraphs of a graph of edges alone: a constant (the subgraph's shape) and a learned "
        "vector per node started from a node2vec embedding of the graph (node2vec: where it "
        "lies) both trained, the better on validation kept; id: learned vectors drawn at "
        "random (default: auto)",
    )
    g.add_argument("--hidden", type=dimension, default=32, help="embedding size (default: 32)")
    g.add_argument(
        "--layers",
        type=or_auto(layer_count),
        default="auto",
        help="message passing layers; auto: 1, and the kept input and pooling trained again "
        "with 2, kept if better on validation (whole graphs: 4) (default: auto)",
    )
    g.add_argument(
        "--pool",
        choices=("auto", *POOL_NAMES),
        default="auto",
        help="pooling of the subgraph's nodes; auto: mean and sum are both trained and the "
        "better on validation kept (folds: on a tenth of each fold's training graphs) "
        "(default: auto; whole graphs: mean)",
    )
    g.add_argument(
        "--aggregator",
        choices=SUBGRAPH_AGGREGATOR_NAMES,
        default="auto",
        help="how nodes aggregate their neighbours: glass takes sum, mean or gcn; pool takes "
        "mean, gcn, ggnn or gin (gin sums neighbours: molecules); auto: sum for glass, mean "
        "for pool (default: auto)",
    )
    g.add_argument(  # the earlier name of GLASS's aggregation
        "--aggr",
        dest="aggregator",
        choices=GLASS_AGGREGATORS,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )
    g.add_argument(
        "--z-ratio", type=unit_interval, default=1.0, help="GLASS mixing ratio (default: 1)"
    )
    g.add_argument(
        "--dropout",
        type=or_auto(probability),
        default="auto",
        help=f"dropout in the layers; auto: {ID_DROPOUT} on learned node ids (--node-input id "
        "or node2vec, or auto choosing them), else 0 (whole graphs: 0) (default: auto)",
    )
    g.add_argument(
        "--jk",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="pool every layer and concatenate (default: no; whole graphs: yes)",
    )
    g.add_argument(
        "--head-layers", type=layer_count, default=1, help="MLP head layers (default: 1)"
    )
    g.add_argument(
        "--head-dropout",
        type=probability,
        default=0.0,
        help="dropout on the subgraph embeddings before the head (default: 0)",
    )
    g.add_argument(
        "--head-fit",
        choices=HEAD_FITS,
        default="auto",
        help="trained: the head as trained; refit: its last layer refit after training by a "
        "logistic regression on the training subgraphs' embeddings, regularisation chosen "
        "by cross-validation on them; auto: glass refits and keeps the refit unless the "
        "trained head scores better on validation, pool keeps the trained head; multi-label "
        "data keep the trained head (default: auto)",
    )
    g.add_argument(
        "--norm",
        choices=SUBGRAPH_NORMS,
        default="frozen",
        help="batch norms in the layers with batch statistics; frozen: the same, with their "
        "running statistics from the epoch after the first quarter on; or none (default: "
        "frozen; whole graphs: batch)",
    )
    g.add_argument(
        "--split-messages",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="glass: aggregate the messages of the subgraph's nodes and of the others "
        "apart (default: no)",
    )
    s = t.add_argument_group("sub2vec")
    s.add_argument(
        "--tokens", choices=("degree", "node"), default="degree", help="(default: degree)"
    )
    s.add_argument("--sub2vec-mode", choices=("dbow", "dm"), default="dbow", help="(default: dbow)")
    s.add_argument("--walk-length", type=positive_int, default=20, help="(default: 20)")
    s.add_argument("--walks-per-node", type=positive_int, default=2, help="(default: 2)")
    r = t.add_argument_group("training")
    r.add_argument("--epochs", type=positive_int, default=100, help="(default: 100)")
    r.add_argument("--lr", type=positive_float, default=0.005, help="(default: 0.005)")
    r.add_argument("--weight-decay", type=non_negative_float, default=0.0, help="(default: 0)")
    add_lr_schedule(r)
    r.add_argument(
        "--patience",
        type=positive_int,
        default=None,
        help="stop after this many epochs without a better validation score (without a "
        "validation split, as in TU folds: training loss) (default: none, every epoch runs "
        "and the best one is kept)",
    )
    r.add_argument(
        "--monitor",
        default="loss",
        help="validation metric that picks the epoch kept (default: loss; without a "
        "validation split the lowest training loss is kept)",
    )
    r.add_argument(
        "--batch-size", type=positive_int, default=16, help="subgraphs per batch (default: 16)"
    )
    r.add_argument(
        "--no-class-weights",
        action="store_true",
        help="do not weight the loss by class (multi-label: each label's positives by its "
        "negatives over its positives)",
    )
    r.add_argument("--seed", type=non_negative_int, default=0, help="(default: 0)")
    r.add_argument(
        "--repeats",
        type=layer_count,
        default=1,
        help="runs with seeds seed..seed+R-1 (default: 1)",
    )
    add_quiet(r)
    add_features(t)
    t.add_argument("--out", required=True, help="folder for metrics.json and embeddings.npy")
    add_overwrite(
        t, "replace an existing --out folder (the old one stays until the new one completes)"
    )
    t.set_defaults(handler=cmd_train)

    gen = commands.add_parser(
        "generate",
        help="generate a synthetic subgraph task as a SubGNN folder",
        description="Write edge_list.txt and subgraphs.pth of a fresh, seeded instance of "
        "SubGNN's density, cut_ratio, coreness or component task, or of mmgraph's position "
        "task (the label is the class of the region of the base graph a subgraph lies in) "
        "or position_multilabel (subgraphs grown from 1-3 seeds; the labels are the classes "
        "of the regions holding a quarter of a subgraph's nodes, joined by '-' as SubGNN's "
        "HPO-NEURO lists them).",
    )
    gen.add_argument(
        "--task",
        type=lambda name: name.strip().lower().replace("-", "_"),
        choices=SYNTHETIC_TASKS,
        required=True,
        help=f"one of {', '.join(SYNTHETIC_TASKS)} ('-' may stand for '_')",
    )
    gen.add_argument(
        "--nodes",
        type=positive_int,
        default=None,
        help="base graph nodes (task default; not for the position tasks, whose graph is 30 "
        "blocks of 150 nodes)",
    )
    gen.add_argument(
        "--subgraphs",
        type=positive_int,
        default=None,
        help="subgraphs (coreness: at most this many per core number, fewer where a core "
        "number runs out of nodes; task default)",
    )
    gen.add_argument("--seed", type=non_negative_int, default=0, help="(default: 0)")
    gen.add_argument("--out", required=True, help="folder to write")
    add_overwrite(gen, "replace an existing --out folder")
    gen.set_defaults(handler=cmd_generate)


def cmd_train(args: argparse.Namespace) -> int:
    """``mmgraph subgraph train``."""
    from mmgraph.subgraph.inputs import check_node_input
    from mmgraph.tasks.report import format_table
    from mmgraph.tasks.subgraph import (
        DEEPEN_WORK,
        EMBEDDINGS,
        INNER_VALIDATION,
        METRICS,
        check_method_options,
        depth_over_limit,
        load_subgraph_dataset,
        run_subgraph_task,
    )

    if not args.data:
        args.parser.error("the following arguments are required: --data")
    from mmgraph.cli.config import explicit_options
    from mmgraph.errors import InputError
    from mmgraph.tune.options import (
        OPTIONS,
        WHOLE_GRAPH_DEFAULTS,
        subgraph_run,
        whole_graph_defaults,
    )

    flags = explicit_options(args.parser, args.argv)
    dataset = load_subgraph_dataset(args.data, root=args.root)
    whole = bool(dataset.whole_graphs)
    # Whole graphs have defaults of their own: the options not given keep them.
    explicit: set[str] = set()
    own: dict[str, object] = {}
    if whole:
        explicit = flags | getattr(args, "config_keys", set())
        own = whole_graph_defaults(dataset.graph)
    given = {
        k: v
        for k, v in vars(args).items()
        if k in OPTIONS["subgraph"] and (k not in own or k in explicit)
    }
    run = subgraph_run(given, progress=not args.quiet, whole_graphs=whole, dataset=dataset)
    # Flags the method would ignore are refused (a config file's keys are not: a run
    # folder's config.yaml holds every option of every method).
    check_method_options(run.config.method, flags)
    val_mask = getattr(dataset, "val_mask", None)
    if "monitor" in flags and (val_mask is None or not bool(val_mask.any())):
        raise InputError(
            f"{dataset.name or 'The data set'} has no validation split (TU folds: train and "
            "test): each run keeps the epoch of lowest training loss (--patience stops on it "
            "too), so --monitor would change nothing: drop it"
        )
    check_node_input(run.config.node_input, dataset.graph)  # before any fold starts
    one_layer = run.config.num_layers == 1 and run.config.method == "glass"
    if "jk" in flags and run.config.jk and one_layer:  # (pool's also concatenates its input)
        raise InputError(
            "--jk concatenates the pooled outputs of GLASS's layers, and --layers 1 has one: "
            "it would change nothing. Give --layers 2 or more (or auto), or drop --jk"
        )
    refuse_gamma_without_step(args, flags, run.train.lr_step_size)
    # SubGNN and TU folders have no text or images: the feature flags would change nothing
    refuse_feature_flags_without_modality(args, flags, dataset.graph)
    unread = [
        flag
        for flag, kinds in (("on_image_error", ("image",)), ("cache_dir", ("text", "image")))
        if flag in flags and not any(has_modality(dataset.graph, k) for k in kinds)
    ]
    if unread:
        names = " and ".join(f"--{k.replace('_', '-')}" for k in unread)
        what = "images" if unread == ["on_image_error"] else "texts or images"
        one = len(unread) == 1
        raise InputError(
            f"{names} would change nothing: {dataset.name or 'the data set'} has no {what} "
            f"(--on-image-error handles images that do not decode, --cache-dir keeps encoded "
            f"texts and images). Drop {'it' if one else 'them'}"
        )
    if whole and "epochs" not in given and run.train.epochs < WHOLE_GRAPH_DEFAULTS["epochs"]:
        print(
            f"{dataset.name}: {run.train.epochs} epochs a fold rather than "
            f"{WHOLE_GRAPH_DEFAULTS['epochs']}, learning rate halved every "
            f"{run.train.lr_step_size} (a large set: {dataset.graph.num_nodes:,} nodes, "
            f"{dataset.graph.edge_index.size(1):,} edges); --epochs sets them"
        )
    # what these graphs' own defaults change (nodes of structure alone), where not given
    structure = {
        k: v
        for k, v in own.items()
        if (k not in WHOLE_GRAPH_DEFAULTS or WHOLE_GRAPH_DEFAULTS[k] != v) and k not in given
    }
    if structure:
        flags_shown = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in structure.items())
        print(
            f"{dataset.name}: the nodes carry nothing but structure (no features, one tag "
            f"at most), so {flags_shown} (the flags set them)"
        )
    config, train, features, seeds, source = (
        run.config,
        run.train,
        run.features,
        run.seeds,
        run.source,
    )
    metrics = run_subgraph_task(
        dataset,
        config,
        train,
        seeds=seeds,
        out=args.out,
        features=features,
        progress=not args.quiet,
        source=source,
        overwrite=args.overwrite,
        echo=lambda line: print(line, flush=True),
    )
    folds = len(dataset.folds) if dataset.folds and dataset.train_mask is None else 0
    if folds:
        what = f"{folds}-fold cross-validation"
    elif dataset.train_mask is None:  # none of its own: drawn per seed
        what = "a seeded stratified 80/10/10 split"
    else:
        what = "its split"
    runs = f", {len(seeds)} seeds" if len(seeds) > 1 else ""
    items = "graphs" if whole else "subgraphs"
    labels = f", {dataset.num_classes} labels, several a subgraph" if dataset.multi_label else ""
    print(f"{config.method} on {dataset.name} ({len(dataset)} {items}{labels}, {what}{runs})")
    chosen = chosen_candidates(metrics)
    if chosen:
        counts = ", ".join(f"{c} ({chosen.count(c)}×)" for c in dict.fromkeys(chosen))
        parts = ["input"] if any(" input, " in c for c in chosen) else []
        parts += ["pooling"] + (["depth"] if any(" layer" in c for c in chosen) else [])
        what = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
        on = "micro-F1" if dataset.multi_label else "accuracy"
        if inner_validation(metrics):  # no validation split: a part of the training ones
            on += f" (of {INNER_VALIDATION:.0%} of the training {items}, held out)"
        print(f"{what} chosen on validation {on}, per run: {counts}")
    work = depth_over_limit(dataset, config)
    if work is not None:
        print(
            f"one layer, two not tried: the subgraphs' nodes have {work:,} "
            f"in-edges, above {DEEPEN_WORK:,}, and a second layer would compute a row for "
            "each of them every epoch (--layers 2 trains two)"
        )
    refits = head_refits(metrics)
    if (
        not refits
        and config.method == "glass"
        and config.head_fit != "trained"
        and (dataset.multi_label)
    ):
        print(
            "the trained head kept, not refit: the refit (a logistic regression) fits one "
            "class per subgraph, and these subgraphs have several labels"
        )
    if refits:
        done = [r for r in refits if r["refit"] and r["kept"]]
        cs = ", ".join(
            f"{c:g} ({[r['C'] for r in done].count(c)}×)"
            for c in dict.fromkeys(r["C"] for r in done)
        )
        trained = len(refits) - len(done)
        print(
            f"head refit on the training {'graphs' if whole else 'subgraphs'} (C by "
            f"cross-validation on them), per run: {cs or 'none'}"
            + (
                f"; the trained head kept in {trained} (see metrics.json: head_refit)"
                if trained
                else ""
            )
        )
    columns = list(SUBGRAPH_COLUMNS)
    rows = []
    for split in ("train", "val", "test"):
        if split in metrics:
            row: dict[str, Any] = {"split": split}
            for key in columns:
                mean = metrics[split].get(key)
                std = metrics[split].get(f"{key}_std")
                row[key] = f"{mean:.3f}" if std is None else f"{mean:.3f} ± {std:.3f}"
            rows.append(row)
    print(format_table(rows, ["split", *columns]))
    print(f"written to {args.out}: {METRICS}, {EMBEDDINGS}, config.yaml")
    if "test" not in metrics:  # as node `train` says of a split without test nodes
        import warnings

        warnings.warn(
            f"--data {args.data}: no labelled subgraph lies in the test split, so only "
            "validation metrics are reported, on the subgraphs that chose the model; give "
            "some subgraphs the split 'test'",
            UserWarning,
            stacklevel=2,
        )
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    """``mmgraph subgraph generate``."""
    from mmgraph.data.synthetic_subgraphs import make_synthetic_subgraphs, save_subgnn
    from mmgraph.tasks.run_folder import RunFolder

    if args.task.startswith("position") and args.nodes is not None:
        args.parser.error(
            f"argument --nodes: not for --task {args.task} (its base graph is 30 blocks of "
            "150 nodes); call its function in mmgraph.data.synthetic_subgraphs (make_"
            f"{args.task}) for other sizes"
        )
    run = RunFolder(
        args.out, overwrite=args.overwrite, resumable=False, kind="subgraph generate"
    ).check()
    options: dict[str, Any] = {}
    if args.nodes is not None:
        options["num_nodes"] = args.nodes
    if args.subgraphs is not None:
        key = "subgraphs_per_core" if args.task == "coreness" else "num_subgraphs"
        options[key] = args.subgraphs
    dataset = make_synthetic_subgraphs(args.task, seed=args.seed, **options)
    with run.transaction() as staging:
        save_subgnn(dataset, staging)
    folder = run.final
    summary = dataset.summary()["labels"]
    counts = [summary[name] for name in dataset.class_names or []]
    print(
        f"{args.task}: {dataset.graph.num_nodes} nodes, {dataset.graph.edge_index.size(1) // 2} "
        f"edges, {len(dataset)} subgraph{'s' * (len(dataset) != 1)}, "
        f"classes {dict(zip(dataset.class_names or [], counts))}"
    )
    print(f"written to {folder} (edge_list.txt, subgraphs.pth)")
    _warn_of_few_subgraphs(dataset, args)
    return 0


def _warn_of_few_subgraphs(dataset: Any, args: argparse.Namespace) -> None:
    """Warn when a generated split holds fewer than ``SMALL_SPLIT`` subgraphs."""
    import warnings

    from mmgraph.tasks.subgraph import SMALL_SPLIT

    sizes = {
        which: int(getattr(dataset, f"{which}_mask").sum()) for which in ("train", "val", "test")
    }
    small = [f"{which} {count}" for which, count in sizes.items() if count < SMALL_SPLIT]
    if small:
        more = (
            "--nodes (coreness draws at most --subgraphs on each core number with enough nodes)"
            if args.task == "coreness"
            else "--subgraphs or --nodes"
        )
        warnings.warn(
            f"{len(dataset)} subgraph{'s' if len(dataset) != 1 else ''}, too few to train "
            "and score on (subgraphs per split: "
            f"{', '.join(small)}; a split of under {SMALL_SPLIT} says little and `subgraph "
            f"train` needs two classes in training). Raise {more}",
            UserWarning,
            stacklevel=2,
        )


def head_refits(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """The head refit record of each run (seed, fold) of ``metrics`` (``head_fit="refit"``)."""
    out = []
    for run in metrics.get("seeds") or [metrics]:
        record = run.get("head_refit")
        out += record if isinstance(record, list) else [record] if record else []
    return out


def _selections(metrics: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Each run's (seed's, fold's) records of the candidates it chose between."""
    folds: list[list[dict[str, Any]]] = []
    for run in metrics.get("seeds") or [metrics]:
        selection = run.get("selection") or []
        folds += selection if selection and isinstance(selection[0], list) else [selection]
    return folds


def inner_validation(metrics: dict[str, Any]) -> bool:
    """Whether the runs chose on a held-out part of their training subgraphs."""
    return any(s.get("inner_validation") for fold in _selections(metrics) for s in fold)


def chosen_candidates(metrics: dict[str, Any]) -> list[str]:
    """What ``pool="auto"`` (``node_input``, ``num_layers``) kept in each run (seed, fold).

    The pooling, e.g. ``"mean"``; ``"id input, mean pooling"`` where a run chose between
    node inputs too, and ``", 2 layers"`` after it where a run chose a depth (every run is
    described alike).
    """
    folds = _selections(metrics)
    inputs = any(len({s["node_input"] for s in fold}) > 1 for fold in folds)
    depths = any(len({s.get("layers") for s in fold}) > 1 for fold in folds)
    out = []
    for s in (s for fold in folds for s in fold if s["chosen"]):
        what = f"{s['node_input']} input, {s['pool']} pooling" if inputs else s["pool"]
        if depths:
            what = f"{what}{'' if inputs else ' pooling'}, {s['layers']} layer"
            what += "s" if s["layers"] != 1 else ""
        out.append(what)
    return out
