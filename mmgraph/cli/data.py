"""``mmgraph info``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from mmgraph.cli.commands import command_help
from mmgraph.cli.common import add_data, data_options
from mmgraph.errors import InputError


def register(sub: Any) -> None:
    """Add ``info``."""
    p = sub.add_parser("info", help=command_help("info"))
    add_data(p, required=False)
    p.add_argument(
        "--json", action="store_true", help="print the summary (or with --list, the names) as JSON"
    )
    p.add_argument("--list", action="store_true", help="list the built-in data sets")
    p.set_defaults(handler=cmd_info)


def cmd_info(args: argparse.Namespace) -> int:
    """Print a data set's summary, or the built-in names."""
    from mmgraph.names import DATASETS  # (no torch: the list reads no data)

    if args.list and args.data is not None:
        raise InputError(
            f"--list prints the built-in names and reads no data, so --data {args.data} would "
            "change nothing: drop --list to summarise the data, or drop --data"
        )
    if args.list or args.data is None:
        if args.root is not None:
            raise InputError(
                f"--root {args.root} would change nothing: the list of built-in names does "
                "not read the data; give --data NAME to read one from the root, or drop --root"
            )
        if args.json:
            print(json.dumps(dict(DATASETS), indent=2))
            return 0
        width = max(len(k) for k in DATASETS)
        print("\n".join(f"{k.ljust(width)}  {v}" for k, v in DATASETS.items()))
        return 0
    from mmgraph.data import format_summary, load_dataset, summarize

    summary = summarize(load_dataset(args.data, root=args.root, **data_options(args)))
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    if not args.json and "labels" in summary and "splits" not in summary and "nodes" in summary:
        print(
            "splits             none in the data: `mmgraph train` draws a seeded, stratified "
            "60/20/20 split (--split, --split-seed; with --seeds, one per seed)"
        )
    return 0
