"""Training epochs over raw words beside numeric columns: the sparse path against dense.

The raw bag of words is one of ``text_encoder="auto"``'s candidates (``--text-encoder bow
--text-dim 0``): one column per word of the training texts, 20,000 at most. On a graph with
long texts it is a wide, mostly-zero ``[N, V]`` matrix. The text encoder keeps it as a
sparse CSR tensor, the concatenation joins the other modalities' columns to it, and the
first product is sparse-dense (:class:`~mmgraph.encoders.PrecomputedEncoder`,
:func:`~mmgraph.nn.functional.hstack`). Before that, only a graph whose sole modality
was a bag of words of attributes (Cora's) took this path; text beside other modalities was
dense. The ``dense`` rows switch the text encoder's sparse path off
(``PrecomputedEncoder.takes_sparse``), which is how the library ran before.

The graph is generated: ``--nodes`` nodes in 4 classes, each text ``--words`` words drawn
from a 40,000-word vocabulary (a fifth from words of the node's class), two numeric
columns, about 8 random edges per node, a stratified 60/20/20 split. Each design of ``mmgraph
train``'s ``"auto"`` choice (:data:`~mmgraph.models.auto.DESIGNS`) trains for a few epochs
with each path; a row reports the median epoch (training step only, the first epoch
left out) and the test accuracy after those epochs (a check that both paths learn, not a
result).

    python benchmarks/word_epochs.py       # writes benchmarks/results/word_epochs.md
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import shlex
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mmgraph.data.graph import MultimodalGraph
from mmgraph.encoders import PrecomputedEncoder
from mmgraph.models import FeatureConfig, featurize
from mmgraph.models.auto import DESIGNS
from mmgraph.tasks import DataSpec, train_node_classifier
from mmgraph.tasks.node_classification import describe_design
from mmgraph.train import TrainConfig

RESULTS = Path(__file__).parent / "results" / "word_epochs.md"
VOCABULARY = 40_000
CLASSES = 4


def make_graph(nodes: int, words: int, seed: int) -> MultimodalGraph:
    """The generated text-heavy graph (see the module)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, nodes)
    own = VOCABULARY // (5 * CLASSES)  # each class's favoured words
    texts = []
    for label in y:
        common = rng.integers(0, VOCABULARY, words - words // 5)
        favoured = label * own + rng.integers(0, own, words // 5)
        texts.append(" ".join(f"w{i}" for i in np.concatenate([common, favoured])))
    numeric = torch.from_numpy(rng.normal(size=(nodes, 2)).astype(np.float32))
    numeric[:, 0] += torch.from_numpy(y.astype(np.float32)) * 0.3
    edge_index = torch.from_numpy(rng.integers(0, nodes, (2, 8 * nodes)))
    graph = MultimodalGraph(
        edge_index, num_nodes=nodes, text=texts, numeric=numeric, y=torch.from_numpy(y)
    )
    return graph.set_split(0.6, 0.2, 0.2, seed=seed)


@contextlib.contextmanager
def dense_text() -> Iterator[None]:
    """The text encoder without its sparse path (the library before it)."""
    original = PrecomputedEncoder.takes_sparse
    PrecomputedEncoder.takes_sparse = property(lambda self: False)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        PrecomputedEncoder.takes_sparse = original  # type: ignore[method-assign]


def run(nodes: int, words: int, epochs: int, seed: int) -> tuple[list[dict[str, Any]], dict]:
    """Train every design with each path; per-epoch medians, and the graph's sizes."""
    graph = make_graph(nodes, words, seed)
    features = FeatureConfig(text_encoder="bow", text_dim=None, image_encoder=None)
    start = time.perf_counter()
    data = featurize(graph, features, progress=False)
    sizes = {
        "featurize_s": time.perf_counter() - start,
        "vocabulary": int(data.x_text.size(1)),
        "density": float(torch.count_nonzero(data.x_text)) / data.x_text.numel(),
    }
    spec = DataSpec("generated")
    rows = []
    for design in DESIGNS:
        for path in ("sparse", "dense"):
            train = TrainConfig(epochs=epochs, patience=None, seed=seed, progress=False)
            with dense_text() if path == "dense" else contextlib.nullcontext():
                result = train_node_classifier(
                    spec,
                    features,
                    dict(design),
                    train,
                    graph=data,
                    progress=False,
                    prefeaturized=True,
                )
            times = [r["time"] for r in result.trainer.history[1:]]  # the first warms up
            rows.append(
                {
                    "design": describe_design(design),
                    "path": path,
                    "epoch_ms": 1000 * statistics.median(times),
                    "test_acc": result.metrics["test"]["accuracy"],
                }
            )
            print(f"{rows[-1]['design']:45s} {path:6s} {rows[-1]['epoch_ms']:9.1f} ms", flush=True)
    return rows, sizes


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table: each design's sparse and dense epochs, and their ratio."""
    lines = [
        "| design | sparse epoch (ms) | dense epoch (ms) | dense / sparse "
        "| test acc sparse / dense |",
        "|---|---|---|---|---|",
    ]
    for sparse, dense in zip(rows[::2], rows[1::2]):
        lines.append(
            f"| {sparse['design']} | {sparse['epoch_ms']:.1f} | {dense['epoch_ms']:.1f} | "
            f"{dense['epoch_ms'] / sparse['epoch_ms']:.1f} | "
            f"{sparse['test_acc']:.3f} / {dense['test_acc']:.3f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=3000)
    parser.add_argument("--words", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    rows, sizes = run(args.nodes, args.words, args.epochs, args.seed)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    command = "python benchmarks/word_epochs.py " + shlex.join(
        list(argv) if argv is not None else sys.argv[1:]
    )
    text = "\n\n".join(
        [
            "# Training epochs over raw words beside numeric columns: sparse against dense",
            f"Command: `{command.strip()}`",
            f"{args.nodes} nodes, {args.words} words a text, `--text-encoder bow --text-dim 0`: "
            f"{sizes['vocabulary']:,} word columns, {100 * sizes['density']:.1f}% non-zero "
            f"(featurized in {sizes['featurize_s']:.1f} s); {args.threads} thread(s), torch "
            f"{torch.__version__}, Python {platform.python_version()}, load average at start "
            f"{load:.1f}, peak memory of the process {peak_mb:,.0f} MB. Median of epochs "
            f"2..{args.epochs} (training step only). The accuracy after so few epochs is "
            "a check that both paths learn.",
            table(rows),
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
