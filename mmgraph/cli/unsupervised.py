"""Embeddings and clustering: ``embed``."""

from __future__ import annotations

import argparse
from typing import Any

from mmgraph.cli.common import add_data, data_spec


def register(sub: Any) -> None:
    """Add ``embed``."""
    p = sub.add_parser("embed", help="write node embeddings")
    p.add_argument("--run", default=None, help="run folder written by `train`")
    p.add_argument("--out", required=True, help=".npy file to write")
    add_data(p, required=False)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(handler=cmd_embed)


def cmd_embed(args: argparse.Namespace) -> int:
    """``mmgraph embed``."""
    from mmgraph.tasks import embed_run

    if args.run is None:
        raise ValueError("`mmgraph embed` needs --run (a trained run folder)")
    data = data_spec(args) if args.data else None
    path, emb = embed_run(args.run, args.out, data=data, progress=not args.quiet)
    print(f"embeddings {list(emb.shape)} written to {path}")
    return 0
