"""Frozen image features (the ``"cnn"`` autoencoder) against a CNN trained end to end.

For each data set and seed, the graph is featurized twice: with ``image_encoder="cnn"``
(a small convolutional denoising autoencoder trained once on the graph's images without
labels, frozen; its pooled bottleneck is ``x_image``) and with ``"cnn-e2e"`` (pixels, a
``SmallCNN`` trained with the GNN, forward and backward over every image in every epoch).
Both then train the same ``MultimodalGNN`` node classifier
(:func:`mmgraph.tasks.train_node_classifier`, default model options). Reported: test
accuracy and macro-F1 (mean ± std over seeds), the one-off featurization time (the
autoencoder's training and encoding; for ``cnn-e2e`` reading and resizing the pixels) and
the wall time of one epoch (training step and validation, total training time over epochs
run).

Data sets: (a) the synthetic social graph (``make_social_graph``, 2,000 nodes, a fresh
graph per seed, TF-IDF text) with 16x16 and 32x32 avatars; (b) country-flags (250 nodes,
label ``region``, TF-IDF text, a stratified split seeded per seed), all modalities and
images only. Part (c) times 200 epochs (no early stopping) of an 800-node synthetic graph
with 100x100 avatars: the frozen features are timed in full, end-to-end training from a few
epochs (extrapolated to 200).

Run: ``.venv/bin/python benchmarks/image_features.py [--seeds 0 1 2 3 4] [--threads 1]``;
prints the tables and writes ``benchmarks/results/image_features.md``. Finished runs are
appended to ``--partial`` (JSON lines) and skipped when the script is started again with
the same settings, so parts can run in separate processes (``--only``).
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # Idle OpenMP threads must sleep, not spin, on a CPU shared with other jobs.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import torch  # noqa: E402

from mmgraph.data.synthetic import make_social_graph  # noqa: E402
from mmgraph.models import FeatureConfig, MultimodalGNN, featurize  # noqa: E402
from mmgraph.tasks.node_classification import (  # noqa: E402
    DataSpec,
    load_graph,
    train_node_classifier,
)
from mmgraph.train import TrainConfig  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ROOT.parent / "shared" / "data" / "country-flags" / "dataset.yaml"
RESULTS = ROOT / "benchmarks" / "results" / "image_features.md"
ENCODERS = ("cnn", "cnn-e2e")
SETTINGS: dict[str, dict[str, Any]] = {
    "synthetic-16": {"data": "synthetic", "image_size": 16, "modalities": None},
    "synthetic-32": {"data": "synthetic", "image_size": 32, "modalities": None},
    "synthetic-16-image-only": {"data": "synthetic", "image_size": 16, "modalities": ["image"]},
    "flags": {"data": "flags", "image_size": 32, "modalities": None},
    "flags-image-only": {"data": "flags", "image_size": 32, "modalities": ["image"]},
}


def graph_of(setting: dict[str, Any], seed: int, num_nodes: int) -> tuple[Any, DataSpec]:
    """The raw graph of one setting and seed, and the DataSpec naming it."""
    if setting["data"] == "synthetic":
        options = {"num_nodes": num_nodes, "seed": seed, "image_size": setting["image_size"]}
        graph = make_social_graph(num_nodes, seed=seed, image_size=setting["image_size"])
        return graph, DataSpec("synthetic", options=options)
    spec = DataSpec(str(FLAGS), split_seed=seed)
    return load_graph(spec, need_labels=True), spec


def run_one(
    name: str, encoder: str, seed: int, args: argparse.Namespace, cache_dir: str
) -> dict[str, Any]:
    """Featurize and train one setting; accuracy, macro-F1 and timings."""
    setting = SETTINGS[name]
    graph, spec = graph_of(setting, seed, args.num_nodes)
    features = FeatureConfig(
        text_encoder="tfidf",
        image_encoder=encoder,
        image_size=setting["image_size"],
        cache_dir=cache_dir,
        image_seed=seed,
    )
    start = time.perf_counter()
    featured = featurize(graph, features, progress=False)
    encode_s = time.perf_counter() - start
    options = {"modalities": setting["modalities"]} if setting["modalities"] else None
    train = TrainConfig(
        epochs=args.epochs, patience=args.patience, seed=seed, progress=False, lr=0.01
    )
    start = time.perf_counter()
    result = train_node_classifier(
        spec, features, options, train, graph=featured, prefeaturized=True, progress=False
    )
    train_s = time.perf_counter() - start
    epochs = max(result.trainer.epoch, 1)
    test = result.metrics["test"]
    return {
        "setting": name,
        "encoder": encoder,
        "seed": seed,
        "accuracy": 100 * float(test["accuracy"]),
        "macro_f1": 100 * float(test["macro_f1"]),
        "encode_s": encode_s,
        "epoch_ms": 1000 * train_s / epochs,
        "epochs": epochs,
    }


def timing(args: argparse.Namespace, cache_dir: str) -> list[dict[str, Any]]:
    """Featurization and epoch times of each setting, measured one after the other."""
    rows = []
    for name in ("synthetic-16", "synthetic-32", "flags"):
        setting = SETTINGS[name]
        graph, spec = graph_of(setting, 0, args.num_nodes)
        for encoder in ENCODERS:
            features = FeatureConfig(
                text_encoder="tfidf",
                image_encoder=encoder,
                image_size=setting["image_size"],
                cache_dir=cache_dir,
            )
            start = time.perf_counter()
            featured = featurize(graph, features, progress=False)
            encode_s = time.perf_counter() - start
            start = time.perf_counter()
            featurize(graph, features, progress=False)  # again: from the cache
            cached_s = time.perf_counter() - start
            train = TrainConfig(epochs=args.timing_epochs, patience=None, progress=False)
            start = time.perf_counter()
            train_node_classifier(
                spec, features, None, train, graph=featured, prefeaturized=True, progress=False
            )
            epoch_ms = 1000 * (time.perf_counter() - start) / args.timing_epochs
            rows.append(
                {
                    "setting": "timing",
                    "data": name,
                    "encoder": encoder,
                    "seed": 0,
                    "encode_s": encode_s,
                    "cached_s": cached_s,
                    "epoch_ms": epoch_ms,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def large_graph(args: argparse.Namespace, cache_dir: str) -> list[dict[str, Any]]:
    """Part (c): 200 epochs on an 800-node graph of 100x100 avatars."""
    rows = []
    graph = make_social_graph(args.large_nodes, seed=0, image_size=100)
    for encoder in ENCODERS:
        features = FeatureConfig(
            text_encoder="tfidf", image_encoder=encoder, image_size=100, cache_dir=cache_dir
        )
        start = time.perf_counter()
        featured = featurize(graph, features, progress=False)
        encode_s = time.perf_counter() - start
        epochs = 200 if encoder == "cnn" else args.large_e2e_epochs
        train = TrainConfig(epochs=epochs, patience=None, seed=0, progress=False)
        spec = DataSpec("synthetic", options={"num_nodes": args.large_nodes, "image_size": 100})
        start = time.perf_counter()
        result = train_node_classifier(
            spec, features, None, train, graph=featured, prefeaturized=True, progress=False
        )
        train_s = time.perf_counter() - start
        rows.append(
            {
                "setting": "large",
                "encoder": encoder,
                "seed": 0,
                "encode_s": encode_s,
                "epochs_timed": epochs,
                "train_200_s": train_s * 200 / epochs,
                "accuracy": 100 * float(result.metrics["test"]["accuracy"]),
                "params": sum(p.numel() for p in MultimodalGNN.from_graph(featured).parameters()),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def mean_std(values: list[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:.1f}" if values else "-"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"


def median(values: list[float], digits: int = 0) -> str:
    return f"{statistics.median(values):.{digits}f}" if values else "-"


def tables(rows: list[dict[str, Any]]) -> str:
    """The markdown tables of the finished rows."""
    lines = [
        "| setting | image encoder | seeds | test accuracy | test macro-F1 | "
        "featurize (s) | epoch (ms) | epochs run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in SETTINGS:
        for encoder in ENCODERS:
            done = [r for r in rows if r["setting"] == name and r["encoder"] == encoder]
            if not done:
                continue
            lines.append(
                f"| {name} | {encoder} | {len(done)} | "
                f"{mean_std([r['accuracy'] for r in done])} | "
                f"{mean_std([r['macro_f1'] for r in done])} | "
                f"{median([r['encode_s'] for r in done], 1)} | "
                f"{median([r['epoch_ms'] for r in done])} | "
                f"{median([r['epochs'] for r in done])} |"
            )
    timed = [r for r in rows if r["setting"] == "timing"]
    if timed:
        lines += [
            "",
            "Timing, measured one after the other in one process (seed 0, "
            "no early stopping): the one-off featurization (cold cache), the same again "
            "(warm cache: no training, no encoding) and the wall time per epoch.",
            "",
            "| setting | image encoder | featurize (s) | featurize again (s) | epoch (ms) |",
            "|---|---|---|---|---|",
        ]
        for r in timed:
            lines.append(
                f"| {r['data']} | {r['encoder']} | {r['encode_s']:.1f} | {r['cached_s']:.1f} | "
                f"{r['epoch_ms']:.0f} |"
            )
    large = [r for r in rows if r["setting"] == "large"]
    if large:
        lines += [
            "",
            "Part (c): 800 nodes, 100x100 avatars, 200 epochs without early stopping.",
            "",
            "| image encoder | featurize (s) | 200 epochs (s) | epochs timed | test accuracy | "
            "model params |",
            "|---|---|---|---|---|---|",
        ]
        for r in large:
            lines.append(
                f"| {r['encoder']} | {r['encode_s']:.1f} | {r['train_200_s']:.0f} | "
                f"{r['epochs_timed']} | {r['accuracy']:.1f} | {r['params']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--num-nodes", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--patience", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", nargs="+", choices=[*SETTINGS, "timing", "large"], default=None)
    parser.add_argument("--timing-epochs", type=int, default=20)
    parser.add_argument("--encoders", nargs="+", choices=ENCODERS, default=list(ENCODERS))
    parser.add_argument("--large-nodes", type=int, default=800)
    parser.add_argument("--large-e2e-epochs", type=int, default=5)
    parser.add_argument("--partial", type=Path, default=Path("/tmp/image_features.jsonl"))
    parser.add_argument("--no-write", action="store_true", help="do not write the results")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    settings = {
        "num_nodes": args.num_nodes,
        "epochs": args.epochs,
        "patience": args.patience,
        "threads": args.threads,
    }
    rows: list[dict[str, Any]] = []
    if args.partial.is_file():
        for line in args.partial.read_text().splitlines():
            record = json.loads(line)
            if record.pop("settings") == settings:
                rows.append(record)
    done = {(r["setting"], r["encoder"], r["seed"]) for r in rows}
    only = args.only or [*SETTINGS, "timing", "large"]
    with tempfile.TemporaryDirectory() as cache_dir:  # a cold feature cache for every run
        for name in (n for n in SETTINGS if n in only):
            for seed in args.seeds:
                for encoder in args.encoders:  # alternate, so both share the machine's load
                    if (name, encoder, seed) in done:
                        continue
                    row = run_one(name, encoder, seed, args, cache_dir)
                    print(json.dumps(row), flush=True)
                    rows.append(row)
                    with args.partial.open("a") as handle:
                        handle.write(json.dumps({**row, "settings": settings}) + "\n")
        if "timing" in only and not any(r["setting"] == "timing" for r in rows):
            for row in timing(args, cache_dir):
                rows.append(row)
                with args.partial.open("a") as handle:
                    handle.write(json.dumps({**row, "settings": settings}) + "\n")
        if "large" in only and not any(r["setting"] == "large" for r in rows):
            for row in large_graph(args, cache_dir):
                rows.append(row)
                with args.partial.open("a") as handle:
                    handle.write(json.dumps({**row, "settings": settings}) + "\n")
    table = tables(rows)
    print(table)
    if not args.no_write:
        command = "HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/image_features.py " + shlex.join(
            argv if argv is not None else sys.argv[1:]
        )
        setup = (
            f"Setup: torch {torch.__version__}, {args.threads} thread(s), a 2-core CPU shared "
            "with other jobs (times are wall clock and noisy). Training: AdamW lr 0.01, at "
            f"most {args.epochs} epochs, early stopping on validation macro-F1 (patience "
            f"{args.patience}), default model options. Text: TF-IDF (128 dims). 'cnn': "
            "ImageAutoencoder defaults (channels 16-32-32, 128-dim features, 400 steps of "
            "64 images, images at most 32x32), seeded with the run's seed; 'cnn-e2e': "
            "SmallCNN (16-32-64) on the pixels, trained with the model. featurize: the "
            "one-off featurization (both encoders include TF-IDF and reading pixels; 'cnn' "
            "adds training and running the autoencoder, cold cache). epoch: training wall "
            "time / epochs run (a full-batch step plus validation). Test metrics in %, "
            "mean ± std over seeds; times are medians."
        )
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            "# Frozen image features vs end-to-end CNN\n\n"
            f"Command: `{command.strip()}`\n\n{setup}\n\n{table}\n"
        )
        print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
