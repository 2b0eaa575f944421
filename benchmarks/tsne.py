"""t-SNE of ``cluster``'s plot: exact gradients against Barnes-Hut, by number of points.

:func:`mmgraph.eval.plots.tsne_2d` once took exact gradients up to 1,000 points, on the claim
that they were faster there; this times both methods of scikit-learn's ``TSNE`` with the
settings ``tsne_2d`` uses (2-D, perplexity 30, PCA initialisation, 1,000 steps) on 64-d
points in two shifted Gaussian blobs, one run each.

    python benchmarks/tsne.py            # writes benchmarks/results/tsne.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import sklearn

RESULTS = Path(__file__).parent / "results" / "tsne.md"


def run(sizes: Sequence[int], dim: int, seed: int) -> list[dict[str, float]]:
    """Seconds of each method at each size."""
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        x = rng.normal(size=(n, dim)).astype(np.float32)
        x[: n // 2] += 2.0
        row: dict[str, float] = {"points": n}
        for method in ("exact", "barnes_hut"):
            start = time.perf_counter()
            TSNE(
                n_components=2,
                perplexity=30.0,
                init="pca",
                max_iter=1000,
                method=method,
                random_state=seed,
            ).fit_transform(x)
            row[method] = time.perf_counter() - start
        print(f"{n:6d} points: exact {row['exact']:6.1f} s, Barnes-Hut {row['barnes_hut']:6.1f} s")
        rows.append(row)
    return rows


def table(rows: list[dict[str, float]]) -> str:
    lines = ["| points | exact (s) | Barnes-Hut (s) | exact / Barnes-Hut |", "|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {int(r['points']):,} | {r['exact']:.1f} | {r['barnes_hut']:.1f} | "
            f"{r['exact'] / r['barnes_hut']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 600, 1000])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    rows = run(args.sizes, args.dim, args.seed)
    command = "python benchmarks/tsne.py " + shlex.join(
        list(argv) if argv is not None else sys.argv[1:]
    )
    text = "\n\n".join(
        [
            "# t-SNE: exact gradients against Barnes-Hut",
            f"Command: `{command.strip()}`",
            f"{args.dim}-d points in two blobs, perplexity 30, PCA initialisation, 1,000 steps, "
            f"one run each; scikit-learn {sklearn.__version__}, Python "
            f"{platform.python_version()}, {os.cpu_count()} CPUs, load average at start "
            f"{load:.1f}.",
            table(rows),
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(f"\n{table(rows)}\n\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
