"""One full-batch training epoch of the default ``mmgraph train`` on the synthetic graph.

What a new user pays per epoch with the defaults (``mmgraph train --data synthetic``), with
``--text-encoder hashing`` as in the issue's measurement so the one-off text encoding does
not matter, one thread: the default (images encoded once by a frozen CNN), each modality
alone, the end-to-end CNN, the fusion heads with their default sizes (Tensor Fusion
picks its per-modality size; the ratio to concatenation is the target), and on the graph
with activity sequences (``synthetic-activity``) the default and the MV-LSTM. Each row trains a
real run (``train_node_classifier``) for a few epochs and reports the median of the
trainer's per-epoch times (the training step, without the validation pass), plus the
one-off featurization time.

    python benchmarks/epoch_speed.py            # writes benchmarks/results/epoch_speed.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from mmgraph.data.synthetic import make_social_graph
from mmgraph.models import FeatureConfig, featurize
from mmgraph.tasks import DataSpec, train_node_classifier
from mmgraph.train import TrainConfig

RESULTS = Path(__file__).parent / "results" / "epoch_speed.md"

ROWS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("default (all modalities, concat)", "cnn", {}),
    ("text only", "cnn", {"modalities": ["text"]}),
    ("images only (frozen CNN)", "cnn", {"modalities": ["image"]}),
    ("attributes only", "cnn", {"modalities": ["attributes"]}),
    ("fusion tfn", "cnn", {"fusion": "tfn"}),
    ("fusion bilinear", "cnn", {"fusion": "bilinear"}),
    ("fusion lowrank", "cnn", {"fusion": "lowrank"}),
    ("fusion gated", "cnn", {"fusion": "gated"}),
    ("images end to end (cnn-e2e)", "cnn-e2e", {}),
    # synthetic-activity: 28 days of three activity counts per account as well
    ("activity: default (GRU encoder, concat)", "cnn", {}),
    ("activity: fusion mvlstm coupled", "cnn", {"fusion": "mvlstm", "fusion_options": {}}),
)
"""Each row: its name, the image encoder, the model options. Rows named ``activity: ...``
train on the graph with activity sequences (``--data synthetic-activity``)."""

MVLSTM_COUPLED = {"alpha": 0.0, "beta": 1.0}


def run(nodes: int, epochs: int, seed: int) -> list[dict[str, Any]]:
    """Train every row for ``epochs`` epochs; per-epoch medians and featurization times."""
    graphs = {
        False: make_social_graph(nodes, seed=seed),
        True: make_social_graph(nodes, seed=seed, with_activity=True),
    }
    featured: dict[tuple[str, bool], Any] = {}
    encode_s: dict[tuple[str, bool], float] = {}
    rows = []
    for name, image_encoder, options in ROWS:
        activity = name.startswith("activity:")
        source = "synthetic-activity" if activity else "synthetic"
        spec = DataSpec(source, options={"num_nodes": nodes, "seed": seed})
        key = (image_encoder, activity)
        if key not in featured:
            start = time.perf_counter()
            features = FeatureConfig(text_encoder="hashing", image_encoder=image_encoder)
            featured[key] = (features, featurize(graphs[activity], features, progress=False))
            encode_s[key] = time.perf_counter() - start
        features, data = featured[key]
        if options.get("fusion") == "mvlstm":
            options = {**options, "fusion_options": MVLSTM_COUPLED}
        train = TrainConfig(epochs=epochs, patience=None, seed=seed, progress=False)
        result = train_node_classifier(
            spec, features, dict(options), train, graph=data, progress=False, prefeaturized=True
        )
        times = [r["time"] for r in result.trainer.history[1:]]  # the first warms up
        model = result.trainer.model
        rows.append(
            {
                "setting": name,
                "epoch_ms": 1000 * statistics.median(times),
                "featurize_s": encode_s[key],
                "fusion": repr(getattr(model, "fusion", "")).split("(")[0],
                "fusion_options": dict(model.config.fusion_options),
                "test_acc": result.metrics["test"]["accuracy"],
            }
        )
        print(f"{name:40s} {rows[-1]['epoch_ms']:8.1f} ms/epoch", flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown table, with each epoch's ratio to the default's."""
    base = next(r["epoch_ms"] for r in rows if r["setting"].startswith("default"))
    lines = [
        "| setting | epoch (ms) | / default | fusion options | featurization (s) | test acc |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['setting']} | {r['epoch_ms']:.1f} | {r['epoch_ms'] / base:.2f} | "
            f"{r['fusion_options'] or '-'} | {r['featurize_s']:.1f} | {r['test_acc']:.3f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    rows = run(args.nodes, args.epochs, args.seed)
    command = "python benchmarks/epoch_speed.py " + shlex.join(
        list(argv) if argv is not None else sys.argv[1:]
    )
    text = "\n\n".join(
        [
            "# One training epoch of the default `mmgraph train` (synthetic graph)",
            f"Command: `{command.strip()}`",
            f"{args.nodes} nodes, `--text-encoder hashing`, {args.threads} thread(s), torch "
            f"{torch.__version__}, Python {platform.python_version()}, load average at start "
            f"{load:.1f}. Median of epochs 2..{args.epochs} of a real run (training step "
            "only); featurization is the one-off encoding (the frozen CNN's training "
            "included). Test accuracy after so few epochs is only a sanity check.",
            table(rows),
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
