"""Embeddings and clustering: ``embed`` and ``cluster``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from mmgraph.cli.commands import command_help
from mmgraph.cli.common import (
    add_config,
    add_data,
    add_features,
    add_model,
    add_overwrite,
    add_quiet,
    data_spec,
    dimension,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    refuse_unread_modality_flags,
)
from mmgraph.cli.config import explicit_options
from mmgraph.errors import InputError, as_flag
from mmgraph.names import GNN_WALK_COUNTS, NEGATIVE_DISTRIBUTIONS, SHALLOW_WALK_COUNTS

OBJECTIVES = ("node2vec",)
DISTRIBUTIONS = NEGATIVE_DISTRIBUTIONS
METHODS = ("kmeans", "spectral", "agglomerative")


def register(sub: Any) -> None:
    """Add ``embed`` and ``cluster``."""
    p = sub.add_parser(
        "embed",
        help=command_help("embed"),
        description="Write node embeddings to a .npy file: with --run, those of a trained "
        "run; with --data alone (--objective node2vec), learnt without labels, either as "
        "shallow embedding tables (--encoder shallow, the edges alone) or by a "
        "MultimodalGNN over the node features (--encoder gnn, which embeds unseen nodes "
        "too; --save-run keeps it).",
    )
    p.add_argument("--run", default=None, help="run folder written by `train`")
    p.add_argument("--out", required=True, help=".npy file to write (exactly this name)")
    add_overwrite(p, "replace an existing --out file or --save-run folder")
    add_data(p, required=False)
    add_config(p)
    p.add_argument(
        "--objective",
        choices=OBJECTIVES,
        default=None,
        help=f"learn embeddings (default with --data and no --run: {OBJECTIVES[0]})",
    )
    p.add_argument(
        "--encoder",
        choices=("shallow", "gnn"),
        default="shallow",
        help="shallow tables or a MultimodalGNN (default: shallow)",
    )
    group = p.add_argument_group("node2vec")
    group.add_argument(
        "--dim",
        type=dimension,
        default=128,
        help="shallow embedding size (default: 128; gnn: --hidden)",
    )
    group.add_argument(
        "--walk-length",
        type=positive_int,
        default=None,
        help=f"(default: {SHALLOW_WALK_COUNTS['walk_length']}; "
        f"gnn: {GNN_WALK_COUNTS['walk_length']})",
    )
    group.add_argument(
        "--context-size",
        type=positive_int,
        default=None,
        help=f"(default: {SHALLOW_WALK_COUNTS['context_size']}; "
        f"gnn: {GNN_WALK_COUNTS['context_size']})",
    )
    group.add_argument(
        "--walks-per-node",
        type=positive_int,
        default=None,
        help=f"(default: {SHALLOW_WALK_COUNTS['walks_per_node']}; "
        f"gnn: {GNN_WALK_COUNTS['walks_per_node']})",
    )
    group.add_argument(
        "--negatives",
        type=positive_int,
        default=None,
        help=f"per pair (default: {SHALLOW_WALK_COUNTS['num_negatives']})",
    )
    group.add_argument(
        "--negative-distribution",
        choices=DISTRIBUTIONS,
        default="uniform",
        help="uniform, or unigram (degree^0.75) (default: uniform)",
    )
    group.add_argument(
        "--p", type=positive_float, default=1.0, help="return parameter (default: 1)"
    )
    group.add_argument(
        "--q", type=positive_float, default=1.0, help="in-out parameter (default: 1)"
    )
    group.add_argument(
        "--temperature",
        type=positive_float,
        default=1.0,
        help="gnn: of the cosine scores (default: 1)",
    )
    group.add_argument(
        "--dot", action="store_true", help="gnn: score dot products instead of cosines"
    )
    group.add_argument("--epochs", type=positive_int, default=None, help="(default: 5; gnn: 100)")
    group.add_argument(
        "--batch-size",
        type=positive_int,
        default=128,
        help="shallow: start nodes per step (default: 128)",
    )
    group.add_argument("--lr", type=positive_float, default=0.01, help="(default: 0.01)")
    group.add_argument(
        "--weight-decay",
        type=non_negative_float,
        default=0.0,
        help="gnn: AdamW weight decay (default: 0)",
    )
    group.add_argument("--seed", type=non_negative_int, default=0, help="(default: 0)")
    add_features(p)
    add_model(p, task="unsupervised")
    p.set_defaults(dropout=0.0)
    p.add_argument(
        "--save-run",
        default=None,
        metavar="DIR",
        help="gnn: write the trained model as a run folder (`embed --run DIR` embeds new data)",
    )
    add_quiet(p)
    p.set_defaults(handler=cmd_embed)

    p = sub.add_parser(
        "cluster",
        help=command_help("cluster"),
        description="Cluster node embeddings (a .npy file from `embed`), or the subgraph "
        "embeddings of `subgraph train` with --data their subgraph folder, print NMI, ARI, "
        "clustering accuracy (against the labels of --data, if any), silhouette and "
        "modularity (nodes only), and write assignments.csv, metrics.json and tsne.png to "
        "--out.",
    )
    p.add_argument(
        "--embeddings",
        required=True,
        help=".npy file written by `embed` (or `subgraph train`'s embeddings.npy)",
    )
    add_data(p, required=False, tweets=False)
    p.add_argument(
        "--k",
        type=positive_int,
        default=None,
        help="number of clusters (default: number of classes)",
    )
    p.add_argument("--method", choices=METHODS, default="kmeans", help="(default: kmeans)")
    p.add_argument(
        "--fold",
        type=positive_int,
        default=None,
        help="the fold (from 1) of a `subgraph train` run over cross-validation folds, whose "
        "embeddings.npy holds one array per fold",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="(default: 0)")
    p.add_argument("--out", required=True, help="folder for the assignments, metrics and plot")
    add_overwrite(p, "replace an existing --out folder")
    p.add_argument("--no-plot", action="store_true", help="skip the t-SNE plot")
    p.set_defaults(handler=cmd_cluster)


_EMBED_ALWAYS = frozenset(
    {"run", "out", "overwrite", "data", "root", "config", "objective", "quiet", "debug", "verbose"}
)
_NODE2VEC = frozenset(
    {
        "encoder",
        "walk_length",
        "context_size",
        "walks_per_node",
        "negatives",
        "negative_distribution",
        "p",
        "q",
        "epochs",
        "lr",
        "seed",
    }
)
_SHALLOW_ONLY = frozenset({"dim", "batch_size"})
"""The options of ``mmgraph embed`` each way of embedding reads: every one (``_EMBED_ALWAYS``),
node2vec with either encoder, and the shallow tables alone; the GNN encoder reads the rest
(its model, features and cosine scores)."""


def _refuse_unread(args: argparse.Namespace, read: Callable[[str], bool], what: str) -> set[str]:
    """Refuse the flags given on the command line that ``what`` would not read; the given."""
    own = {a.dest for a in args.parser._actions if a.option_strings and a.dest != "help"}
    given = explicit_options(args.parser, args.argv) & own
    unread = sorted(k for k in given if not read(k))
    if unread:
        flags = ", ".join(map(as_flag, unread))
        one = len(unread) == 1
        raise InputError(
            f"{what} does not read {flags}, which would change nothing: drop "
            f"{'it' if one else 'them'}"
        )
    return given


def cmd_embed(args: argparse.Namespace) -> int:
    """``mmgraph embed``."""
    if args.objective is None and args.run is None and args.data:
        args.objective = OBJECTIVES[0]  # the data alone: learn them without labels
    if args.objective is None:
        if args.run is None:
            raise ValueError(
                "`mmgraph embed` needs --run (a trained run folder) or --data (embeddings "
                "learnt with node2vec)"
            )
        given = _refuse_unread(
            args,
            lambda k: k in _EMBED_ALWAYS or k == "on_image_error",
            "`embed --run` (the run's own trained model)",
        )
        from mmgraph.tasks import embed_run

        data = data_spec(args) if args.data else None
        path, emb = embed_run(
            args.run,
            args.out,
            data=data,
            progress=not args.quiet,
            overwrite=args.overwrite,
            on_image_error=args.on_image_error if "on_image_error" in given else None,
        )
        print(f"embeddings {list(emb.shape)} written to {path}")
        return 0
    if args.run is not None:
        raise ValueError("Pass either --run (embed with a trained run) or --objective, not both")
    if not args.data:
        raise ValueError("`mmgraph embed --objective node2vec` needs --data")
    if args.save_run is not None and args.encoder != "gnn":
        raise ValueError("--save-run keeps a trained GNN: use it with --encoder gnn")
    if args.encoder == "shallow":
        _refuse_unread(
            args,
            lambda k: k in _EMBED_ALWAYS | _NODE2VEC | _SHALLOW_ONLY,
            "node2vec with the shallow encoder (a table of node vectors; --encoder gnn "
            "reads the model, feature and score flags)",
        )
    else:
        _refuse_unread(
            args,
            lambda k: k not in _SHALLOW_ONLY,
            "node2vec with the GNN encoder (its size is --hidden; --batch-size is the "
            "shallow encoder's)",
        )
    from mmgraph.tasks.unsupervised import node2vec_embeddings

    if (
        args.walk_length is not None
        and args.context_size is not None
        and args.context_size > args.walk_length
    ):
        args.parser.error(
            f"argument --context-size: {args.context_size} is longer than --walk-length "
            f"{args.walk_length}; give a context size <= the walk length"
        )
    from mmgraph.tune.options import OPTIONS
    from mmgraph.tune.options import embed_run as embed_options

    progress = not args.quiet
    # what `tune` trains with the same options (its best.yaml reproduces through here)
    run = embed_options(
        {k: v for k, v in vars(args).items() if k in OPTIONS["unsupervised"]}, progress
    )
    if args.encoder == "gnn":
        refuse_unread_modality_flags(args, explicit_options(args.parser, args.argv))
    result = node2vec_embeddings(
        data_spec(args),
        run.encoder,
        run.node2vec,
        features=run.features,
        model_options=run.model,
        train=run.train,
        out=args.out,
        run_dir=args.save_run,
        progress=progress,
        overwrite=args.overwrite,
    )
    loss = result.history[-1]["train_loss"] if result.history else float("nan")
    print(
        f"node2vec ({args.encoder}): {len(result.history)} epochs, final loss {loss:.4f}; "
        f"embeddings {list(result.embeddings.shape)} written to {result.path}"
    )
    if args.save_run is not None:
        print(f"run written to {args.save_run} (`mmgraph embed --run {args.save_run}` reuses it)")
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    """``mmgraph cluster``."""
    from mmgraph.eval import CLUSTERING_KEYS
    from mmgraph.tasks.report import format_table
    from mmgraph.tasks.unsupervised import cluster_nodes

    given = explicit_options(args.parser, args.argv)
    if "seed" in given and args.method == "agglomerative" and args.no_plot:
        args.parser.error(
            "--seed seeds k-means, spectral clustering and the t-SNE plot; agglomerative "
            "clustering without a plot draws nothing at random, so it would change nothing: "
            "drop it"
        )
    result = cluster_nodes(
        args.embeddings,
        data=data_spec(args) if args.data else None,
        k=args.k,
        method=args.method,
        out=args.out,
        seed=args.seed,
        plot=not args.no_plot,
        overwrite=args.overwrite,
        fold=args.fold,
    )
    row = {"method": args.method, "k": result.k, **result.metrics}
    print(format_table([row], ["method", "k", *CLUSTERING_KEYS]))
    if result.scored_on is not None:
        why = (
            "the others trained the model that embedded them"
            if result.held_out
            else "the others have no label"
        )
        print(f"nmi, ari and acc on {result.scored_on}: {why} (all are clustered)")
    print(
        f"assignments, metrics.json{'' if args.no_plot else ' and tsne.png'} written to {args.out}"
    )
    return 0
