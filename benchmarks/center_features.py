"""Whether the GNN route of ``mmgraph embed`` should centre its precomputed features.

``mmgraph embed --encoder gnn`` feeds frozen sentence vectors (all-MiniLM-L6-v2) and image
features to a GNN trained with the node2vec loss. Vectors of short texts share most of
their direction; fed raw, they can drown the graph. For each data set, the GNN route's
defaults (:func:`mmgraph.tune.options.embed_run`) run per seed with
``center_features`` off and on, and k-means with k = classes is scored by NMI against the
labels (mean ± sample standard deviation over the seeds; k-means seed 0).

The data: the labelled sets of ``../shared/data`` whose nodes carry precomputed text or
image features (Cornell, Texas, the country flags; Cora's and CiteSeer's words are a
numeric modality, which this option leaves as it is), and four stochastic block models
generated here, 10-word bios drawn from a shared vocabulary and one word list per block
(share ``text``), a numeric and a categorical column:

* ``sbm-mixed``: 1,200 nodes, 5 blocks, p_in 0.025, p_out 0.002, text 0.2;
* ``sbm-structure``: 1,000 nodes, 4 blocks, p_in 0.03, p_out 0.002, uninformative bios;
* ``sbm-text``: 1,500 nodes, 6 blocks, p_in 0.006, p_out 0.004 (edges nearly random),
  text 0.5;
* ``sbm-sparse``: 2,000 nodes, 6 blocks, p_in 0.009, p_out 0.0006 (mean degree 4),
  text 0.15.

Usage::

    python benchmarks/center_features.py [--datasets ...] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "center_features.md"
DATA_ROOT = Path(os.environ.get("MMGRAPH_DATA_ROOT", HERE.parent.parent / "shared" / "data"))
SHARED = ("cornell", "texas", "country-flags")
GENERATED: dict[str, tuple[int, int, float, float, float, int]] = {
    # nodes, blocks, p_in, p_out, share of block words in a bio, seed
    "sbm-mixed": (1200, 5, 0.025, 0.002, 0.2, 1),
    "sbm-structure": (1000, 4, 0.03, 0.002, 0.0, 2),
    "sbm-text": (1500, 6, 0.006, 0.004, 0.5, 3),
    "sbm-sparse": (2000, 6, 0.009, 0.0006, 0.15, 4),
}


def block_card(folder: Path, n: int, k: int, p_in: float, p_out: float, text: float, seed: int):
    """Write a dataset card of a stochastic block model with bios, a number and a colour."""
    rng = np.random.default_rng(seed)
    block = rng.integers(0, k, n)
    same = block[:, None] == block[None, :]
    upper = np.triu(rng.random((n, n)) < np.where(same, p_in, p_out), k=1)
    src, dst = upper.nonzero()
    shared = np.array([f"w{i}" for i in range(300)])
    own = np.array([[f"t{b}_{i}" for i in range(25)] for b in range(k)])
    words = np.where(
        rng.random((n, 10)) < text,
        own[block[:, None], rng.integers(0, 25, (n, 10))],
        shared[rng.integers(0, 300, (n, 10))],
    )
    colours = np.array(["red", "green", "blue", "gold"])
    ids = np.array([f"n{i}" for i in range(n)])
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        {
            "node_id": ids,
            "bio": [" ".join(row) for row in words],
            "score": (rng.normal(0, 1, n) + 0.2 * block).round(4),
            "colour": colours[rng.integers(0, 4, n)],
            "block": [f"b{b}" for b in block],
        }
    ).to_csv(folder / "nodes.csv", index=False)
    pd.DataFrame({"src": ids[src], "dst": ids[dst]}).to_csv(folder / "edges.csv", index=False)
    (folder / "dataset.yaml").write_text(
        f"name: {folder.name}\nnodes: nodes.csv\nid: node_id\nedges: edges.csv\n"
        "directed: false\nmodalities:\n  text: [bio]\n  numeric: [score]\n"
        "  categorical: [colour]\nlabel: block\n"
    )
    return folder


def nmi_scores(data: str, root: Path | None, seeds: Sequence[int], center: bool) -> list[float]:
    """k-means NMI of the GNN route's embeddings, one per seed."""
    from sklearn.metrics import normalized_mutual_info_score

    from mmgraph.data import load_dataset
    from mmgraph.eval import cluster_embeddings
    from mmgraph.tasks import DataSpec
    from mmgraph.tasks.unsupervised import node2vec_embeddings
    from mmgraph.tune.options import embed_run

    y = load_dataset(data, root=root).y.numpy()
    labelled = y >= 0
    k = len(np.unique(y[labelled]))
    scores = []
    for seed in seeds:
        run = embed_run({"data": data, "root": root, "encoder": "gnn", "seed": seed})
        result = node2vec_embeddings(
            DataSpec(data, root=None if root is None else str(root)),
            run.encoder,
            run.node2vec,
            features=run.features,
            model_options={**run.model, "center_features": center},
            train=run.train,
            progress=False,
        )
        emb = result.embeddings.numpy()[labelled]
        found = cluster_embeddings(emb, k, seed=0)
        scores.append(float(normalized_mutual_info_score(y[labelled], found)))
    return scores


def _mean_std(values: Sequence[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {spread:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=[*GENERATED, *SHARED])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            data, root = name, DATA_ROOT
            if name in GENERATED:
                data, root = str(block_card(Path(tmp) / name, *GENERATED[name])), None
            start = time.perf_counter()
            raw = nmi_scores(data, root, args.seeds, center=False)
            centred = nmi_scores(data, root, args.seeds, center=True)
            rows.append((name, _mean_std(raw), _mean_std(centred), time.perf_counter() - start))
            print(f"{name:14s} raw {rows[-1][1]}  centred {rows[-1][2]}", flush=True)
    seeds = " ".join(map(str, args.seeds))
    lines = [
        "# The GNN route of `mmgraph embed`: raw or centred precomputed features",
        "",
        f"`python benchmarks/center_features.py --seeds {seeds}` (k-means NMI against the "
        "labels, k = classes, mean ± std over the seeds; one thread).",
        "",
        "| data | raw | centred | seconds (both) |",
        "|---|---|---|---|",
        *(f"| {n} | {r} | {c} | {s:.0f} |" for n, r, c, s in rows),
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
