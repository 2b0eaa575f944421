"""Translation fusion against concatenation and the autoencoder when test nodes lose modalities.

On the synthetic social graph, with the feature setup, model and training loop of
``benchmarks/fusion.py`` (imported, not copied), each head is trained on complete training
data; then, at test time only, a fraction (0, 30, 60, 90 %) of the test nodes lose every
modality but the source (text): image and attributes. The translation head (``--fusion
translation --source text``) reads only the text, so its code does not change; concatenation
replaces the lost modalities by its learned missing vectors; the autoencoder (pretrained, with
modality dropout) encodes the present subset. Also shown: the translation head with
back-translation (``cycle``), and with ``translation_weight=0`` (the same network trained on
the task loss alone: a text-only model), which tells whether translating helps the code.

Run: ``.venv/bin/python benchmarks/translation.py [--seeds 0 1 2]``; prints a markdown table
and writes ``benchmarks/results/translation.md``.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # see benchmarks/fusion.py

import argparse  # noqa: E402
import copy  # noqa: E402
import dataclasses  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fusion as fb  # noqa: E402  (benchmarks/fusion.py: features, model, training loop)

from mmgraph.data import MultimodalGraph  # noqa: E402
from mmgraph.seed import make_generator  # noqa: E402
from mmgraph.tasks.report import format_markdown, format_table  # noqa: E402

SOURCE = "text"
FRACTIONS = (0.0, 0.3, 0.6, 0.9)
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    # row: (fusion head, fusion_options beyond the benchmark's head_options)
    "concat": ("concat", {}),
    "autoencoder": ("autoencoder", {}),
    "translation": ("translation", {"source": SOURCE}),
    "translation + cycle": ("translation", {"source": SOURCE, "cycle": True}),
    "translation, weight 0": ("translation", {"source": SOURCE, "translation_weight": 0.0}),
}
SETTINGS = fb.Settings()
"""``benchmarks/fusion.py``'s settings (2000 nodes, at most 150 epochs): the default run (3
seeds, 5 rows) takes about 3 minutes on one core (early stopping ends most runs early)."""


def drop_non_source(graph: MultimodalGraph, fraction: float, seed: int) -> MultimodalGraph:
    """A copy of ``graph`` in which ``round(fraction * T)`` of its ``T`` test nodes lose every
    modality but the text: the image's presence flag, all attributes (``NaN`` numeric values,
    missing categorical codes)."""
    test = graph.test_mask.nonzero().view(-1)
    order = torch.randperm(test.numel(), generator=make_generator(seed))
    drop = torch.zeros(graph.num_nodes, dtype=torch.bool)
    drop[test[order[: round(fraction * test.numel())]]] = True
    out = copy.copy(graph)
    out.image_present = graph.image_present & ~drop
    if getattr(graph, "numeric", None) is not None:
        out.numeric = torch.where(drop[:, None], torch.nan, graph.numeric)
    if getattr(graph, "categorical", None) is not None:
        out.categorical = torch.where(drop[:, None], 0, graph.categorical)
    return out


def run_method(
    graph: MultimodalGraph, name: str, seed: int, settings: fb.Settings
) -> dict[str, Any]:
    """Train one row's model and return its test accuracy per dropped fraction."""
    head, extra = METHODS[name]
    options = {**fb.head_options(head, settings), **extra}
    start = time.perf_counter()
    _, trainer = fb.train(graph, head, seed, settings, fusion_options=options)
    accuracy = [
        trainer.evaluate(drop_non_source(graph, p, seed * 100 + i), "test_mask")["accuracy"]
        for i, p in enumerate(FRACTIONS)
    ]
    return {"accuracy": accuracy, "epochs": trainer.epoch, "train_s": time.perf_counter() - start}


def table(results: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per method: test accuracy (%) at each fraction, mean ± std over seeds."""
    rows = []
    for name, runs in results.items():
        row: dict[str, Any] = {"method": name}
        for i, p in enumerate(FRACTIONS):
            row[f"{round(100 * p)}% dropped"] = fb.mean_std(r["accuracy"][i] for r in runs)
        row["drop 0 -> 90%"] = fb.mean_std(r["accuracy"][0] - r["accuracy"][-1] for r in runs)
        row["train s"] = f"{sum(r['train_s'] for r in runs) / len(runs):.0f}"
        rows.append(row)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--num-nodes", type=int, default=SETTINGS.num_nodes)
    parser.add_argument("--epochs", type=int, default=SETTINGS.epochs)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=fb.RESULTS / "translation.md")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    command = " ".join([".venv/bin/python", "benchmarks/translation.py", *map(shlex.quote, argv)])
    torch.set_num_threads(args.threads)
    s = dataclasses.replace(SETTINGS, num_nodes=args.num_nodes, epochs=args.epochs)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in args.methods}
    start = time.perf_counter()
    for seed in args.seeds:
        graph = fb.make_graph(seed, s)
        for name in args.methods:
            results[name].append(run_method(graph, name, seed, s))
            print(f"[{time.perf_counter() - start:5.0f} s] seed {seed} {name}", file=sys.stderr)
    rows = table(results)
    setup = (
        f"Synthetic social graph, {s.num_nodes} nodes, missing_rate {s.missing_rate}, "
        f"interaction_strength {s.interaction_strength}, a fresh graph and split (60/20/20) "
        f"per seed (seeds {', '.join(map(str, args.seeds))}). Features and model as in "
        f"benchmarks/fusion.py: {s.text_encoder} text ({s.text_dim} dims), frozen CNN features "
        f"of the {s.image_size}x{s.image_size} avatars, the attribute encoder; every modality "
        f"projected to {s.modality_dim}, the fusion head (code {s.hidden}; concatenation keeps "
        f"{3 * s.modality_dim}), {s.num_layers} {s.aggregator} layers of {s.hidden}, dropout "
        f"{s.dropout}. Translation: source text, decoders (hidden [64]) to image and "
        f"attributes, translation_weight 1 (cycle_weight 1 with cycle); autoencoder: hidden "
        f"[{s.ae_hidden}], modality_dropout {s.ae_modality_dropout}, feature_dropout "
        f"{s.ae_feature_dropout}, pretrained {s.pretrain_epochs} epochs. Training: AdamW lr "
        f"{s.lr}, at most {s.epochs} epochs, early stopping on validation macro-F1 (patience "
        f"{s.patience}). "
        f"Test accuracy in %, mean ± std over seeds; a dropped test node keeps only its text "
        f"(its neighbours keep theirs). train s: seconds per training, {args.threads} "
        f"thread(s), CPU shared with other jobs."
    )
    print(f"Setup: {setup}\n")
    print(format_table(rows, list(rows[0])))
    md = [
        "# Translation fusion when test nodes lose the non-source modalities",
        f"Command: `{command}`",
        f"Setup: {setup}",
        format_markdown(rows, list(rows[0])),
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n\n".join(md) + "\n")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
