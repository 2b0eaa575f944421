"""Cross-modal retrieval with a trained run: ``retrieve``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mmgraph.cli.commands import command_help
from mmgraph.cli.common import add_data, add_overwrite, add_quiet, data_spec, positive_int
from mmgraph.names import MODALITIES, RETRIEVAL_METRICS

DESCRIPTION = """\
Print the nodes of a trained run's data nearest a query, by the embedding of a target
modality (--to). The query is a text (--query-text), an image file (--query-image), one or
more nodes searched from one of their modalities (--query-node ID... --from text), or
attribute values as JSON (--query-attributes '{"followers_count": 120}'). Text and image
queries go through the run's own encoders (its fitted TF-IDF or image autoencoder, or the
transformers model it names). Both sides are compared in a shared space: a run trained with
--coordination uses its projections (with the cca loss, a linear CCA fitted on top of them
on the training nodes); a run trained without one gets a linear CCA fitted between the two
modalities' encoder outputs on the training nodes that have both. The first line printed
names the space. A query node is left out of its own results.
"""

EXAMPLES = """\
examples:
  mmgraph retrieve --run runs/bots --query-text "free crypto signals" --to image --k 5
  mmgraph retrieve --run runs/bots --query-node u0042 --from text --to attributes
  mmgraph retrieve --run runs/bots --query-image avatar.png --to text --out found.json
"""


def register(sub: Any) -> None:
    """Add ``retrieve``."""
    p = sub.add_parser(
        "retrieve",
        help=command_help("retrieve"),
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--run", required=True, help="run folder written by `train`")
    query = p.add_argument_group("query (give one)").add_mutually_exclusive_group(required=True)
    query.add_argument("--query-text", metavar="TEXT", help="a text")
    query.add_argument("--query-image", metavar="PATH", help="an image file")
    query.add_argument(
        "--query-node",
        nargs="+",
        metavar="ID",
        help="node ids (the data's node_id), or node indices from 0 where an ID is no node's "
        "id; needs --from",
    )
    query.add_argument(
        "--query-attributes",
        metavar="JSON",
        help='attribute values by column, e.g. \'{"followers_count": 120, "verified": "1"}\'; '
        "the other columns count as missing",
    )
    p.add_argument(
        "--from",
        dest="source",
        choices=MODALITIES,
        default=None,
        help="the modality of the query nodes to search from (default: the query's own: "
        "text, image or attributes)",
    )
    p.add_argument(
        "--to",
        dest="target",
        choices=MODALITIES,
        default=None,
        help="the modality searched (default: the run's first modality other than the "
        "query's, in the order text, image, attributes)",
    )
    p.add_argument("--k", type=positive_int, default=10, help="nodes per query (default: 10)")
    p.add_argument(
        "--metric",
        choices=RETRIEVAL_METRICS,
        default="cosine",
        help="similarity: cosine, dot (inner product) or euclidean (default: cosine)",
    )
    add_data(p, required=False)
    p.add_argument("--out", default=None, help="also write the results to this JSON file")
    add_overwrite(p, "replace an existing --out file")
    add_quiet(p)
    p.set_defaults(handler=cmd_retrieve)


def cmd_retrieve(args: argparse.Namespace) -> int:
    """``mmgraph retrieve``."""
    from mmgraph.errors import InputError
    from mmgraph.retrieval import Retriever
    from mmgraph.tasks.node_classification import write_json
    from mmgraph.tasks.report import format_table
    from mmgraph.tasks.run_folder import check_output_file

    if args.query_node is not None and args.source is None:
        args.parser.error(
            f"argument --query-node: give --from, the modality of the nodes to search from "
            f"({', '.join(MODALITIES)})"
        )
    if args.query_node is None and args.source is not None:
        args.parser.error(
            "argument --from: a text, image or attribute query is searched from its own "
            "modality, so --from would change nothing: give it with --query-node only"
        )
    data = data_spec(args) if args.data else None
    if args.out:
        check_output_file(args.out, [args.run], overwrite=args.overwrite)
    query: Any
    if args.query_attributes is not None:
        try:
            query = json.loads(args.query_attributes)
        except json.JSONDecodeError as error:
            raise InputError(
                f"--query-attributes is not JSON ({error}): give an object such as "
                "'{\"followers_count\": 120}'"
            ) from None
        if not isinstance(query, dict):
            raise InputError(
                "--query-attributes must be a JSON object of column: value (got "
                f"{type(query).__name__})"
            )
    retriever = Retriever.from_run(args.run, data=data, progress=not args.quiet, metric=args.metric)
    if args.query_node is not None:
        query = [_node(retriever, ident) for ident in args.query_node]
    elif args.query_text is not None:
        query = args.query_text
    elif args.query_image is not None:
        query = Path(args.query_image)
    result = retriever.search(query, k=args.k, target=args.target, source=args.source)
    columns = ["rank", "node", "name", "score"] if result.names else ["rank", "node", "score"]
    print(
        f"{result.source} -> {result.target}: nearest of {result.gallery_size} nodes with "
        f"{result.target} ({result.space}, {result.metric} similarity)"
    )
    shown = result.index.size(1)  # nodes per query, fewer than --k on a small gallery
    if shown < args.k:
        print(f"(--k {args.k} asks for more nodes than the gallery offers: {shown} per query)")
    for q, label in enumerate(result.queries):
        if args.query_node is not None:
            name = f" ({result.query_names[q]})" if result.query_names else ""
            print(f"\nquery node {label}{name}")
        else:
            print(f"\nquery {json.dumps(label) if isinstance(label, dict) else repr(label)}")
        print(format_table(result.neighbours(q), columns))
    if args.out:
        write_json(Path(args.out), result.to_dict())
        print(f"\nresults written to {args.out}")
    return 0


def _node(retriever: Any, ident: str) -> int:
    """A node's index from its id (``node_id``) or, for no node's id, an index."""
    from mmgraph.errors import InputError

    names = retriever.node_names or []
    if ident in names:
        return int(retriever.node_index(ident)[0])
    if ident.lstrip("-").isdigit():
        return int(ident)
    if names:
        return int(retriever.node_index(ident)[0])  # its error shows what ids look like

    raise InputError(
        f"--query-node {ident!r} is not a node index (the data has no node ids): give indices "
        f"0 to {retriever.num_nodes - 1}"
    )
