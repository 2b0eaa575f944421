"""Which ``--numeric-scaling`` the ``mmgraph embed --encoder gnn`` command should default to.

For each labelled data set whose numeric columns ``auto`` treats apart from ``standard`` (a
bag of words: Cora and CiteSeer; on the synthetic bots, the country flags, Cornell and
Texas ``auto`` is ``standard`` or there are no numeric columns), and for each scaling, the
README's two commands run per seed::

    mmgraph embed --data D --objective node2vec --encoder gnn --numeric-scaling S \\
        --seed K --out E.npy
    mmgraph cluster --embeddings E.npy --data D --out C

and the k-means scores against the labels (NMI, ARI, ACC) and the label-free ones
(silhouette, modularity) are averaged over the seeds (mean ± sample standard deviation).

Usage::

    python benchmarks/embed_scaling.py [--datasets cora citeseer] [--seeds 0 1 2 3 4]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from mmgraph.cli import main as mmgraph

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "embed_scaling.md"
DATA_ROOT = Path(os.environ.get("MMGRAPH_DATA_ROOT", HERE.parent.parent / "shared" / "data"))
SCALINGS = ("standard", "auto", "none")
METRICS = ("nmi", "ari", "acc", "silhouette", "modularity")


def run_one(
    data: str, scaling: str, seed: int, root: Path, folder: Path, epochs: int | None = None
) -> dict[str, float]:
    """The clustering metrics of one ``embed`` + ``cluster`` pair (their output discarded)."""
    emb = folder / f"{data}-{scaling}-{seed}.npy"
    out = folder / f"{data}-{scaling}-{seed}"
    where = [] if data == "synthetic" or Path(data).exists() else ["--root", str(root)]
    embed = ["embed", "--data", data, *where, "--objective", "node2vec", "--encoder", "gnn"]
    embed += ["--numeric-scaling", scaling, "--seed", str(seed), "--out", str(emb)]
    if epochs is not None:
        embed += ["--epochs", str(epochs)]
    cluster = ["cluster", "--embeddings", str(emb), "--data", data, *where, "--out", str(out)]
    for argv in (embed, cluster):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = mmgraph(argv)
        if code not in (0, None):
            raise RuntimeError(f"`mmgraph {' '.join(argv)}` exited with {code}")
    metrics = json.loads((out / "metrics.json").read_text())
    return {key: float(metrics[key]) for key in METRICS}


def mean_std(values: Sequence[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets", nargs="+", default=["cora", "citeseer"], help="names or card paths"
    )
    parser.add_argument("--scalings", nargs="+", default=list(SCALINGS), choices=SCALINGS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=None, help="(default: embed's)")
    parser.add_argument("--root", type=Path, default=DATA_ROOT)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    header = ["data", "--numeric-scaling", *[m.upper() for m in METRICS[:3]], *METRICS[3:]]
    lines = [
        "# `mmgraph embed --encoder gnn` + `mmgraph cluster`: numeric scaling",
        "",
        f"`python benchmarks/embed_scaling.py --datasets {' '.join(args.datasets)} --seeds "
        f"{' '.join(map(str, args.seeds))}`: k-means with k = the number of classes, mean ± "
        "sample standard deviation over the seeds (the seed drives the walks, the "
        "initialisation and k-means). `auto` is `row` for a bag of words, else `standard`.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for data in args.datasets:
            for scaling in args.scalings:
                runs = [
                    run_one(data, scaling, seed, args.root, Path(tmp), args.epochs)
                    for seed in args.seeds
                ]
                cells = [mean_std([r[m] for r in runs]) for m in METRICS]
                lines.append("| " + " | ".join([data, scaling, *cells]) + " |")
                print(lines[-1], flush=True)
    lines += ["", f"{time.perf_counter() - start:.0f} s in all."]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
